"""Presence (check-in) risk per check-in and per day, on the same N-level scale as proximity risk.

CWA event registration [docs/specifications.md#cwa-events] (PresenceTracingRiskCalculator): each overlap weighs `TRV(TRL) x overlap minutes`
(rounded half up), summed per (check-in, UTC date) and mapped with the per-check-in mapping, and
summed per date and mapped with the per-day mapping. The total comes from the per-check-in
levels only: the highest level any has; the lowest level when there is nothing; and, as in CWA,
CALCULATION_FAILED when there are overlaps but none of them reaches a level (e.g. all weigh 0).
Per-day levels combine with exposure-window day levels through `combine_day_levels` (CWA risk calculation v2 [docs/specifications.md#cwa-risk]).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.presence.checkin import CheckIn
from tracewarn.protocol.presence.derivation import (
    CWA_TRANSMISSION_RISK_VALUES,
    transmission_risk_value,
)
from tracewarn.protocol.presence.matching import CheckInOverlap, match_check_ins
from tracewarn.protocol.presence.report import ProtectedReport
from tracewarn.protocol.risk.levels import (
    CALCULATION_FAILED,
    CWA_SCALE,
    LevelMapping,
    Range,
    RiskFailure,
    RiskLevelScale,
)
from tracewarn.protocol.risk.presets import FOUR_LEVEL_SCALE

__all__ = [
    "CWA_PRESENCE_RISK_PARAMETERS",
    "FOUR_LEVEL_PRESENCE_RISK_PARAMETERS",
    "CheckInRisk",
    "PresenceRisk",
    "PresenceRiskParameters",
    "check_in_risk",
    "presence_risk",
    "presence_risk_parameters_for",
]

_CWA_MAPPING: Final = LevelMapping.of(
    [(Range(0, 10, min_exclusive=True, max_exclusive=True), "low"), (Range(10, 999999), "high")]
)


@dataclass(frozen=True, slots=True)
class PresenceRiskParameters:
    """CWA `presence-tracing-parameters` risk part, with mappings on any `RiskLevelScale`."""

    per_check_in: LevelMapping = _CWA_MAPPING
    per_day: LevelMapping = _CWA_MAPPING
    transmission_risk_values: Mapping[int, float] = field(
        default_factory=lambda: dict(CWA_TRANSMISSION_RISK_VALUES)
    )
    max_check_in_age_days: int = 10

    def __post_init__(self) -> None:
        if self.per_check_in.scale != self.per_day.scale:
            raise ConfigurationError("per-check-in and per-day mappings must use the same scale")

    @property
    def scale(self) -> RiskLevelScale:
        return self.per_check_in.scale

    @classmethod
    def from_json(cls, obj: Any, scale: RiskLevelScale = CWA_SCALE) -> PresenceRiskParameters:
        """Parse CWA's camelCase form.

        Keys: `transmissionRiskValueMapping` [{transmissionRiskLevel, transmissionRiskValue}],
        `normalizedTimePerCheckInToRiskLevelMapping` and `normalizedTimePerDayToRiskLevelMapping`
        [{normalizedTimeRange, riskLevel}], `maxCheckInAgeInDays`. `riskLevel` is CWA's enum
        (1 LOW, 2 HIGH, i.e. level index + 1) or a level name of `scale`.
        """
        if not isinstance(obj, Mapping):
            raise ConfigurationError("presence risk parameters must be an object")
        try:
            trv = {
                int(e["transmissionRiskLevel"]): float(e["transmissionRiskValue"])
                for e in obj.get("transmissionRiskValueMapping", [])
            } or dict(CWA_TRANSMISSION_RISK_VALUES)
            per_check_in = _mapping(obj["normalizedTimePerCheckInToRiskLevelMapping"], scale)
            per_day = _mapping(obj["normalizedTimePerDayToRiskLevelMapping"], scale)
            age = int(obj.get("maxCheckInAgeInDays", 10))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"malformed presence risk parameters: {exc!r}") from None
        return cls(per_check_in, per_day, trv, age)


def _mapping(entries: Any, scale: RiskLevelScale) -> LevelMapping:
    pairs: list[tuple[Range, int]] = []
    for i, entry in enumerate(entries):
        level = scale.level_from_json(entry["riskLevel"], f"entry {i}.riskLevel")
        pairs.append((Range.from_json(entry["normalizedTimeRange"], where=f"entry {i}"), level))
    return LevelMapping.of(pairs, scale)


CWA_PRESENCE_RISK_PARAMETERS: Final = PresenceRiskParameters()

# The four-level refinement of CWA's check-in thresholds, on the scale proximity risk uses by
# default (risk.presets): `low` is exactly CWA LOW (0, 10); CWA HIGH (>= 10) splits at twice its
# threshold into `elevated` [10, 20) and `high` >= 20 (20 minutes at TRV 1.0, 12.5 at the highest
# TRV 1.6). So four-level elevated-or-high holds if and only if CWA says HIGH; `none` is no overlap.
_FOUR_LEVEL_MAPPING: Final = LevelMapping.of(
    [
        (Range(0, 10, min_exclusive=True, max_exclusive=True), "low"),
        (Range(10, 20, max_exclusive=True), "elevated"),
        (Range(20, 999999), "high"),
    ],
    FOUR_LEVEL_SCALE,
)
FOUR_LEVEL_PRESENCE_RISK_PARAMETERS: Final = PresenceRiskParameters(
    per_check_in=_FOUR_LEVEL_MAPPING, per_day=_FOUR_LEVEL_MAPPING
)


def presence_risk_parameters_for(scale: RiskLevelScale) -> PresenceRiskParameters:
    """The shipped check-in parameters on `scale`, so both risk sources can be combined (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""
    for params in (CWA_PRESENCE_RISK_PARAMETERS, FOUR_LEVEL_PRESENCE_RISK_PARAMETERS):
        if params.scale == scale:
            return params
    raise ConfigurationError(
        f"no shipped check-in risk parameters for levels {list(scale.names)}; "
        "build PresenceRiskParameters with mappings on that scale"
    )


@dataclass(frozen=True, slots=True)
class CheckInRisk:
    """Risk of one check-in on one UTC date; `level` None when no range contains the time."""

    check_in_index: int
    date: dt.date
    normalized_time: float
    level: int | None


@dataclass(frozen=True, slots=True)
class PresenceRisk:
    """The result: per check-in and date, per date, and the total."""

    per_check_in: tuple[CheckInRisk, ...]
    normalized_time_per_day: Mapping[dt.date, float]
    per_day: Mapping[dt.date, int]
    total: int | RiskFailure
    scale: RiskLevelScale

    @property
    def total_name(self) -> str:
        if isinstance(self.total, RiskFailure):
            return "calculation_failed"
        return self.scale.name(self.total)

    def most_recent_date_with_level(self, level: int) -> dt.date | None:
        days = [day for day, lvl in self.per_day.items() if lvl == level]
        return max(days, default=None)


def _overlap_minutes(seconds: int) -> int:
    # Kotlin roundToLong on overlapMillis / 60000: nearest minute, halves up.
    return (seconds + 30) // 60


def presence_risk(
    overlaps: Iterable[CheckInOverlap],
    params: PresenceRiskParameters = CWA_PRESENCE_RISK_PARAMETERS,
) -> PresenceRisk:
    """CWA event registration [docs/specifications.md#cwa-events] risk from matched overlaps, generalised to the mappings' N-level scale."""
    per_check_in_time: dict[tuple[int, dt.date], float] = defaultdict(float)
    for overlap in overlaps:
        weight = transmission_risk_value(
            overlap.transmission_risk_level, params.transmission_risk_values
        )
        per_check_in_time[(overlap.check_in_index, overlap.date)] += weight * _overlap_minutes(
            overlap.seconds
        )

    per_check_in = tuple(
        CheckInRisk(index, day, time, params.per_check_in.level_for(time))
        for (index, day), time in sorted(per_check_in_time.items())
    )
    per_day_time: dict[dt.date, float] = defaultdict(float)
    for risk in per_check_in:
        per_day_time[risk.date] += risk.normalized_time
    per_day: dict[dt.date, int] = {}
    for day in sorted(per_day_time):
        level = params.per_day.level_for(per_day_time[day])
        if level is not None:
            per_day[day] = level

    levels = [r.level for r in per_check_in if r.level is not None]
    total: int | RiskFailure
    if levels:
        total = max(levels)
    elif not per_check_in:
        total = params.scale.lowest
    else:
        total = CALCULATION_FAILED
    return PresenceRisk(
        per_check_in, dict(sorted(per_day_time.items())), per_day, total, params.scale
    )


def check_in_risk(
    check_ins: Sequence[CheckIn],
    reports: Iterable[ProtectedReport],
    now: int,
    params: PresenceRiskParameters = CWA_PRESENCE_RISK_PARAMETERS,
) -> PresenceRisk:
    """One call for the device: match the reports against its check-ins, then score (CWA event registration [docs/specifications.md#cwa-events])."""
    matched = match_check_ins(check_ins, reports, now, max_age_days=params.max_check_in_age_days)
    return presence_risk(matched.overlaps, params)
