"""What risk scoring returns: per-window and per-day detail and the total, ready to show or store.

A result holds only what the device already had: dates (UTC days), transmission risk levels,
calibration confidences and numbers. No time of day, no place, no key: nothing links it to a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.risk.levels import (
    CWA_SCALE,
    LevelMapping,
    RiskFailure,
    RiskLevelScale,
    combine_day_levels,
    combine_levels,
)

__all__ = ["CombinedRisk", "DayRisk", "DropReason", "RiskResult", "WindowRisk"]


class DropReason(Enum):
    """Why a window did not count (CWA risk calculation v2 [docs/specifications.md#cwa-risk] steps 1, 3 and 7)."""

    MINUTES_AT_ATTENUATION = "minutes-at-attenuation filter"
    TRANSMISSION_RISK_LEVEL = "transmission-risk-level filter"
    NO_WINDOW_LEVEL = "no level for its normalized time"


@dataclass(frozen=True, slots=True)
class WindowRisk:
    """One exposure window scored (CWA risk calculation v2 [docs/specifications.md#cwa-risk]). `level` is None exactly when `dropped` says why."""

    date: dt.date
    calibration_confidence: int
    exposure_minutes: float
    transmission_risk_level: int | None = None
    weighted_minutes: float = 0.0
    normalized_time: float = 0.0
    level: int | None = None
    dropped: DropReason | None = None

    @property
    def counts(self) -> bool:
        return self.level is not None


@dataclass(frozen=True, slots=True)
class DayRisk:
    """One UTC day (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): the sum of its counted windows, its level and distinct encounters.

    `level` None means the day's sum stayed below every day range: CWA ignores such a day in
    every total. `distinct_encounters[i]` counts distinct (TRL, calibration confidence) pairs among
    the day's windows of window level i.
    """

    date: dt.date
    normalized_time: float
    unrounded_normalized_time: float
    level: int | None
    distinct_encounters: tuple[int, ...]
    windows: tuple[WindowRisk, ...]

    @property
    def counted_windows(self) -> int:
        return sum(1 for w in self.windows if w.counts)


@dataclass(frozen=True, slots=True)
class RiskResult:
    """Total exposure-window risk (CWA risk calculation v2 [docs/specifications.md#cwa-risk] "Totals"), generalised to the configuration's levels.

    Per level i: `most_recent_dates[i]` (latest day whose day level is i), `days_per_level[i]`,
    `distinct_encounters[i]` (summed over days that have a level). `days` lists every day with at
    least one window, newest first, including days without a level, so a device can say what
    happened on each.
    """

    scale: RiskLevelScale
    day_levels: LevelMapping
    level: int
    days: tuple[DayRisk, ...]
    most_recent_dates: tuple[dt.date | None, ...]
    days_per_level: tuple[int, ...]
    distinct_encounters: tuple[int, ...]

    @property
    def level_name(self) -> str:
        return self.scale.name(self.level)

    @property
    def rated_days(self) -> tuple[DayRisk, ...]:
        return tuple(day for day in self.days if day.level is not None)

    def day_levels_by_date(self) -> dict[dt.date, int]:
        """The level of every day that has one, for combining with check-in day risk."""
        return {day.date: day.level for day in self.days if day.level is not None}

    def cwa_fields(self, today: dt.date) -> dict[str, Any]:
        """The CWA test-case fields (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): levels 1/2, ages in days before `today`."""
        if len(self.scale) != len(CWA_SCALE):
            raise ConfigurationError(
                f"CWA LOW/HIGH fields need a two-level configuration, not {list(self.scale.names)}"
            )

        def age(date: dt.date | None) -> int | None:
            return None if date is None else (today - date).days

        return {
            "expTotalRiskLevel": self.level + 1,
            "expAgeOfMostRecentDateWithLowRisk": age(self.most_recent_dates[0]),
            "expAgeOfMostRecentDateWithHighRisk": age(self.most_recent_dates[1]),
            "expNumberOfDaysWithLowRisk": self.days_per_level[0],
            "expNumberOfDaysWithHighRisk": self.days_per_level[1],
            "expTotalMinimumDistinctEncountersWithLowRisk": self.distinct_encounters[0],
            "expTotalMinimumDistinctEncountersWithHighRisk": self.distinct_encounters[1],
        }

    def to_json(self, today: dt.date | None = None) -> dict[str, Any]:
        """A JSON-ready summary; with `today`, dates also get their age in days."""

        def date(value: dt.date | None) -> str | None:
            return None if value is None else value.isoformat()

        out: dict[str, Any] = {
            "level": self.level_name,
            "levelIndex": self.level,
            "levels": list(self.scale.names),
            "perLevel": {
                name: {
                    "mostRecentDate": date(self.most_recent_dates[i]),
                    "days": self.days_per_level[i],
                    "distinctEncounters": self.distinct_encounters[i],
                }
                for i, name in enumerate(self.scale.names)
            },
            "days": [
                {
                    "date": day.date.isoformat(),
                    **({"ageInDays": (today - day.date).days} if today else {}),
                    "level": None if day.level is None else self.scale.name(day.level),
                    "normalizedTime": day.normalized_time,
                    "windows": len(day.windows),
                    "countedWindows": day.counted_windows,
                    "distinctEncounters": dict(
                        zip(self.scale.names, day.distinct_encounters, strict=True)
                    ),
                }
                for day in self.days
            ],
        }
        if len(self.scale) == len(CWA_SCALE) and today is not None:
            out["cwa"] = self.cwa_fields(today)
        return out

    def explain(self, today: dt.date) -> str:
        """Plain-language explanation a device can show (see `tracewarn.protocol.risk.explain`)."""
        from tracewarn.protocol.risk.explain import explain_risk

        return explain_risk(self, today)


@dataclass(frozen=True, slots=True)
class CombinedRisk:
    """Proximity risk combined with check-in risk (CWA risk calculation v2 [docs/specifications.md#cwa-risk]), per day and in total."""

    scale: RiskLevelScale
    level: int | RiskFailure
    day_levels: dict[dt.date, int]

    @property
    def failed(self) -> bool:
        return isinstance(self.level, RiskFailure)

    @classmethod
    def of(
        cls,
        exposure: RiskResult | RiskFailure,
        check_in_level: int | RiskFailure | None,
        check_in_day_levels: Mapping[dt.date, int] | None = None,
        *,
        scale: RiskLevelScale,
    ) -> CombinedRisk:
        """Combine exposure-window risk (or its failure) with check-in risk on one scale (CWA risk calculation v2 [docs/specifications.md#cwa-risk]).

        The total is CWA's RiskCombinator generalised to N levels: a failed source makes the
        total failed, otherwise the higher level wins; `None` means "no check-in risk computed
        yet / no check-ins". Per-day levels are merged day by day (the higher level wins).
        """
        exposure_level: int | RiskFailure
        if isinstance(exposure, RiskResult):
            if exposure.scale != scale:
                raise ConfigurationError(
                    f"exposure result uses levels {list(exposure.scale.names)}, "
                    f"not {list(scale.names)}"
                )
            exposure_level, exposure_days = exposure.level, exposure.day_levels_by_date()
        else:
            exposure_level, exposure_days = exposure, {}
        total = combine_levels(exposure_level, check_in_level, scale=scale)
        days = combine_day_levels(exposure_days, check_in_day_levels or {}, scale=scale)
        return cls(scale, total, days)
