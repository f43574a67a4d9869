"""Presence tracing layer: co-presence, check-in warnings through the check-in risk rules."""

from __future__ import annotations

import numpy as np

from tracewarn.protocol.presence.matching import CheckInOverlap
from tracewarn.protocol.presence.risk import FOUR_LEVEL_PRESENCE_RISK_PARAMETERS, presence_risk
from tracewarn.protocol.risk import FOUR_LEVEL_SCALE
from tracewarn.sim.epidemic import build_people, preset, run
from tracewarn.sim.epidemic.presence import DAY, Presence, Visits


def test_co_presence_overlaps() -> None:
    # Place 0: 10:00-11:00 and 10:30-12:00 overlap 30 min; place 1 alone; place 0 at 13:00 apart.
    visits = Visits(
        person=np.array([0, 1, 2, 3]),
        place=np.array([0, 0, 1, 0]),
        start=np.array([36000, 37800, 36000, 46800]),
        end=np.array([39600, 43200, 39600, 48000]),
    )
    a, b, overlap = visits.co_present(np.arange(4))
    pairs = {
        (int(visits.person[i]), int(visits.person[j])): int(o)
        for i, j, o in zip(a, b, overlap, strict=True)
    }
    assert pairs == {(0, 1): 1800, (1, 0): 1800}


def test_check_in_levels_are_presence_risk() -> None:
    p = preset("tracewarn", population=500, seed=1)
    presence = Presence(p, build_people(p), FOUR_LEVEL_SCALE)
    overlaps = [(7, 1, 2 * DAY + 100, 2 * DAY + 100 + 900, 8), (7, 2, 2 * DAY, 2 * DAY + 300, 6)]
    presence._overlaps = list(overlaps)
    expected = presence_risk(
        [CheckInOverlap(c, s, e, t) for _, c, s, e, t in overlaps],
        FOUR_LEVEL_PRESENCE_RISK_PARAMETERS,
    ).total
    assert presence.levels(np.array([7]), 3).tolist() == [expected]
    assert expected > 0


def test_check_ins_warn_where_bluetooth_hears_nothing() -> None:
    # Phones 500 m apart never hear each other: every warning comes from check-ins.
    far = preset(
        "tracewarn", population=4000, days=40, seed=2, uptake_scale=1.0,
        distance_m=(500.0, 500.0, 500.0), place_visit_probability=0.6,
    )  # fmt: skip
    with_places = run(far)
    assert with_places["exposure_windows"] > 0
    assert with_places["warnings"] > 0
    without = run(far.with_(place_visit_probability=0.0))
    assert without["warnings"] == 0
