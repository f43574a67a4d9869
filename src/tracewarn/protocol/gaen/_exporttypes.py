"""The value types of GAEN key export files (GAEN export file format [docs/specifications.md#gaen-export]): keys, signers, signatures, files.

`export` holds the recipes that write, read and verify files; these are the values they take
and return. Re-exported from `tracewarn.protocol.gaen.export` and `tracewarn.protocol.gaen`.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from tracewarn.protocol.errors import ConfigurationError, KeyFormatError
from tracewarn.protocol.gaen import _signing
from tracewarn.protocol.gaen._keyarrays import (
    DEFAULT_ROLLING_PERIOD,
    INT32_MAX,
    KEY_LENGTH,
    KeyArrays,
)

__all__ = [
    "ECDSA_P256_SHA256_OID",
    "EXPORT_HEADER",
    "MAX_KEYS_PER_FILE",
    "MAX_SIGNATURE_INFOS",
    "BatchNumbering",
    "ExportFile",
    "ExportKey",
    "ExportPadding",
    "ExportSignature",
    "ExportSigner",
    "SignatureInfo",
    "VerifiedExport",
]

ECDSA_P256_SHA256_OID = _signing.ECDSA_P256_SHA256_OID
EXPORT_HEADER = b"EK Export v1    "
ECDSA_P256_SHA256_OID = _signing.ECDSA_P256_SHA256_OID
MAX_KEYS_PER_FILE = 500_000
MAX_SIGNATURE_INFOS = 10  # phones may not look past the tenth (GAEN export file format [docs/specifications.md#gaen-export])
_KEY_ID = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True, slots=True)
class ExportKey:
    """One TemporaryExposureKey of an export (GAEN export file format [docs/specifications.md#gaen-export]); None means the field is absent."""

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int = DEFAULT_ROLLING_PERIOD
    transmission_risk_level: int | None = None
    report_type: int | None = None  # ENF ReportType value, 0..5
    days_since_onset_of_symptoms: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key_data, bytes) or len(self.key_data) != KEY_LENGTH:
            raise KeyFormatError("an export key's key_data is 16 bytes")
        if not 0 <= self.rolling_start_interval_number <= INT32_MAX:
            raise KeyFormatError(
                f"rolling_start_interval_number {self.rolling_start_interval_number} "
                "is outside 0..2^31-1"
            )
        if not 1 <= self.rolling_period <= DEFAULT_ROLLING_PERIOD:
            raise KeyFormatError(f"rolling_period {self.rolling_period} is outside 1..144")


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """Which key signed a file: verification key id and version, algorithm OID ("" if absent)."""

    verification_key_version: str
    verification_key_id: str
    signature_algorithm: str = ECDSA_P256_SHA256_OID

    def as_dict(self) -> dict[str, str]:
        return {
            "verification_key_version": self.verification_key_version,
            "verification_key_id": self.verification_key_id,
            "signature_algorithm": self.signature_algorithm,
        }


@dataclass(frozen=True, slots=True)
class ExportSignature:
    """One TEKSignature of export.sig."""

    signature_info: SignatureInfo
    batch_num: int
    batch_size: int
    signature: bytes


@dataclass(frozen=True)
class ExportSigner:
    """One ECDSA P-256 / SHA-256 signing key and the id and version phones know it by."""

    private_key: ec.EllipticCurvePrivateKey
    key_id: str  # verification_key_id; Apple wants the country's MCC, e.g. "262"
    key_version: str  # verification_key_version, e.g. "v1"

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, ec.EllipticCurvePrivateKey) or not isinstance(
            self.private_key.curve, ec.SECP256R1
        ):
            raise ConfigurationError("an export signer needs an ECDSA P-256 private key")
        for name, value in (("key_id", self.key_id), ("key_version", self.key_version)):
            if not _KEY_ID.fullmatch(value):
                raise ConfigurationError(f"{name} {value!r} must be 1-64 of [A-Za-z0-9_]")

    @classmethod
    def from_pem(cls, pem: bytes, *, key_id: str, key_version: str) -> ExportSigner:
        return cls(_signing.load_private_key(pem), key_id, key_version)

    @property
    def signature_info(self) -> SignatureInfo:
        return SignatureInfo(self.key_version, self.key_id, ECDSA_P256_SHA256_OID)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True, slots=True)
class ExportPadding:
    """The reference server's padding of small batches (GAEN reference key server [docs/specifications.md#gaen-server]).

    A batch with at least one and fewer than `min_keys` keys gets random keys up to
    `min_keys` + a uniform integer in [0, `jitter`], never beyond the per-file maximum. Each
    padding key copies the other fields of the real keys in turn, so fields reveal nothing.
    """

    min_keys: int = 1000
    jitter: int = 100

    def __post_init__(self) -> None:
        if self.min_keys < 0 or self.jitter < 0:
            raise ConfigurationError("padding min_keys and jitter must be >= 0")


class BatchNumbering(enum.Enum):
    """How files of one split set are numbered (GAEN reference key server [docs/specifications.md#gaen-server])."""

    #: batch_num i of batch_size n (1-based), the schema's original meaning.
    SPLIT = "split"
    #: batch 1 of 1 in every file and end_timestamp + i for file i (0-based), as Google's server
    #: has done since 2020-11: iOS never supported multi-file batches.
    ONE_PER_FILE = "one-per-file"


@dataclass(frozen=True)
class ExportFile:
    """A parsed export: the header fields, signatures and keys (lazily as objects)."""

    export_bin: bytes
    region: str
    batch_num: int
    batch_size: int
    start_timestamp: int
    end_timestamp: int
    signature_infos: tuple[SignatureInfo, ...]
    signatures: tuple[ExportSignature, ...]  # from export.sig; empty for a bare export.bin
    _keys: KeyArrays = field(repr=False)
    _revised_keys: KeyArrays = field(repr=False)

    def key_arrays(self) -> KeyArrays:
        """The keys as columns (see `KeyArrays`), without building per-key objects."""
        return self._keys

    def revised_key_arrays(self) -> KeyArrays:
        return self._revised_keys

    @functools.cached_property
    def keys(self) -> tuple[ExportKey, ...]:
        return tuple(self._keys)

    @functools.cached_property
    def revised_keys(self) -> tuple[ExportKey, ...]:
        return tuple(self._revised_keys)

    def iter_keys(self) -> Iterator[ExportKey]:
        return iter(self._keys)

    @property
    def key_count(self) -> int:
        return len(self._keys)


@dataclass(frozen=True)
class VerifiedExport:
    """An export whose signature verified, and the signature infos that verified it."""

    export: ExportFile
    verified_by: tuple[SignatureInfo, ...]
