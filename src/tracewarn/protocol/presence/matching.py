"""Matching local check-ins against published encrypted reports, on the device (CWA event registration [docs/specifications.md#cwa-events]).

Theory of operation: a report names its location only as SHA-256(location id), so a device
selects the reports whose hash equals the hash of one of its own check-ins, which is a dictionary
lookup and never a decryption attempt per report. For a selected report it verifies the MAC with
the key derived from its own location id and only then decrypts; a report that fails the MAC
(tampered, or a hash collision) is counted and skipped, never turned into a warning. A decrypted
record that is implausible (period 0, TRL outside 1-8) is also skipped. What remains is overlapped
with each UTC-day part of the local check-in; check-ins this device submitted itself are ignored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracewarn.protocol.errors import CheckInFormatError, InvalidMAC
from tracewarn.protocol.presence.checkin import RISK_HORIZON_DAYS, CheckIn, within_risk_horizon
from tracewarn.protocol.presence.derivation import INTERVAL_SECONDS, split_at_utc_midnight
from tracewarn.protocol.presence.location import location_id_hash
from tracewarn.protocol.presence.report import ProtectedReport, decrypt_report

__all__ = ["CheckInOverlap", "MatchResult", "match_check_ins"]

_DAY = 86_400


@dataclass(frozen=True, slots=True)
class CheckInOverlap:
    """A stretch of one local check-in (by index in the input) that a warning covers."""

    check_in_index: int
    start: int
    end: int
    transmission_risk_level: int

    @property
    def seconds(self) -> int:
        return self.end - self.start

    @property
    def date(self) -> dt.date:
        """CWA: the overlap's date is the UTC date of its start."""
        return dt.date(1970, 1, 1) + dt.timedelta(days=self.start // _DAY)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Overlaps found, plus counts that tell an app developer what was skipped and why."""

    overlaps: tuple[CheckInOverlap, ...]
    reports_selected: int
    reports_rejected_mac: int
    reports_rejected_content: int


def match_check_ins(
    check_ins: Sequence[CheckIn],
    reports: Iterable[ProtectedReport],
    now: int | None = None,
    *,
    max_age_days: int = RISK_HORIZON_DAYS,
) -> MatchResult:
    """CWA event registration [docs/specifications.md#cwa-events] matching. With `now`, only check-ins that ended within `max_age_days` take part."""
    by_hash: dict[bytes, list[int]] = defaultdict(list)
    for index, check_in in enumerate(check_ins):
        if check_in.submitted or (
            now is not None and not within_risk_horizon(check_in, now, max_age_days)
        ):
            continue
        by_hash[location_id_hash(check_in.location_id)].append(index)

    overlaps: list[CheckInOverlap] = []
    selected = rejected_mac = rejected_content = 0
    for report in reports:
        indices = by_hash.get(report.location_id_hash)
        if not indices:
            continue
        selected += 1
        try:
            record = decrypt_report(check_ins[indices[0]].location_id, report)
        except InvalidMAC:
            rejected_mac += 1
            continue
        except CheckInFormatError:
            rejected_content += 1
            continue
        if not record.is_plausible:
            rejected_content += 1
            continue
        warning_start = record.start_interval_number * INTERVAL_SECONDS
        warning_end = (record.start_interval_number + record.period) * INTERVAL_SECONDS
        for index in indices:
            check_in = check_ins[index]
            for part_start, part_end in split_at_utc_midnight(check_in.start, check_in.end):
                start = max(part_start, warning_start)
                end = min(part_end, warning_end)
                if end > start:
                    overlaps.append(
                        CheckInOverlap(index, start, end, record.transmission_risk_level)
                    )
    return MatchResult(tuple(overlaps), selected, rejected_mac, rejected_content)
