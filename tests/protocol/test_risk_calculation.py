"""Exposure-window risk calculation (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): examples and Hypothesis properties."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tracewarn.protocol.errors import RiskInputError
from tracewarn.protocol.exposure_window import (
    ExposureWindow,
    Infectiousness,
    ReportType,
    ScanInstance,
)
from tracewarn.protocol.risk import (
    CWA_1_15,
    FOUR_LEVEL_CONFIG,
    AttenuationWeight,
    DropReason,
    LevelMapping,
    MinutesAtAttenuationFilter,
    Range,
    RiskCalculationConfig,
    RiskResult,
    TrlFilter,
    exposure_window_from_json,
    exposure_window_to_json,
    exposure_windows_from_json,
    round_normalized_time,
    score_exposure_windows,
    score_window,
)

TODAY = dt.date(2026, 11, 29)

# The older CWA parameter set (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): its weights fall as attenuation grows.
HISTORICAL = RiskCalculationConfig(
    minutes_at_attenuation_weights=(
        AttenuationWeight(Range(0, 55, max_exclusive=True), 1.0),
        AttenuationWeight(Range(55, 63, max_exclusive=True), 0.5),
        AttenuationWeight(Range(63, 73, max_exclusive=True), 0.3),
    ),
    window_levels=LevelMapping(((Range(5, 15, max_exclusive=True), 0), (Range(15, 9999), 1))),
    day_levels=LevelMapping(((Range(5, 15, max_exclusive=True), 0), (Range(15, 9999), 1))),
    transmission_risk_values=CWA_1_15.transmission_risk_values,
    round_per_day=False,
)
CONFIGS = [CWA_1_15, CWA_1_15.with_rounding(False), FOUR_LEVEL_CONFIG, HISTORICAL]


def window(
    *scans: tuple[int, int],
    date: dt.date = TODAY,
    report_type: int = ReportType.CONFIRMED_TEST,
    infectiousness: int = Infectiousness.HIGH,
    calibration: int = 0,
) -> ExposureWindow:
    """A window from (minAttenuation, secondsSinceLastScan) pairs."""
    return ExposureWindow(
        date=date,
        report_type=report_type,
        infectiousness=infectiousness,
        calibration_confidence=calibration,
        scan_instances=tuple(ScanInstance(att, att, sec) for att, sec in scans),
    )


# --- per-window algorithm ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report_type", "infectiousness", "trl"),
    [
        (ReportType.RECURSIVE, Infectiousness.STANDARD, 1),
        (ReportType.RECURSIVE, Infectiousness.HIGH, 2),
        (ReportType.SELF_REPORT, Infectiousness.STANDARD, 3),
        (ReportType.SELF_REPORT, Infectiousness.HIGH, 4),
        (ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, Infectiousness.STANDARD, 5),
        (ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, Infectiousness.HIGH, 6),
        (ReportType.CONFIRMED_TEST, Infectiousness.STANDARD, 7),
        (ReportType.CONFIRMED_TEST, Infectiousness.HIGH, 8),
        (ReportType.CONFIRMED_TEST, Infectiousness.NONE, 7),  # NONE counts as standard
    ],
)
def test_trl_encoding_table(report_type: int, infectiousness: int, trl: int) -> None:
    scored = score_window(
        window((50, 60), report_type=report_type, infectiousness=infectiousness), CWA_1_15
    )
    assert scored.transmission_risk_level == trl


@pytest.mark.parametrize("report_type", [ReportType.UNKNOWN, ReportType.REVOKED, 9])
def test_unmapped_report_type_is_a_typed_error(report_type: int) -> None:
    with pytest.raises(RiskInputError, match="no TRL offset"):
        score_exposure_windows([window((50, 60), report_type=report_type)], CWA_1_15)


def test_normalized_time_and_clamping() -> None:
    # TRL 8 (TRV 1.6); 300 s at 62 dB (0.8), 120 s at 70 dB (1.0), 60 s at 75 dB (0.1),
    # 600 s at 80 dB (no weight) and -300 s (clamped to 0).
    scored = score_window(window((62, 300), (70, 120), (75, 60), (80, 600), (62, -300)), CWA_1_15)
    weighted = (300 * 0.8 + 120 * 1.0 + 60 * 0.1 + 0.0 + 0.0) / 60
    assert scored.weighted_minutes == weighted
    assert scored.normalized_time == 1.6 * weighted
    assert scored.exposure_minutes == (300 + 120 + 60 + 600) / 60
    assert scored.normalized_time == pytest.approx(9.76)
    assert scored.level == 1  # 9.76 >= 9: a high-risk window


def test_window_level_boundary_is_exclusive_at_nine() -> None:
    # TRV 1.0 (TRL 5) at 63..72 dB (weight 1.0): 9 minutes is exactly 9 -> HIGH window.
    nine = window((65, 540), report_type=ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, infectiousness=1)
    below = window((65, 539), report_type=ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, infectiousness=1)
    assert score_window(nine, CWA_1_15).level == 1
    assert score_window(below, CWA_1_15).level == 0


def test_filters_drop_windows_and_say_why() -> None:
    base = CWA_1_15
    config = dataclasses.replace(
        base,
        minutes_at_attenuation_filters=(
            MinutesAtAttenuationFilter(Range(0, 50), Range(1000, 2000)),  # never drops
            MinutesAtAttenuationFilter(
                Range(0, 79, max_exclusive=True), Range(0, 5, max_exclusive=True)
            ),
        ),
        trl_filters=(TrlFilter(Range(1, 2)),),
    )
    # Android stops after the first filter; we evaluate every filter (documented deviation).
    short = score_window(window((60, 240)), config)
    assert short.dropped is DropReason.MINUTES_AT_ATTENUATION
    assert short.level is None and short.transmission_risk_level is None
    low_trl = score_window(window((60, 600), report_type=ReportType.RECURSIVE), config)
    assert low_trl.dropped is DropReason.TRANSMISSION_RISK_LEVEL
    assert low_trl.transmission_risk_level == 2
    kept = score_window(window((60, 600)), config)
    assert kept.dropped is None and kept.level is not None


def test_window_without_level_is_dropped_and_not_summed() -> None:
    # Historical set: windows below 5 normalized minutes have no level and do not reach the day.
    tiny = [window((40, 120), calibration=c) for c in range(3)]  # 1.6 * 2 min = 3.2 each
    result = score_exposure_windows(tiny, HISTORICAL)
    day = result.days[0]
    assert all(w.dropped is DropReason.NO_WINDOW_LEVEL for w in day.windows)
    assert day.normalized_time == 0.0 and day.level is None
    assert result.level == 0 and result.rated_days == ()


# --- per-day aggregation and totals -------------------------------------------------------


def test_per_day_aggregation_encounters_and_dates() -> None:
    d0, d1, d3 = TODAY, TODAY - dt.timedelta(days=1), TODAY - dt.timedelta(days=3)
    windows = [
        window((65, 300), date=d1),  # 8.0 -> low window
        window((65, 300), date=d1),  # same (TRL, calibration): one encounter
        window((65, 300), date=d1, calibration=1),  # distinct
        window((65, 240), date=d3),  # 6.4 -> low day
        window((65, 120), date=d0),  # 3.2 -> day below 5: ignored
    ]
    result = score_exposure_windows(windows, CWA_1_15)
    assert [day.date for day in result.days] == [d0, d1, d3]
    assert result.level == 1
    assert result.most_recent_dates == (d3, d1)
    assert result.days_per_level == (1, 1)
    assert result.days[1].distinct_encounters == (2, 0)
    # Day d0 has no level, so its encounter is in no total (Android skips such days).
    assert result.days[0].level is None and result.days[0].distinct_encounters == (1, 0)
    assert result.distinct_encounters == (3, 0)
    cwa = result.cwa_fields(TODAY)
    assert cwa["expAgeOfMostRecentDateWithHighRisk"] == 1
    assert cwa["expAgeOfMostRecentDateWithLowRisk"] == 3


def test_empty_input_is_lowest_level() -> None:
    result = score_exposure_windows([], FOUR_LEVEL_CONFIG)
    assert result.level == 0 and result.level_name == "none"
    assert result.most_recent_dates == (None, None, None, None)


def test_three_times_1_2_rounds_to_3_6() -> None:
    # The reason for EXPOSUREAPP-12211: summing 1.2 three times is not 3.6 in doubles.
    assert 1.2 + 1.2 + 1.2 != 3.6
    assert round_normalized_time(1.2 + 1.2 + 1.2) == 3.6


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (0.0, 0.0),
        (8.95, 9.0),
        (8.94, 8.9),
        (0.05, 0.1),
        (0.25, 0.3),
        (4.999999, 5.0),
        (12.34, 12.3),
    ],
)
def test_rounding_table(value: float, rounded: float) -> None:
    assert round_normalized_time(value) == rounded


def test_rounding_rejects_non_finite() -> None:
    with pytest.raises(RiskInputError):
        round_normalized_time(math.nan)


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_rounding_is_java_math_round_of_the_binary_product(value: float) -> None:
    """roundToLong(x * 10.0) / 10.0: nearest integer to the double product, ties toward +inf."""
    product = Fraction(value * 10.0)
    expected = math.floor(product + Fraction(1, 2)) / 10.0
    assert round_normalized_time(value) == expected
    assert abs(round_normalized_time(value) - value) <= 0.05 + 1e-9 * max(1.0, value)
    assert round_normalized_time(round_normalized_time(value)) == round_normalized_time(value)


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_rounding_is_monotone(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert round_normalized_time(lo) <= round_normalized_time(hi)


# --- Hypothesis properties ----------------------------------------------------------------

scans = st.tuples(st.integers(0, 100), st.integers(-60, 300))
windows_strategy = st.builds(
    lambda age, rt, inf, cc, ss: window(
        *ss,
        date=TODAY - dt.timedelta(days=age),
        report_type=rt,
        infectiousness=inf,
        calibration=cc,
    ),
    st.integers(0, 3),
    st.sampled_from([1, 2, 3, 4]),
    st.integers(0, 2),
    st.integers(0, 3),
    st.lists(scans, max_size=8),
)
window_lists = st.lists(windows_strategy, max_size=8)
configs = st.sampled_from(CONFIGS)


def rank(level: int | None) -> int:
    return -1 if level is None else level


def day_ranks(result: RiskResult) -> dict[dt.date, int]:
    return {day.date: rank(day.level) for day in result.days}


def assert_not_lower(before: RiskResult, after: RiskResult) -> None:
    assert after.level >= before.level
    after_days = day_ranks(after)
    for date, level in day_ranks(before).items():
        assert after_days[date] >= level


@settings(max_examples=200)
@given(window_lists, windows_strategy, configs)
def test_adding_a_window_never_lowers_a_level(
    windows: list[ExposureWindow], extra: ExposureWindow, config: RiskCalculationConfig
) -> None:
    assert_not_lower(
        score_exposure_windows(windows, config), score_exposure_windows([*windows, extra], config)
    )


@settings(max_examples=200)
@given(window_lists, st.data(), scans, configs)
def test_adding_exposure_minutes_to_a_window_never_lowers_a_level(
    windows: list[ExposureWindow],
    data: st.DataObject,
    scan: tuple[int, int],
    config: RiskCalculationConfig,
) -> None:
    assume(windows)
    index = data.draw(st.integers(0, len(windows) - 1))
    target = windows[index]
    att, seconds = scan
    longer = dataclasses.replace(
        target,
        scan_instances=(*target.scan_instances, ScanInstance(att, att, abs(seconds))),
    )
    grown = [*windows[:index], longer, *windows[index + 1 :]]
    assert_not_lower(score_exposure_windows(windows, config), score_exposure_windows(grown, config))


# Configurations whose weights never rise with attenuation (the historical set does not; CWA
# 1.15 does: 0.8 below 63 dB but 1.0 at 63..72, see the next test).
monotone_weight_configs = st.builds(
    lambda w1, w2, w3, rounding: dataclasses.replace(
        HISTORICAL,
        minutes_at_attenuation_weights=(
            AttenuationWeight(Range(0, 55, max_exclusive=True), max(w1, w2, w3)),
            AttenuationWeight(Range(55, 63, max_exclusive=True), sorted((w1, w2, w3))[1]),
            AttenuationWeight(Range(63, 73, max_exclusive=True), min(w1, w2, w3)),
        ),
        round_per_day=rounding,
    ),
    st.floats(0, 2),
    st.floats(0, 2),
    st.floats(0, 2),
    st.booleans(),
)


@settings(max_examples=200)
@given(window_lists, st.data(), monotone_weight_configs)
def test_larger_attenuation_never_raises_a_level(
    windows: list[ExposureWindow], data: st.DataObject, config: RiskCalculationConfig
) -> None:
    assume(any(w.scan_instances for w in windows))
    index = data.draw(st.sampled_from([i for i, w in enumerate(windows) if w.scan_instances]))
    target = windows[index]
    scan_index = data.draw(st.integers(0, len(target.scan_instances) - 1))
    bump = data.draw(st.integers(1, 60))
    old = target.scan_instances[scan_index]
    new = ScanInstance(
        old.min_attenuation + bump, old.typical_attenuation, old.seconds_since_last_scan
    )
    scans_after = list(target.scan_instances)
    scans_after[scan_index] = new
    weaker = dataclasses.replace(target, scan_instances=tuple(scans_after))
    attenuated = [*windows[:index], weaker, *windows[index + 1 :]]
    assert_not_lower(
        score_exposure_windows(attenuated, config), score_exposure_windows(windows, config)
    )


def test_cwa_1_15_weights_are_not_monotone_in_attenuation() -> None:
    """Documented quirk: moving from 62 to 63 dB raises the weight from 0.8 to 1.0."""
    near = score_exposure_windows([window((62, 360))], CWA_1_15)  # 1.6 * 6 * 0.8 = 7.68
    farther = score_exposure_windows([window((63, 360))], CWA_1_15)  # 1.6 * 6 * 1.0 = 9.6
    assert (near.level, farther.level) == (0, 1)


@given(st.lists(st.floats(0, 99999), min_size=2, max_size=2))
def test_four_level_mappings_are_monotone(values: list[float]) -> None:
    lo, hi = sorted(values)
    for mapping in (FOUR_LEVEL_CONFIG.day_levels, FOUR_LEVEL_CONFIG.window_levels):
        if hi <= mapping.entries[-1][0].max:
            assert rank(mapping.level_for(lo)) <= rank(mapping.level_for(hi))


@settings(max_examples=200)
@given(window_lists)
def test_four_level_refines_cwa(windows: list[ExposureWindow]) -> None:
    cwa = score_exposure_windows(windows, CWA_1_15)
    four = score_exposure_windows(windows, FOUR_LEVEL_CONFIG)
    assert (four.level >= 2) == (cwa.level == 1)
    assert (four.level == 0) == (not cwa.rated_days)
    assert [d.date for d in four.rated_days] == [d.date for d in cwa.rated_days]


@given(window_lists, configs)
def test_only_the_day_sum_is_rounded(
    windows: list[ExposureWindow], config: RiskCalculationConfig
) -> None:
    result = score_exposure_windows(windows, config)
    for day in result.days:
        total = 0.0
        for w in day.windows:
            if w.level is not None:
                total += w.normalized_time
        assert day.unrounded_normalized_time == total
        expected = round_normalized_time(total) if config.round_per_day else total
        assert day.normalized_time == expected


# --- JSON windows ------------------------------------------------------------------------


def test_window_json_round_trip_and_date_forms() -> None:
    w = window((30, 300), date=TODAY - dt.timedelta(days=2))
    as_json = exposure_window_to_json(w, today=TODAY)
    assert as_json["ageInDays"] == 2
    assert exposure_window_from_json(as_json, today=TODAY) == w
    by_date = {k: v for k, v in as_json.items() if k != "ageInDays"} | {"date": "2026-11-27"}
    assert exposure_window_from_json(by_date, today=TODAY) == w
    millis = (w.date - dt.date(1970, 1, 1)).days * 86_400_000
    by_millis = {k: v for k, v in by_date.items() if k != "date"} | {"dateMillisSinceEpoch": millis}
    assert exposure_window_from_json(by_millis, today=TODAY) == w
    assert exposure_windows_from_json({"exposureWindows": [as_json]}, today=TODAY) == (w,)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"reportType": 6}, "reportType"),
        ({"infectiousness": "high"}, "infectiousness"),
        ({"calibrationConfidence": 4}, "calibrationConfidence"),
        ({"ageInDays": -1}, "ageInDays"),
        ({"date": "2026-11-27"}, "exactly one"),
        ({"scanInstances": {}}, "must be a list"),
        (
            {
                "scanInstances": [
                    {"minAttenuation": 300, "typicalAttenuation": 1, "secondsSinceLastScan": 1}
                ]
            },
            "minAttenuation",
        ),
        ({"scanInstances": [{"minAttenuation": 3, "typicalAttenuation": 1}]}, "missing"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_bad_window_json_is_a_typed_error(patch: dict[str, object], message: str) -> None:
    base = exposure_window_to_json(window((30, 300)), today=TODAY)
    with pytest.raises(RiskInputError, match=message):
        exposure_window_from_json(base | patch, today=TODAY)


def test_not_midnight_millis_rejected() -> None:
    base = exposure_window_to_json(window((30, 300)), today=TODAY)
    del base["ageInDays"]
    with pytest.raises(RiskInputError, match="midnight"):
        exposure_window_from_json(base | {"dateMillisSinceEpoch": 1000}, today=TODAY)


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=5), c),
        max_leaves=10,
    )
)
def test_any_json_gives_windows_or_a_typed_error(obj: object) -> None:
    try:
        windows = exposure_windows_from_json(obj, today=TODAY)
    except RiskInputError:
        return
    score_exposure_windows(windows, CWA_1_15)
