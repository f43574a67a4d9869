"""Hourly trace-warning packages (`TraceWarningPackage`), CWA event registration [docs/specifications.md#cwa-events].

The backend publishes one package per hour (interval = floor(unix seconds / 3600)) and region,
holding every encrypted report submitted in that hour. The deprecated unencrypted warnings
(field 3) are never written; a decoder still reads them so old packages can be inspected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from tracewarn.protocol.errors import CheckInFormatError
from tracewarn.protocol.presence.report import ProtectedReport
from tracewarn.protocol.proto import presence_pb2

__all__ = [
    "HOUR_SECONDS",
    "TraceTimeIntervalWarning",
    "TraceWarningPackage",
    "decode_trace_warning_package",
    "encode_trace_warning_package",
    "hour_interval",
]

HOUR_SECONDS = 3600
_UINT32_MAX = 2**32 - 1


def hour_interval(unix_seconds: int) -> int:
    """CWA risk calculation v2 [docs/specifications.md#cwa-risk]: the package interval number, floor(unix seconds / 3600)."""
    return unix_seconds // HOUR_SECONDS


@dataclass(frozen=True, slots=True)
class TraceTimeIntervalWarning:
    """A legacy unencrypted warning (read only; tracewarn never publishes these)."""

    location_id_hash: bytes
    start_interval_number: int
    period: int
    transmission_risk_level: int


@dataclass(frozen=True, slots=True)
class TraceWarningPackage:
    """One hour of warnings for one region."""

    interval_number: int
    region: str
    reports: tuple[ProtectedReport, ...]
    time_interval_warnings: tuple[TraceTimeIntervalWarning, ...] = ()


def encode_trace_warning_package(
    interval_hour: int, region: str, reports: Iterable[ProtectedReport]
) -> bytes:
    """Serialize the package of `interval_hour` (hours since the epoch) for `region`.

    Every report is size-checked first, so a malformed one fails here rather than on devices.
    """
    if not 0 <= interval_hour <= _UINT32_MAX:
        raise CheckInFormatError(f"hour interval {interval_hour} is outside 0..2^32-1")
    message = presence_pb2.TraceWarningPackage(intervalNumber=interval_hour, region=region)
    message.checkInProtectedReports.extend(r.check_sizes().to_message() for r in reports)
    return message.SerializeToString(deterministic=True)


def decode_trace_warning_package(data: bytes) -> TraceWarningPackage:
    """Parse a package; raises `CheckInFormatError` for bytes that are not one."""
    message = presence_pb2.TraceWarningPackage()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise CheckInFormatError(f"not a TraceWarningPackage protobuf: {exc}") from None
    return TraceWarningPackage(
        interval_number=message.intervalNumber,
        region=message.region,
        reports=tuple(ProtectedReport.from_message(r) for r in message.checkInProtectedReports),
        time_interval_warnings=tuple(
            TraceTimeIntervalWarning(
                w.locationIdHash, w.startIntervalNumber, w.period, w.transmissionRiskLevel
            )
            for w in message.timeIntervalWarnings
        ),
    )
