"""The staging area: one row per accepted upload, its keys and reports packed into bytes.

An upload is durable once its staging row commits (together with the TAN's deletion); the
publisher later moves many staged uploads at once into the published tables in a shuffled
batch (`distribution.batch`) and deletes them. Packing the upload into a single value keeps
the upload path to one small insert, and means the staging row, while it exists, is the only
place where one upload's keys sit together.

Layout (all integers big-endian): version 1 (1 byte), submission type (1), federation consent
(1), key count (1), report count (2), origin (1-byte length + ASCII), visited countries (2-byte
length + comma-separated ASCII), then per key its 16 bytes, rolling start (4), rolling period
(2) and TRL (1), then per report its location hash (32), IV (16), record (16) and MAC (32).
Days since onset are not packed: validation already turned them into each key's TRL, and
keeping them would group one upload's keys by onset date.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tracewarn.server.submission.validation import ProtectedReport, ValidSubmission

__all__ = ["StagedKey", "UnpackedUpload", "pack_upload", "unpack_upload"]

_VERSION = 1
_HEAD = struct.Struct(">BBBBH")
_KEY = struct.Struct(">16sIHB")
_REPORT_SIZE = 32 + 16 + 16 + 32


@dataclass(frozen=True, slots=True)
class StagedKey:
    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int
    transmission_risk_level: int


@dataclass(frozen=True, slots=True)
class UnpackedUpload:
    submission_type: int
    consent_to_federation: bool
    origin: str
    visited_countries: str
    keys: tuple[StagedKey, ...]
    reports: tuple[ProtectedReport, ...]


def pack_upload(valid: ValidSubmission) -> bytes:
    """The staging payload of a validated submission (validation bounds every field's size)."""
    origin = valid.origin.encode("ascii")
    visited = ",".join(valid.visited_countries).encode("ascii")
    parts = [
        _HEAD.pack(
            _VERSION,
            valid.submission_type,
            int(valid.consent_to_federation),
            len(valid.keys),
            len(valid.reports),
        ),
        bytes([len(origin)]),
        origin,
        struct.pack(">H", len(visited)),
        visited,
    ]
    parts += [
        _KEY.pack(
            k.key_data, k.rolling_start_interval_number, k.rolling_period, k.transmission_risk_level
        )
        for k in valid.keys
    ]
    parts += [
        r.location_id_hash + r.iv + r.encrypted_check_in_record + r.mac for r in valid.reports
    ]
    return b"".join(parts)


def unpack_upload(data: bytes) -> UnpackedUpload:
    """Inverse of `pack_upload`; raises ValueError on anything else."""
    version, submission_type, consent, n_keys, n_reports = _HEAD.unpack_from(data, 0)
    if version != _VERSION:
        raise ValueError(f"unknown staging payload version {version}")
    pos = _HEAD.size
    origin_len = data[pos]
    origin = data[pos + 1 : pos + 1 + origin_len].decode("ascii")
    pos += 1 + origin_len
    (visited_len,) = struct.unpack_from(">H", data, pos)
    visited = data[pos + 2 : pos + 2 + visited_len].decode("ascii")
    pos += 2 + visited_len
    keys = []
    for _ in range(n_keys):
        keys.append(StagedKey(*_KEY.unpack_from(data, pos)))
        pos += _KEY.size
    reports = []
    for _ in range(n_reports):
        chunk = data[pos : pos + _REPORT_SIZE]
        reports.append(ProtectedReport(chunk[:32], chunk[32:48], chunk[48:64], chunk[64:96]))
        pos += _REPORT_SIZE
    if pos != len(data):
        raise ValueError("staging payload has trailing or missing bytes")
    return UnpackedUpload(
        submission_type, bool(consent), origin, visited, tuple(keys), tuple(reports)
    )
