"""Check-in risk properties: four levels refine CWA's two, more exposure never lowers a level."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.presence import (
    CWA_PRESENCE_RISK_PARAMETERS,
    FOUR_LEVEL_PRESENCE_RISK_PARAMETERS,
    CheckInOverlap,
    presence_risk,
    presence_risk_parameters_for,
)
from tracewarn.protocol.risk.levels import CWA_SCALE, RiskFailure, RiskLevelScale
from tracewarn.protocol.risk.presets import FOUR_LEVEL_SCALE

DAY = 86_400

overlap = st.builds(
    lambda index, day, start, minutes, trl: CheckInOverlap(
        index, day * DAY + start, day * DAY + start + minutes * 60, trl
    ),
    st.integers(0, 3),
    st.integers(20_000, 20_003),
    st.integers(0, 20 * 3600),
    st.integers(1, 120),
    st.integers(3, 8),
)


@settings(deadline=None)
@given(st.lists(overlap, max_size=8))
def test_four_levels_refine_cwa(overlaps: list[CheckInOverlap]) -> None:
    cwa = presence_risk(overlaps, CWA_PRESENCE_RISK_PARAMETERS)
    four = presence_risk(overlaps, FOUR_LEVEL_PRESENCE_RISK_PARAMETERS)
    names = {"none": None, "low": "low", "elevated": "high", "high": "high"}
    for a, b in zip(cwa.per_check_in, four.per_check_in, strict=True):
        assert (a.check_in_index, a.date) == (b.check_in_index, b.date)
        cwa_name = None if a.level is None else CWA_SCALE.name(a.level)
        four_name = None if b.level is None else names[FOUR_LEVEL_SCALE.name(b.level)]
        assert cwa_name == four_name
    assert {d: CWA_SCALE.name(v) for d, v in cwa.per_day.items()} == {
        d: names[FOUR_LEVEL_SCALE.name(v)] for d, v in four.per_day.items()
    }


@settings(deadline=None)
@given(st.lists(overlap, max_size=8), overlap)
def test_more_exposure_never_lowers_a_level(
    overlaps: list[CheckInOverlap], extra: CheckInOverlap
) -> None:
    params = FOUR_LEVEL_PRESENCE_RISK_PARAMETERS
    before = presence_risk(overlaps, params)
    after = presence_risk([*overlaps, extra], params)
    assert not isinstance(after.total, RiskFailure)  # every TRL here weighs > 0
    assert not isinstance(before.total, RiskFailure)
    assert after.total >= before.total
    for day, level in before.per_day.items():
        assert after.per_day[day] >= level


def test_no_overlap_is_the_lowest_level() -> None:
    assert presence_risk([], FOUR_LEVEL_PRESENCE_RISK_PARAMETERS).total_name == "none"


def test_parameters_for_scale() -> None:
    assert presence_risk_parameters_for(CWA_SCALE) is CWA_PRESENCE_RISK_PARAMETERS
    assert presence_risk_parameters_for(FOUR_LEVEL_SCALE) is FOUR_LEVEL_PRESENCE_RISK_PARAMETERS
    with pytest.raises(ConfigurationError):
        presence_risk_parameters_for(RiskLevelScale(("a", "b", "c")))


@pytest.mark.parametrize(
    ("minutes", "trl", "name"),
    [(5, 5, "low"), (10, 5, "elevated"), (19, 5, "elevated"), (20, 5, "high"), (13, 8, "high")],
)
def test_four_level_thresholds(minutes: int, trl: int, name: str) -> None:
    risk = presence_risk(
        [CheckInOverlap(0, 0, minutes * 60, trl)], FOUR_LEVEL_PRESENCE_RISK_PARAMETERS
    )
    assert risk.total_name == name
