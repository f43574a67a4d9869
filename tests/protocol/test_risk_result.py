"""Risk results: explanations a device can show, JSON form, and combination with check-in risk."""

from __future__ import annotations

import datetime as dt

import pytest

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.exposure_window import ExposureWindow, ScanInstance
from tracewarn.protocol.risk import (
    CALCULATION_FAILED,
    CWA_1_15,
    CWA_SCALE,
    FOUR_LEVEL_CONFIG,
    FOUR_LEVEL_SCALE,
    CombinedRisk,
    describe_day,
    score_exposure_windows,
)

TODAY = dt.date(2026, 11, 29)  # a Sunday


def close_window(minutes: int, age: int, calibration: int = 0) -> ExposureWindow:
    """TRL 8 (TRV 1.6) at 65 dB (weight 1.0): normalized time 1.6 x minutes."""
    return ExposureWindow(
        date=TODAY - dt.timedelta(days=age),
        report_type=1,
        infectiousness=2,
        calibration_confidence=calibration,
        scan_instances=tuple(ScanInstance(65, 65, 60) for _ in range(minutes)),
    )


def test_explanation_green_with_low_risk_encounters() -> None:
    # 4 minutes -> 6.4 on one day: CWA LOW, four-level "low".
    result = score_exposure_windows([close_window(4, 2)], FOUR_LEVEL_CONFIG)
    text = result.explain(TODAY)
    assert text.startswith("Your risk level: low (2 of 4: none < low < elevated < high).")
    assert "Friday 27 November 2026 (2 days ago)" in text
    assert "not 'elevated'" in text
    assert "at least 9 risk-weighted minutes on one day" in text
    assert "your highest day had 6.4 risk-weighted minutes" in text
    assert "never the time of day or the place" in text


def test_explanation_highest_level_names_the_threshold() -> None:
    result = score_exposure_windows([close_window(10, 0), close_window(1, 4)], FOUR_LEVEL_CONFIG)
    assert result.level_name == "high"
    text = result.explain(TODAY)
    assert "Sunday 29 November 2026 (today)" in text
    assert "16 risk-weighted minutes" in text
    assert "at least 15 risk-weighted minutes on one day" in text
    assert "Wednesday 25 November 2026 (4 days ago): only very brief" not in text
    assert "Wednesday 25 November 2026 (4 days ago): 1 encounter adding up to 1.6" in text


def test_explanation_nothing_to_do() -> None:
    assert "nothing you need to do" in score_exposure_windows([], FOUR_LEVEL_CONFIG).explain(TODAY)
    text = score_exposure_windows([close_window(1, 1)], FOUR_LEVEL_CONFIG).explain(TODAY)
    assert "Your risk level: none" in text
    assert "brief or distant sightings on 1 day (most recently Saturday 28 November 2026" in text


def test_describe_day_for_a_day_without_counted_windows() -> None:
    far = ExposureWindow(TODAY, 1, 2, 0, (ScanInstance(90, 90, 300),))
    no_trv = ExposureWindow(TODAY, 4, 1, 0, (ScanInstance(60, 60, 300),))  # TRL 1, TRV 0
    historical = score_exposure_windows([far], CWA_1_15)
    line = describe_day(historical, historical.days[0], TODAY)
    assert "1 encounter adding up to 0 risk-weighted minutes" in line
    assert score_exposure_windows([no_trv], CWA_1_15).days[0].level is None


def test_to_json_carries_per_level_and_per_day_detail() -> None:
    result = score_exposure_windows(
        [close_window(4, 2), close_window(7, 1), close_window(7, 1, calibration=1)],
        FOUR_LEVEL_CONFIG,
    )
    out = result.to_json(TODAY)
    assert out["level"] == "high" and out["levels"] == list(FOUR_LEVEL_SCALE.names)
    assert out["perLevel"]["low"] == {
        "mostRecentDate": "2026-11-27",
        "days": 1,
        "distinctEncounters": 1,
    }
    assert out["perLevel"]["high"]["mostRecentDate"] == "2026-11-28"
    assert out["days"][0]["ageInDays"] == 1
    assert out["days"][0]["distinctEncounters"]["elevated"] == 2
    assert "cwa" not in out
    cwa = score_exposure_windows([close_window(4, 2)], CWA_1_15).to_json(TODAY)["cwa"]
    assert cwa["expTotalRiskLevel"] == 1 and cwa["expAgeOfMostRecentDateWithLowRisk"] == 2
    with pytest.raises(ConfigurationError):
        result.cwa_fields(TODAY)


def test_combination_with_check_in_risk_cwa_semantics() -> None:
    low = score_exposure_windows([close_window(4, 2)], CWA_1_15)
    high = score_exposure_windows([close_window(7, 1)], CWA_1_15)
    d = TODAY - dt.timedelta(days=2)
    assert CombinedRisk.of(low, 0, scale=CWA_SCALE).level == 0
    assert CombinedRisk.of(low, 1, scale=CWA_SCALE).level == 1
    assert CombinedRisk.of(high, 0, scale=CWA_SCALE).level == 1
    assert CombinedRisk.of(high, None, scale=CWA_SCALE).level == 1
    failed = CombinedRisk.of(high, CALCULATION_FAILED, scale=CWA_SCALE)
    assert failed.failed and failed.level is CALCULATION_FAILED
    assert CombinedRisk.of(CALCULATION_FAILED, 1, {d: 1}, scale=CWA_SCALE).failed
    combined = CombinedRisk.of(low, 1, {d: 1, TODAY: 0}, scale=CWA_SCALE)
    assert combined.day_levels == {d: 1, TODAY: 0}


def test_combination_on_four_levels_and_scale_mismatch() -> None:
    elevated = score_exposure_windows([close_window(7, 1)], FOUR_LEVEL_CONFIG)
    assert elevated.level_name == "elevated"
    assert CombinedRisk.of(elevated, 1, scale=FOUR_LEVEL_SCALE).level == 2
    assert CombinedRisk.of(elevated, 3, scale=FOUR_LEVEL_SCALE).level == 3
    with pytest.raises(ConfigurationError, match="uses levels"):
        CombinedRisk.of(elevated, 1, scale=CWA_SCALE)
    with pytest.raises(ConfigurationError):
        CombinedRisk.of(elevated, 4, scale=FOUR_LEVEL_SCALE)
