"""What a positive person submits for a check-in: derived interval, day parts, TRL (CWA event registration [docs/specifications.md#cwa-events]).

Theory of operation: the exact check-in times never leave the phone. The time is first widened
for aerosols that linger after someone leaves (a stay of m minutes gets m more, capped at 30),
stays under 10 minutes are dropped, and the result is snapped to whole 10-minute intervals so
that it says no more than the interval grid. The derived interval is split at UTC midnight, and
each part gets the transmission risk level the symptom-based vector gives for its age in days;
parts whose level carries no weight (TRV 0) are dropped before anything is encrypted.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from tracewarn.protocol.errors import CheckInFormatError, ConfigurationError
from tracewarn.protocol.risk.levels import Range
from tracewarn.protocol.risk.presets import CWA_1_15

__all__ = [
    "CWA_SUBMISSION_PARAMETERS",
    "CWA_TRANSMISSION_RISK_VALUES",
    "INTERVAL_SECONDS",
    "AerosolDecayFunction",
    "SubmissionParameters",
    "derive_time_interval",
    "split_at_utc_midnight",
    "transmission_risk_level",
    "transmission_risk_value",
]

INTERVAL_SECONDS: Final = 600
DAY_SECONDS: Final = 86_400
# Far beyond any real stay (automatic check-out caps at 23 h 45 min) and the 15-day retention;
# it bounds the split loop against absurd input.
MAX_SPAN_DAYS: Final = 31

# trl-value-mapping-1.15.yaml (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): check-in risk weighs TRLs with the very table
# proximity risk uses, so it is taken from there (TRL 1 and 2 carry no weight).
CWA_TRANSMISSION_RISK_VALUES: Final[Mapping[int, float]] = CWA_1_15.transmission_risk_values


@dataclass(frozen=True, slots=True)
class AerosolDecayFunction:
    """Extra time after the stay: `slope x duration + intercept minutes`, for minutes in range."""

    minutes_range: Range
    slope: float
    intercept: float


@dataclass(frozen=True, slots=True)
class SubmissionParameters:
    """CWA `submissionParameters`: duration filters and aerosol-decay functions (CWA event registration [docs/specifications.md#cwa-events])."""

    duration_filters: tuple[Range, ...]
    aerosol_decay_functions: tuple[AerosolDecayFunction, ...]

    @classmethod
    def from_json(cls, obj: Any) -> SubmissionParameters:
        """Parse CWA's camelCase form (`durationFilters`, `aerosoleDecayLinearFunctions`)."""
        if not isinstance(obj, Mapping):
            raise ConfigurationError("submission parameters must be an object")
        try:
            filters = tuple(
                Range.from_json(f["dropIfMinutesInRange"], where=f"durationFilters[{i}]")
                for i, f in enumerate(obj.get("durationFilters", []))
            )
            functions = tuple(
                AerosolDecayFunction(
                    Range.from_json(f["minutesRange"], where=f"aerosoleDecayLinearFunctions[{i}]"),
                    float(f.get("slope", 0)),
                    float(f.get("intercept", 0)),
                )
                for i, f in enumerate(obj.get("aerosoleDecayLinearFunctions", []))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"malformed submission parameters: {exc!r}") from None
        return cls(filters, functions)


CWA_SUBMISSION_PARAMETERS: Final = SubmissionParameters(
    duration_filters=(Range(0, 10, max_exclusive=True),),
    aerosol_decay_functions=(
        AerosolDecayFunction(Range(0, 30), 1.0, 0.0),
        AerosolDecayFunction(Range(30, 9999, min_exclusive=True), 0.0, 30.0),
    ),
)


def _round_half_up(value: float) -> int:
    # Kotlin's roundToLong rounds halves toward +infinity, unlike Python's round (half to even).
    return math.floor(value + 0.5)


def derive_time_interval(
    start: int, end: int, params: SubmissionParameters = CWA_SUBMISSION_PARAMETERS
) -> tuple[int, int] | None:
    """CWA event registration [docs/specifications.md#cwa-events] (TimeIntervalDeriver): the submitted `[start, end)` in Unix seconds, or None if dropped.

    The result always lies on the 10-minute grid.
    """
    duration = max(0, end - start)
    minutes = duration // 60
    if any(minutes in f for f in params.duration_filters):
        return None
    decay = 0.0
    for function in params.aerosol_decay_functions:
        if minutes in function.minutes_range:
            decay = function.slope * duration + function.intercept * 60
            break
    relative_end = end + decay
    start_interval = start // INTERVAL_SECONDS * INTERVAL_SECONDS
    end_interval = math.floor(relative_end / INTERVAL_SECONDS) * INTERVAL_SECONDS
    overlap_at_start = start_interval + INTERVAL_SECONDS - start
    overlap_at_end = relative_end - end_interval
    target = _round_half_up((duration + decay) / INTERVAL_SECONDS) * INTERVAL_SECONDS
    if overlap_at_end > overlap_at_start:
        return end_interval + INTERVAL_SECONDS - target, end_interval + INTERVAL_SECONDS
    return start_interval, start_interval + target


def split_at_utc_midnight(start: int, end: int) -> list[tuple[int, int]]:
    """CWA event registration [docs/specifications.md#cwa-events] step 1 (CheckInSplitter): one `[start, end)` part per UTC day, empty parts omitted."""
    if end < start:
        raise CheckInFormatError(f"interval ends ({end}) before it starts ({start})")
    if end - start > MAX_SPAN_DAYS * DAY_SECONDS:
        raise CheckInFormatError(f"a check-in of more than {MAX_SPAN_DAYS} days is not a stay")
    parts = []
    cursor = start
    while cursor < end:
        midnight = (cursor // DAY_SECONDS + 1) * DAY_SECONDS
        parts.append((cursor, min(end, midnight)))
        cursor = midnight
    return parts


def _utc_date(unix_seconds: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=unix_seconds // DAY_SECONDS)


def transmission_risk_level(part_start: int, now: int, vector: Sequence[int]) -> int:
    """CWA event registration [docs/specifications.md#cwa-events] step 2: `vector[age in UTC days]`, 1 when the age is outside the vector."""
    age = (_utc_date(now) - _utc_date(part_start)).days
    if 0 <= age < len(vector):
        return vector[age]
    return 1


def transmission_risk_value(
    level: int, mapping: Mapping[int, float] = CWA_TRANSMISSION_RISK_VALUES
) -> float:
    """The weight of a TRL (CWA risk calculation v2 [docs/specifications.md#cwa-risk]); 0 for a level the mapping lacks."""
    return mapping.get(level, 0.0)
