"""A warning agrees with itself: level, advice and explanation, for every level and source."""

from __future__ import annotations

import datetime as dt

import pytest

from tracewarn.device._sync import _notification
from tracewarn.protocol.exposure_window import ExposureWindow, ScanInstance
from tracewarn.protocol.risk import (
    CWA_1_15,
    FOUR_LEVEL_CONFIG,
    CombinedRisk,
    RiskCalculationConfig,
    RiskResult,
    score_exposure_windows,
)

TODAY = dt.date(2026, 11, 20)
DAY = TODAY - dt.timedelta(days=3)


def _proximity(config: RiskCalculationConfig, level: int | None) -> RiskResult:
    """A result whose one day has exactly `level` (None: no window at all)."""
    if level is None:
        return score_exposure_windows([], config)
    for minutes in range(1, 400):
        window = ExposureWindow(
            date=DAY,
            report_type=1,
            infectiousness=2,
            calibration_confidence=2,
            scan_instances=tuple(ScanInstance(50, 50, 60) for _ in range(minutes)),
        )
        result = score_exposure_windows([window], config)
        if result.rated_days and result.level == level:
            return result
    raise AssertionError(f"no window gives level {level}")


CASES = [
    (config, level, source)
    for config in (CWA_1_15, FOUR_LEVEL_CONFIG)
    for level in config.scale
    for source in ("proximity", "check-in", "proximity+check-in")
]


@pytest.mark.parametrize(
    ("config", "level", "source"),
    CASES,
    ids=[f"{len(c.scale)}levels-{c.scale.name(lv)}-{s}" for c, lv, s in CASES],
)
def test_level_advice_and_explanation_tell_one_story(
    config: RiskCalculationConfig, level: int, source: str
) -> None:
    scale = config.scale
    name = scale.name(level).lower()
    rated = "proximity" in source and name != "none"  # no window is rated "none"
    exposure = _proximity(config, level if rated else None)
    presence = {DAY: level} if "check-in" in source else {}
    combined = CombinedRisk.of(
        exposure, max(presence.values(), default=None), presence, scale=scale
    )
    note = _notification(exposure, presence, combined, TODAY, 0)

    if name == "none":  # the four-level scale's lowest level is no warning, whatever the source
        assert (note.level, note.source, note.date) == ("none", "", None)
        assert "No encounters with increased risk" in note.advice
        return
    assert (note.level, note.source, note.date) == (name, source, DAY.isoformat())
    first, *rest = note.explanation.splitlines()
    assert first.startswith(f"Your risk level: {scale.name(level)} ({level + 1} of {len(scale)}")
    # The explanation never states another level as "your" level.
    assert not any(line.startswith("Your risk level") for line in rest)
    near, checked_in = "near someone" in note.advice, "checked in at a place" in note.advice
    assert (near, checked_in) == ("proximity" in source, "check-in" in source)
    assert ("near someone" in note.explanation) == ("proximity" in source)
    assert "checked in at a place" in note.explanation or source == "proximity"
    increased = name in ("high", "elevated")
    assert ("stay at home" in note.advice) == increased
    assert ("watch for symptoms" in note.advice) == (not increased)
    if increased:
        assert "nothing you need to do" not in note.explanation
    if source == "check-in":
        assert f"check-ins alone give the level {scale.name(level)!r}" in note.explanation


def test_no_rated_day_is_no_warning() -> None:
    exposure = _proximity(CWA_1_15, None)
    combined = CombinedRisk.of(exposure, None, {}, scale=CWA_1_15.scale)
    note = _notification(exposure, {}, combined, TODAY, 0)
    assert (note.level, note.source) == ("none", "")
    assert "No encounters with increased risk" in note.advice
    assert "low" not in note.explanation.lower()


def test_a_check_in_warning_above_a_low_proximity_risk_says_so() -> None:
    # The report of the issue: high from a check-in, low from proximity on an earlier day.
    exposure = _proximity(CWA_1_15, 0)
    later = DAY + dt.timedelta(days=1)
    presence = {later: 1}
    combined = CombinedRisk.of(exposure, 1, presence, scale=CWA_1_15.scale)
    note = _notification(exposure, presence, combined, TODAY, 0)
    assert (note.level, note.source, note.date) == ("high", "check-in", later.isoformat())
    assert note.explanation.startswith("Your risk level: high (2 of 2")
    assert "lower level 'low'" in note.explanation
    assert "near someone" not in note.advice and "stay at home" in note.advice
