"""Trace locations: the QR payload of a venue, event, train coach, flight, bus or checkpoint.

Theory of operation (CWA event registration [docs/specifications.md#cwa-events]):
a host prints a QR code whose payload is a serialized `QRCodePayload` protobuf. Everything a
device needs is in it: the text shown on check-in, the times, a 16-byte random seed that makes
every code unique, and CWA's `CWALocationData` in `vendorData`. The location id is SHA-256 over
the raw payload bytes, so only someone who scanned the code can compute it (and from it the
report keys, see `report`), while the server and CDN only ever see SHA-256 of that id.

Transport and checkpoint locations are tracewarn's own: CWA has no type for them, so on the wire
they carry CWA's OTHER type (TEMPORARY when a schedule gives start/end, else PERMANENT) in
`CWALocationData.type` and the real type, service, unit and date in field 100 of
`CWALocationData`, which CWA scanners skip as an unknown field.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from typing import cast

from google.protobuf.message import DecodeError

from tracewarn.protocol.errors import QRCodeFormatError
from tracewarn.protocol.presence._crypto import sha256
from tracewarn.protocol.proto import presence_pb2

__all__ = [
    "CWA_PRODUCTION_PUBLIC_KEY",
    "LOCATION_ID_PREFIX",
    "MAX_TEXT_LENGTH",
    "SEED_LENGTH",
    "LocationType",
    "RuleViolation",
    "TraceLocation",
    "TransportDetails",
    "decode_qr_payload",
    "encode_qr_payload",
    "location_id",
    "location_id_hash",
    "timestamp_datetime",
    "validate_location",
    "validation_problems",
]

LOCATION_ID_PREFIX = b"CWA-GUID"
MAX_TEXT_LENGTH = 255
SEED_LENGTH = 16
_UINT32_MAX = 2**32 - 1
_UINT64_MAX = 2**64 - 1
# 9999-12-31T23:59:59Z, the last second a `datetime` can hold. The wire allows any uint64, but a
# device cannot show, compare or store a later time, so such a code is invalid, not "permanent".
MAX_TIMESTAMP = 253_402_300_799

# The constant CrowdNotifier master public key every CWA production QR code carries (CWA event registration [docs/specifications.md#cwa-events]); CWA
# never uses it for matching, but scanners and third-party generators expect exactly this value.
CWA_PRODUCTION_PUBLIC_KEY = base64.b64decode(
    "gwLMzE153tQwAOf2MZoUXXfzWTdlSpfS99iZffmcmxOG9njSK4RTimFOFwDh6t0T"
    "yw8XR01ugDYjtuKwjjuK49Oh83FWct6XpefPi9Skjxvvz53i9gaMmUEc96pbtoaA"
)

# Our own types live far above CWA's range so the two can never collide in one IntEnum.
_TRACEWARN_OFFSET = 100


class LocationType(IntEnum):
    """CWA `TraceLocationType` (values 0-12) plus tracewarn's transport and checkpoint types."""

    UNSPECIFIED = 0
    PERMANENT_OTHER = 1
    TEMPORARY_OTHER = 2
    PERMANENT_RETAIL = 3
    PERMANENT_FOOD_SERVICE = 4
    PERMANENT_CRAFT = 5
    PERMANENT_WORKPLACE = 6
    PERMANENT_EDUCATIONAL_INSTITUTION = 7
    PERMANENT_PUBLIC_BUILDING = 8
    TEMPORARY_CULTURAL_EVENT = 9
    TEMPORARY_CLUB_ACTIVITY = 10
    TEMPORARY_PRIVATE_EVENT = 11
    TEMPORARY_WORSHIP_SERVICE = 12
    TRAIN_COACH = _TRACEWARN_OFFSET + 1
    FLIGHT = _TRACEWARN_OFFSET + 2
    BUS = _TRACEWARN_OFFSET + 3
    CHECKPOINT = _TRACEWARN_OFFSET + 4

    @property
    def wire_name(self) -> str:
        """The enum name as CWA spells it, e.g. `LOCATION_TYPE_TEMPORARY_OTHER`."""
        return f"LOCATION_TYPE_{self.name}"

    @property
    def is_tracewarn(self) -> bool:
        return self.value > _TRACEWARN_OFFSET

    @property
    def is_transport(self) -> bool:
        return self in (LocationType.TRAIN_COACH, LocationType.FLIGHT, LocationType.BUS)

    @classmethod
    def from_name(cls, name: str) -> LocationType:
        """Accept `TRAIN_COACH`, `train-coach` or `LOCATION_TYPE_TRAIN_COACH`."""
        key = name.strip().upper().replace("-", "_")
        key = key.removeprefix("LOCATION_TYPE_")
        try:
            return cls[key]
        except KeyError:
            known = ", ".join(t.name.lower().replace("_", "-") for t in cls)
            raise QRCodeFormatError(f"unknown location type {name!r}; known: {known}") from None


