"""EFGS diagnosis key batches: the wire form and the canonical bytes a batch signature covers.

Theory of operation (EU Federation Gateway Service, software design, "Security: batch signature",
https://github.com/eu-federation-gateway-service/efgs-federation-gateway, and its
`BatchSignatureUtils`): the signature does not cover the protobuf bytes on the wire but a string
rebuilt from the decoded fields, so the protobuf and JSON forms sign alike. Each key becomes a
record of eight standard-Base64 fields, each followed by one `.`; the records are sorted by the
Base64 text of the whole record (not by the key data, as older documents say) and concatenated.
`.` is outside the Base64 alphabet, so a record splits back into its fields without ambiguity.
The one residual ambiguity, a `,` inside a visited country code, is closed by `validate_country`.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from tracewarn.protocol.errors import FederationFormatError
from tracewarn.protocol.proto import efgs_pb2

__all__ = [
    "TRL_NOT_PROVIDED",
    "FederationKey",
    "ReportType",
    "batch_signature_input",
    "canonical_record",
    "decode_record",
    "encode_batch",
    "encode_batch_json",
    "parse_batch",
    "parse_batch_json",
    "validate_country",
]

# EFGS accepts this TRL as "not provided" besides 0..8.
TRL_NOT_PROVIDED = 0x7FFFFFFF


class ReportType(IntEnum):
    UNKNOWN = 0
    CONFIRMED_TEST = 1
    CONFIRMED_CLINICAL_DIAGNOSIS = 2
    SELF_REPORT = 3
    RECURSIVE = 4
    REVOKED = 5


@dataclass(frozen=True, slots=True)
class FederationKey:
    """One `DiagnosisKey` of a batch, fields as decoded (no range checks: see the gateway)."""

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int
    transmission_risk_level: int
    visited_countries: tuple[str, ...]
    origin: str
    report_type: int
    days_since_onset_of_symptoms: int


def validate_country(code: str) -> str:
    """A country or region code as federation signs it: 2 or 3 ASCII upper-case letters."""
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.isupper()):
        raise FederationFormatError(f"{code!r} is not an upper-case country code")
    return code


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def _be32(value: int) -> bytes:
    # uint32 values above 2^31-1 give the bytes of their int32 reinterpretation, negative
    # int32 values their two's complement: both are just the low 32 bits, big-endian.
    return struct.pack(">I", value & 0xFFFFFFFF)


def canonical_record(key: FederationKey) -> bytes:
    """The per-key record: eight Base64 fields, each followed by `.` (EFGS batch signature)."""
    fields = (
        key.key_data,
        _be32(key.rolling_start_interval_number),
        _be32(key.rolling_period),
        _be32(key.transmission_risk_level),
        ",".join(key.visited_countries).encode("ascii"),
        key.origin.encode("ascii"),
        _be32(key.report_type),
        _be32(key.days_since_onset_of_symptoms),
    )
    return b"".join(_b64(f) + b"." for f in fields)


def batch_signature_input(keys: Iterable[FederationKey]) -> bytes:
    """The bytes a batch signature covers: records sorted by their own Base64 text, joined.

    The order of `keys` does not matter; a duplicated key contributes its record twice.
    """
    records = [canonical_record(k) for k in keys]
    records.sort(key=_b64)
    return b"".join(records)


def decode_record(record: bytes) -> FederationKey:
    """Inverse of `canonical_record` (a round trip that pins the layout)."""
    parts = record.split(b".")
    if len(parts) != 9 or parts[8] != b"":
        raise FederationFormatError("a canonical record has exactly 8 fields, each ending in '.'")
    try:
        raw = [base64.b64decode(p, validate=True) for p in parts[:8]]
    except ValueError:
        raise FederationFormatError("a canonical record field is not standard Base64") from None
    ints = [raw[i] for i in (1, 2, 3, 6, 7)]
    if any(len(v) != 4 for v in ints):
        raise FederationFormatError("integer fields of a canonical record are 4 bytes")
    rsin, period, _, report_type, _ = (struct.unpack(">I", v)[0] for v in ints)
    visited = raw[4].decode("ascii")
    return FederationKey(
        key_data=raw[0],
        rolling_start_interval_number=rsin,
        rolling_period=period,
        transmission_risk_level=struct.unpack(">i", ints[2])[0],
        visited_countries=tuple(visited.split(",")) if visited else (),
        origin=raw[5].decode("ascii"),
        report_type=report_type,
        days_since_onset_of_symptoms=struct.unpack(">i", ints[4])[0],
    )


def _from_message(batch: efgs_pb2.DiagnosisKeyBatch) -> list[FederationKey]:
    keys = []
    for k in batch.keys:
        try:
            visited = tuple(str(c) for c in k.visitedCountries)
            "".join(visited).encode("ascii")
            k.origin.encode("ascii")
        except UnicodeEncodeError:
            raise FederationFormatError("country codes must be ASCII") from None
        keys.append(
            FederationKey(
                key_data=bytes(k.keyData),
                rolling_start_interval_number=k.rollingStartIntervalNumber,
                rolling_period=k.rollingPeriod,
                transmission_risk_level=k.transmissionRiskLevel,
                visited_countries=visited,
                origin=k.origin,
                report_type=int(k.reportType),
                days_since_onset_of_symptoms=k.days_since_onset_of_symptoms,
            )
        )
    return keys


def _to_message(keys: Sequence[FederationKey]) -> efgs_pb2.DiagnosisKeyBatch:
    batch = efgs_pb2.DiagnosisKeyBatch()
    for k in keys:
        batch.keys.add(
            keyData=k.key_data,
            rollingStartIntervalNumber=k.rolling_start_interval_number & 0xFFFFFFFF,
            rollingPeriod=k.rolling_period & 0xFFFFFFFF,
            transmissionRiskLevel=k.transmission_risk_level,
            visitedCountries=list(k.visited_countries),
            origin=k.origin,
            reportType=k.report_type,
            days_since_onset_of_symptoms=k.days_since_onset_of_symptoms,
        )
    return batch


def parse_batch(data: bytes) -> list[FederationKey]:
    """Decode a binary `DiagnosisKeyBatch` (content type `application/protobuf; version=1.0`)."""
    batch = efgs_pb2.DiagnosisKeyBatch()
    try:
        batch.ParseFromString(data)
    except (DecodeError, RuntimeWarning):
        raise FederationFormatError("not a DiagnosisKeyBatch protobuf") from None
    return _from_message(batch)


def encode_batch(keys: Sequence[FederationKey]) -> bytes:
    return _to_message(keys).SerializeToString()


def parse_batch_json(data: bytes) -> list[FederationKey]:
    """Decode the JSON form (`application/json; version=1.0`: protobuf JSON, proto field names)."""
    batch = efgs_pb2.DiagnosisKeyBatch()
    try:
        json_format.Parse(data, batch)
    except (json_format.ParseError, UnicodeDecodeError, ValueError):
        raise FederationFormatError("not a DiagnosisKeyBatch in protobuf JSON") from None
    return _from_message(batch)


def encode_batch_json(keys: Sequence[FederationKey]) -> bytes:
    return json_format.MessageToJson(
        _to_message(keys), preserving_proto_field_name=True, indent=None
    ).encode()
