"""Device-side check-ins: start, automatic check-out, edits, retention (CWA event registration [docs/specifications.md#cwa-events]).

Theory of operation: scanning a code creates a `CheckIn` holding the location id (derived from the
payload bytes as scanned), the location itself for display, the start (`now`) and a planned end
from the default length. The device engineer stores these values; every function here is pure and
takes `now` (Unix seconds) from the caller. A check-in is kept for 15 days after its end and counts
for risk while it ended at most 10 days ago. Nothing here ever leaves the device except through the
encrypted reports of `submission`.

Default length, in order: a transport code with a scheduled arrival still ahead checks out at the
arrival exactly; else the location's `defaultCheckInLengthInMinutes`; else a temporary event still
running checks out at its end; else two hours. All but the arrival are clamped to CWA's
15 min … 23 h 45 min range.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from tracewarn.protocol.errors import CheckInFormatError
from tracewarn.protocol.presence.location import (
    TraceLocation,
    decode_qr_payload,
    location_id,
    validate_location,
)

__all__ = [
    "FALLBACK_CHECK_IN_LENGTH_MINUTES",
    "MAX_DEFAULT_LENGTH_MINUTES",
    "MIN_DEFAULT_LENGTH_MINUTES",
    "RETENTION_DAYS",
    "RISK_HORIZON_DAYS",
    "CheckIn",
    "auto_check_out",
    "check_in",
    "check_out",
    "default_check_in_length_minutes",
    "edit_check_in",
    "is_expired",
    "mark_submitted",
    "prune_expired",
    "within_risk_horizon",
]

DAY_SECONDS = 86_400
RETENTION_DAYS = 15
RISK_HORIZON_DAYS = 10
MIN_DEFAULT_LENGTH_MINUTES = 15
MAX_DEFAULT_LENGTH_MINUTES = 23 * 60 + 45
FALLBACK_CHECK_IN_LENGTH_MINUTES = 120


@dataclass(frozen=True, slots=True)
class CheckIn:
    """One stay at one location, as the device keeps it (times in Unix seconds).

    `location` is what the code said (for display and the default length); matching and
    submission need only the id and the times, so it may be None for values restored elsewhere.

    `end` is the planned automatic check-out until `completed` is set (by `check_out` or
    `auto_check_out`), then the real end. `submitted` marks check-ins this device shared in its own
    positive report; matching ignores them so a person is not warned about themselves.
    """

    location_id: bytes
    start: int
    end: int
    location: TraceLocation | None = None
    completed: bool = False
    submitted: bool = False

    def __post_init__(self) -> None:
        if len(self.location_id) != 32:
            raise CheckInFormatError(f"a location id is 32 bytes, got {len(self.location_id)}")
        if self.end < self.start:
            raise CheckInFormatError(f"check-in ends ({self.end}) before it starts ({self.start})")

    @property
    def duration_seconds(self) -> int:
        return self.end - self.start


def _clamp(minutes: int) -> int:
    return max(MIN_DEFAULT_LENGTH_MINUTES, min(MAX_DEFAULT_LENGTH_MINUTES, minutes))


def default_check_in_length_minutes(location: TraceLocation, now: int) -> int:
    """Minutes from `now` to the automatic check-out (see the module docstring for the order)."""
    if location.type.is_transport and location.end_timestamp > now:
        # Round up so the automatic check-out never falls before the arrival itself.
        return max(1, -(-(location.end_timestamp - now) // 60))
    if location.default_check_in_length_minutes:
        return _clamp(location.default_check_in_length_minutes)
    if not location.is_permanent and location.end_timestamp > now:
        minutes = (location.end_timestamp - now) / 60
        return _clamp(round(minutes / 15) * 15)
    return FALLBACK_CHECK_IN_LENGTH_MINUTES


def check_in(payload: bytes, now: int, *, length_minutes: int | None = None) -> CheckIn:
    """Scan: decode and validate the payload like a device does, start a check-in at `now`.

    Raises `QRCodeFormatError` (naming the failed rule) for a code a device must refuse.
    """
    location = validate_location(decode_qr_payload(payload))
    minutes = (
        default_check_in_length_minutes(location, now) if length_minutes is None else length_minutes
    )
    if minutes <= 0:
        raise CheckInFormatError(f"check-in length must be positive, got {minutes} minutes")
    return CheckIn(location_id(payload), now, now + minutes * 60, location)


def check_out(check_in: CheckIn, now: int) -> CheckIn:
    """The person leaves at `now` (never before the start, never after the planned end)."""
    if check_in.completed:
        return check_in
    return replace(check_in, end=max(check_in.start, min(now, check_in.end)), completed=True)


def auto_check_out(check_ins: Iterable[CheckIn], now: int) -> list[CheckIn]:
    """Complete every open check-in whose planned end has passed (the device's timer)."""
    return [
        replace(c, completed=True) if not c.completed and c.end <= now else c for c in check_ins
    ]


def edit_check_in(check_in: CheckIn, *, start: int, end: int) -> CheckIn:
    """The person corrects the times of a completed check-in."""
    if end <= start:
        raise CheckInFormatError(f"check-in must end after it starts (start {start}, end {end})")
    return replace(check_in, start=start, end=end, completed=True)


def mark_submitted(check_in: CheckIn) -> CheckIn:
    return replace(check_in, submitted=True)


def is_expired(check_in: CheckIn, now: int) -> bool:
    """CWA event registration [docs/specifications.md#cwa-events]: a check-in is deleted 15 days after its end."""
    return now - check_in.end > RETENTION_DAYS * DAY_SECONDS


def prune_expired(check_ins: Iterable[CheckIn], now: int) -> list[CheckIn]:
    return [c for c in check_ins if not is_expired(c, now)]


def within_risk_horizon(check_in: CheckIn, now: int, max_age_days: int = RISK_HORIZON_DAYS) -> bool:
    """CWA event registration [docs/specifications.md#cwa-events] `maxCheckInAgeInDays` = 10: only check-ins ending in the last 10 days count."""
    return now - check_in.end <= max_age_days * DAY_SECONDS