@dataclass(frozen=True, slots=True)
class TransportDetails:
    """What identifies one vehicle on one run: service ("ICE 597"), unit (coach "7"), date."""

    service: str
    unit: str = ""
    service_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class TraceLocation:
    """Everything a QR code says about a location (CWA event registration [docs/specifications.md#cwa-events] plus tracewarn's extension).

    Timestamps are Unix seconds, 0/0 for a permanent location. `default_check_in_length_minutes`
    is None when the payload leaves it unset (proto3 0). `transport` is set only for our transport
    types. `version` is the QRCodePayload version (1 for every code CWA or tracewarn writes).
    """

    description: str
    address: str
    type: LocationType
    cryptographic_seed: bytes
    start_timestamp: int = 0
    end_timestamp: int = 0
    default_check_in_length_minutes: int | None = None
    public_key: bytes = CWA_PRODUCTION_PUBLIC_KEY
    transport: TransportDetails | None = None
    version: int = 1

    @property
    def is_permanent(self) -> bool:
        return self.start_timestamp == 0 and self.end_timestamp == 0

    @property
    def cwa_type(self) -> LocationType:
        """The type CWA scanners see: ours fall back to TEMPORARY_ or PERMANENT_OTHER."""
        if not self.type.is_tracewarn:
            return self.type
        return LocationType.PERMANENT_OTHER if self.is_permanent else LocationType.TEMPORARY_OTHER


_TW_TYPES = {
    LocationType.TRAIN_COACH: presence_pb2.TRACEWARN_LOCATION_TYPE_TRAIN_COACH,
    LocationType.FLIGHT: presence_pb2.TRACEWARN_LOCATION_TYPE_FLIGHT,
    LocationType.BUS: presence_pb2.TRACEWARN_LOCATION_TYPE_BUS,
    LocationType.CHECKPOINT: presence_pb2.TRACEWARN_LOCATION_TYPE_CHECKPOINT,
}
_TW_TYPES_BACK = {int(v): k for k, v in _TW_TYPES.items()}


def _check_uint(name: str, value: int, maximum: int) -> None:
    if not 0 <= value <= maximum:
        raise QRCodeFormatError(f"{name} {value} is outside 0..{maximum}")


def encode_qr_payload(location: TraceLocation) -> bytes:
    """Serialize a location as the `QRCodePayload` bytes that go into the QR URL (CWA event registration [docs/specifications.md#cwa-events])."""
    _check_uint("start_timestamp", location.start_timestamp, _UINT64_MAX)
    _check_uint("end_timestamp", location.end_timestamp, _UINT64_MAX)
    _check_uint("version", location.version, _UINT32_MAX)
    length = location.default_check_in_length_minutes
    if length is not None:
        _check_uint("default_check_in_length_minutes", length, _UINT32_MAX)
    vendor = presence_pb2.CWALocationData(version=1)
    # The stubs type proto enums as distinct classes; at runtime they are plain ints.
    vendor.type = cast("presence_pb2.TraceLocationType", int(location.cwa_type))
    if length:
        vendor.defaultCheckInLengthInMinutes = length
    if location.type.is_tracewarn:
        ext = vendor.tracewarn
        ext.version = 1
        ext.type = _TW_TYPES[location.type]
        if location.transport is not None:
            ext.service = location.transport.service
            ext.unit = location.transport.unit
            if location.transport.service_date is not None:
                ext.serviceDate = location.transport.service_date.isoformat()
    payload = presence_pb2.QRCodePayload(
        version=location.version,
        locationData=presence_pb2.TraceLocation(
            version=1,
            description=location.description,
            address=location.address,
            startTimestamp=location.start_timestamp,
            endTimestamp=location.end_timestamp,
        ),
        crowdNotifierData=presence_pb2.CrowdNotifierData(
            version=1,
            publicKey=location.public_key,
            cryptographicSeed=location.cryptographic_seed,
        ),
        vendorData=vendor.SerializeToString(deterministic=True),
    )
    return payload.SerializeToString(deterministic=True)


