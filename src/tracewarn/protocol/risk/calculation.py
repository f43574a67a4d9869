"""The exposure-window risk calculation of Corona-Warn-App v2, exact, over N levels.

Theory of operation (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): each window is filtered,
given a transmission risk level (TRL) from its report type and infectiousness, weighted by the
attenuation of each scan, and turned into a normalized time (roughly: minutes at close range
times how infectious the other person probably was). A window whose normalized time has no level
is dropped. Per UTC day the counted windows' normalized times are summed, rounded to one decimal
as Android does (a configuration switch), and mapped to a day level; a day with no level is
ignored. The total is the highest day level. Float operations follow Android's order
(`sum of seconds * weight`, then `/ 60`, then `* TRV`) so that thresholds fall the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from tracewarn.protocol.errors import RiskInputError
from tracewarn.protocol.exposure_window import ExposureWindow, ReportType, ScanInstance
from tracewarn.protocol.risk.config import RiskCalculationConfig
from tracewarn.protocol.risk.presets import DEFAULT_CONFIG
from tracewarn.protocol.risk.result import DayRisk, DropReason, RiskResult, WindowRisk

__all__ = [
    "round_normalized_time",
    "score_exposure_windows",
    "score_window",
    "transmission_risk_level",
]


def round_normalized_time(value: float) -> float:
    """Android's `roundToDecimal`: `roundToLong(value * 10.0) / 10.0` on doubles (CWA risk calculation v2 [docs/specifications.md#cwa-risk]).

    `roundToLong` is Java's `Math.round`: the nearest integer to the binary product, ties toward
    +infinity. Splitting off the integer part is exact for doubles, so the tie test is exact too.
    """
    if not math.isfinite(value):
        raise RiskInputError(f"normalized time {value!r} is not finite")
    scaled = value * 10.0
    floor = math.floor(scaled)
    rounded = floor + 1 if scaled - floor >= 0.5 else floor
    return rounded / 10.0


def transmission_risk_level(window: ExposureWindow, config: RiskCalculationConfig) -> int:
    """TRL = report-type offset + infectiousness offset (CWA risk calculation v2 [docs/specifications.md#cwa-risk] step 2).

    UNKNOWN and REVOKED report types have no offset: Android raises `UnknownReportTypeException`
    and so do we (`RiskInputError`), rather than iOS's silent offset 0.
    """
    offset = config.trl_encoding.report_type_offset(window.report_type)
    if offset is None:
        name = (
            ReportType(window.report_type).name
            if window.report_type in ReportType._value2member_map_
            else str(window.report_type)
        )
        raise RiskInputError(
            f"exposure window of {window.date} has report type {name}, which has no TRL offset "
            "(only CONFIRMED_TEST, CONFIRMED_CLINICAL_DIAGNOSIS, SELF_REPORT, RECURSIVE)"
        )
    return offset + config.trl_encoding.infectiousness_offset(window.infectiousness)


def score_window(window: ExposureWindow, config: RiskCalculationConfig) -> WindowRisk:
    """Score one exposure window (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): its TRL, normalized time and level, or why it was dropped."""
    _check_window(window)
    scans = window.scan_instances
    exposure_seconds = sum(max(s.seconds_since_last_scan, 0) for s in scans)
    base = WindowRisk(
        date=window.date,
        calibration_confidence=window.calibration_confidence,
        exposure_minutes=exposure_seconds / 60,
    )
    # Every filter is evaluated (iOS, and what the parameters mean); Android stops after the
    # first. Minutes are fractional, as on Android. Production 1.15 has no filters at all.
    for rule in config.minutes_at_attenuation_filters:
        seconds = sum(
            max(s.seconds_since_last_scan, 0)
            for s in scans
            if s.min_attenuation in rule.attenuation_range
        )
        if seconds / 60 in rule.drop_if_minutes_in_range:
            return _replace(base, dropped=DropReason.MINUTES_AT_ATTENUATION)

    trl = transmission_risk_level(window, config)
    if any(trl in rule.drop_if_trl_in_range for rule in config.trl_filters):
        return _replace(base, trl=trl, dropped=DropReason.TRANSMISSION_RISK_LEVEL)

    weighted_seconds = 0.0
    for scan in scans:
        weighted_seconds += max(scan.seconds_since_last_scan, 0) * config.weight_for(
            scan.min_attenuation
        )
    weighted_minutes = weighted_seconds / 60
    normalized_time = config.transmission_risk_value(trl) * weighted_minutes
    level = config.window_levels.level_for(normalized_time)
    return WindowRisk(
        date=window.date,
        calibration_confidence=window.calibration_confidence,
        exposure_minutes=base.exposure_minutes,
        transmission_risk_level=trl,
        weighted_minutes=weighted_minutes,
        normalized_time=normalized_time,
        level=level,
        dropped=DropReason.NO_WINDOW_LEVEL if level is None else None,
    )


def score_exposure_windows(
    windows: Iterable[ExposureWindow], config: RiskCalculationConfig = DEFAULT_CONFIG
) -> RiskResult:
    """Score a device's exposure windows: per window, per UTC day and in total (CWA risk calculation v2 [docs/specifications.md#cwa-risk]).

    With a two-level configuration every field equals CWA's `AggregatedRiskResult`. Windows are
    summed per day in the order given, as Android does, so float sums match bit for bit.
    """
    scale = config.scale
    by_day: dict[dt.date, list[WindowRisk]] = {}
    for window in windows:
        scored = score_window(window, config)
        by_day.setdefault(scored.date, []).append(scored)

    days: list[DayRisk] = []
    for date in sorted(by_day, reverse=True):
        scored_windows = by_day[date]
        counted = [w for w in scored_windows if w.level is not None]
        total = 0.0
        for w in counted:
            total += w.normalized_time
        day_time = round_normalized_time(total) if config.round_per_day else total
        encounters = tuple(
            len(
                {
                    (w.transmission_risk_level, w.calibration_confidence)
                    for w in counted
                    if w.level == i
                }
            )
            for i in scale
        )
        days.append(
            DayRisk(
                date=date,
                normalized_time=day_time,
                unrounded_normalized_time=total,
                level=config.day_levels.level_for(day_time),
                distinct_encounters=encounters,
                windows=tuple(scored_windows),
            )
        )

    rated = [day for day in days if day.level is not None]
    return RiskResult(
        scale=scale,
        day_levels=config.day_levels,
        level=max((day.level for day in rated if day.level is not None), default=0),
        days=tuple(days),
        most_recent_dates=tuple(
            max((day.date for day in rated if day.level == i), default=None) for i in scale
        ),
        days_per_level=tuple(sum(1 for day in rated if day.level == i) for i in scale),
        distinct_encounters=tuple(sum(day.distinct_encounters[i] for day in rated) for i in scale),
    )


def _replace(base: WindowRisk, *, dropped: DropReason, trl: int | None = None) -> WindowRisk:
    return WindowRisk(
        date=base.date,
        calibration_confidence=base.calibration_confidence,
        exposure_minutes=base.exposure_minutes,
        transmission_risk_level=trl,
        dropped=dropped,
    )


def _check_window(window: ExposureWindow) -> None:
    if not isinstance(window, ExposureWindow):
        raise RiskInputError(f"expected an ExposureWindow, got {type(window).__name__}")
    if not isinstance(window.date, dt.date) or isinstance(window.date, dt.datetime):
        raise RiskInputError(
            f"exposure window date must be a date (a UTC day), got {window.date!r}"
        )
    for name in ("report_type", "infectiousness", "calibration_confidence"):
        value = getattr(window, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RiskInputError(f"exposure window {name} must be an integer, got {value!r}")
    for scan in window.scan_instances:
        if not isinstance(scan, ScanInstance):
            raise RiskInputError(f"expected a ScanInstance, got {type(scan).__name__}")
        for name in ("min_attenuation", "typical_attenuation", "seconds_since_last_scan"):
            value = getattr(scan, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RiskInputError(f"scan instance {name} must be an integer, got {value!r}")