def decode_qr_payload(data: bytes) -> TraceLocation:
    """Parse `QRCodePayload` bytes without validating them (validation: `validate_location`).

    Raises `QRCodeFormatError` when the bytes are not the protobuf (or vendor data) CWA defines.
    """
    payload = presence_pb2.QRCodePayload()
    vendor = presence_pb2.CWALocationData()
    try:
        payload.ParseFromString(data)
        vendor.ParseFromString(payload.vendorData)
    except DecodeError as exc:
        raise QRCodeFormatError(f"QR payload is not a CWA QRCodePayload protobuf: {exc}") from None
    if not payload.HasField("locationData"):
        raise QRCodeFormatError("QR payload has no locationData (field 2)")
    loc = payload.locationData
    try:
        location_type = LocationType(vendor.type)
    except ValueError:
        # A newer CWA type we do not know yet; CWA apps show such codes as "other" too.
        location_type = LocationType.UNSPECIFIED
    transport = None
    if vendor.HasField("tracewarn") and vendor.tracewarn.type in _TW_TYPES_BACK:
        ext = vendor.tracewarn
        location_type = _TW_TYPES_BACK[ext.type]
        if location_type.is_transport:
            transport = TransportDetails(ext.service, ext.unit, _parse_date(ext.serviceDate))
    return TraceLocation(
        description=loc.description,
        address=loc.address,
        type=location_type,
        cryptographic_seed=payload.crowdNotifierData.cryptographicSeed,
        start_timestamp=loc.startTimestamp,
        end_timestamp=loc.endTimestamp,
        default_check_in_length_minutes=vendor.defaultCheckInLengthInMinutes or None,
        public_key=payload.crowdNotifierData.publicKey,
        transport=transport,
        version=payload.version,
    )


def _parse_date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise QRCodeFormatError(f"service date {text!r} is not an ISO date YYYY-MM-DD") from None


def location_id(payload: bytes) -> bytes:
    """CWA event registration [docs/specifications.md#cwa-events]: SHA-256("CWA-GUID" || raw QRCodePayload bytes), over the bytes as scanned."""
    return sha256(LOCATION_ID_PREFIX, payload)


def location_id_hash(loc_id: bytes) -> bytes:
    """CWA event registration [docs/specifications.md#cwa-events]: SHA-256(location id), the only form the server and the CDN ever see."""
    if len(loc_id) != 32:
        raise QRCodeFormatError(f"a location id is 32 bytes, got {len(loc_id)}")
    return sha256(loc_id)


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """One failed scan rule: a stable id (for programs) and a sentence (for people)."""

    rule: str
    message: str


def _text_length(text: str) -> int:
    # Kotlin's String.length counts UTF-16 code units, so an emoji counts twice, as in the app.
    return len(text.encode("utf-16-le")) // 2


def _text_problems(field: str, text: str) -> list[RuleViolation]:
    problems = []
    if not text.strip():
        problems.append(RuleViolation(f"{field}-not-empty", f"{field} must not be empty"))
    if _text_length(text) > MAX_TEXT_LENGTH:
        problems.append(
            RuleViolation(
                f"{field}-max-length",
                f"{field} is {_text_length(text)} characters, at most {MAX_TEXT_LENGTH} allowed",
            )
        )
    if "\n" in text or "\r" in text:
        problems.append(RuleViolation(f"{field}-single-line", f"{field} must be a single line"))
    return problems


def validation_problems(location: TraceLocation) -> list[RuleViolation]:
    """Every scan rule the location breaks (CWA event registration [docs/specifications.md#cwa-events], plus ours for transport types); [] if valid."""
    problems = _text_problems("description", location.description)
    problems += _text_problems("address", location.address)
    for name, value in (("start", location.start_timestamp), ("end", location.end_timestamp)):
        if not 0 <= value <= MAX_TIMESTAMP:
            problems.append(
                RuleViolation(
                    f"{name}-timestamp-range",
                    f"{name} {value} is after 9999-12-31 ({MAX_TIMESTAMP}); no device can use it",
                )
            )
    if location.start_timestamp > location.end_timestamp:
        problems.append(
            RuleViolation(
                "start-not-after-end",
                f"start {location.start_timestamp} is after end {location.end_timestamp}",
            )
        )
    if len(location.cryptographic_seed) != SEED_LENGTH:
        problems.append(
            RuleViolation(
                "seed-length",
                f"cryptographic seed is {len(location.cryptographic_seed)} bytes, "
                f"exactly {SEED_LENGTH} required",
            )
        )
    if location.type.is_transport and (
        location.transport is None or not location.transport.service
    ):
        problems.append(
            RuleViolation("transport-service", f"a {location.type.name} code must name its service")
        )
    return problems


def timestamp_datetime(seconds: int, name: str = "timestamp") -> dt.datetime:
    """The UTC time of a QR code's Unix `seconds`; `QRCodeFormatError` past year 9999."""
    if not 0 <= seconds <= MAX_TIMESTAMP:
        raise QRCodeFormatError(f"{name} {seconds} is outside 0..{MAX_TIMESTAMP} (year 9999)")
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def validate_location(location: TraceLocation) -> TraceLocation:
    """Apply the scan rules like a device does; raise `QRCodeFormatError` naming the failed rule."""
    problems = validation_problems(location)
    if problems:
        detail = "; ".join(f"[{p.rule}] {p.message}" for p in problems)
        raise QRCodeFormatError(f"invalid QR code: {detail}")
    return location
