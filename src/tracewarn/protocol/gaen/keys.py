"""GAEN key schedule: TEK -> RPIK/AEMK -> RPI/AEM, and the Bluetooth metadata.

Theory of operation (GAEN Cryptography Specification v1.2 [docs/specifications.md#gaen-crypto]): time is counted in
10-minute ENIntervalNumbers. A temporary exposure key (TEK) is valid for `rolling_period`
intervals from `rolling_start_interval_number`. From it two keys are derived with HKDF-SHA256;
the rolling proximity identifier (RPI) of interval j is one AES-128 block over a fixed padded
input carrying j, and the associated encrypted metadata (AEM) is the 4-byte Bluetooth metadata
encrypted with AES-128-CTR using the RPI as the counter block. Everything here is pure: the
caller passes the time and the random bytes.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

from tracewarn.protocol.errors import CryptoFormatError, KeyFormatError
from tracewarn.protocol.gaen._primitives import aes128_ctr, aes128_ecb, hkdf_sha256_16

__all__ = [
    "EKROLLING_PERIOD",
    "INTERVAL_SECONDS",
    "KEY_LENGTH",
    "RPI_PADDING_PREFIX",
    "BluetoothMetadata",
    "TemporaryExposureKey",
    "aem_key",
    "decrypt_metadata",
    "en_interval_number",
    "encrypt_metadata",
    "interval_start",
    "padded_rpi_data",
    "rolling_proximity_identifier",
    "rolling_proximity_identifiers",
    "rpi_key",
]

KEY_LENGTH = 16
INTERVAL_SECONDS = 600
EKROLLING_PERIOD = 144
MAX_INTERVAL = 2**32 - 1
RPI_PADDING_PREFIX = b"EN-RPI" + bytes(6)
_INFO_RPIK = b"EN-RPIK"
_INFO_AEMK = b"EN-AEMK"
METADATA_LENGTH = 4


def en_interval_number(moment: dt.datetime | int | float) -> int:
    """ENIntervalNumber of a moment: floor(unix seconds / 600) (GAEN crypto spec, ENIntervalNumber)."""
    seconds = moment.timestamp() if isinstance(moment, dt.datetime) else moment
    if isinstance(moment, dt.datetime) and moment.tzinfo is None:
        raise KeyFormatError("en_interval_number needs a timezone-aware datetime")
    interval = int(seconds // INTERVAL_SECONDS)
    if not 0 <= interval <= MAX_INTERVAL:
        raise KeyFormatError(f"moment {moment!r} is outside the 32-bit ENIntervalNumber range")
    return interval


def interval_start(interval: int) -> dt.datetime:
    """UTC start of an ENIntervalNumber."""
    return dt.datetime.fromtimestamp(interval * INTERVAL_SECONDS, tz=dt.UTC)


def _check_key(tek: bytes) -> None:
    if not isinstance(tek, bytes | bytearray) or len(tek) != KEY_LENGTH:
        raise KeyFormatError(f"a temporary exposure key is {KEY_LENGTH} bytes, got {len(tek)}")


def rpi_key(tek: bytes) -> bytes:
    """RPIK = HKDF-SHA256(TEK, salt=none, info="EN-RPIK", 16) (GAEN crypto spec, RPIK derivation)."""
    _check_key(tek)
    return hkdf_sha256_16(bytes(tek), _INFO_RPIK)


def aem_key(tek: bytes) -> bytes:
    """AEMK = HKDF-SHA256(TEK, salt=none, info="EN-AEMK", 16) (GAEN crypto spec, AEMK derivation)."""
    _check_key(tek)
    return hkdf_sha256_16(bytes(tek), _INFO_AEMK)


def _check_interval(interval: int) -> None:
    if not 0 <= interval <= MAX_INTERVAL:
        raise KeyFormatError(f"interval {interval} is outside 0..2^32-1")


def padded_rpi_data(interval: int) -> bytes:
    """PaddedData_j: "EN-RPI", six zero bytes, ENIN_j as uint32 little-endian."""
    _check_interval(interval)
    return RPI_PADDING_PREFIX + struct.pack("<I", interval)


def rolling_proximity_identifier(rpik: bytes, interval: int) -> bytes:
    """RPI_j = AES-128(RPIK, PaddedData_j) (GAEN crypto spec, RPI derivation)."""
    if len(rpik) != KEY_LENGTH:
        raise CryptoFormatError(f"an RPIK is {KEY_LENGTH} bytes, got {len(rpik)}")
    return aes128_ecb(rpik, padded_rpi_data(interval))


def rolling_proximity_identifiers(
    tek: bytes, start: int, count: int = EKROLLING_PERIOD
) -> list[bytes]:
    """The RPIs of intervals start..start+count-1, in one AES call over all padded blocks."""
    if not 1 <= count <= EKROLLING_PERIOD:
        raise KeyFormatError(f"count must be 1..{EKROLLING_PERIOD}, got {count}")
    _check_interval(start)
    _check_interval(start + count - 1)
    blocks = b"".join(padded_rpi_data(start + k) for k in range(count))
    out = aes128_ecb(rpi_key(tek), blocks)
    return [out[16 * k : 16 * k + 16] for k in range(count)]


def encrypt_metadata(aemk: bytes, rpi: bytes, metadata: bytes) -> bytes:
    """AEM = AES-128-CTR(AEMK, counter block = RPI, metadata) (GAEN crypto spec, AEM)."""
    if len(aemk) != KEY_LENGTH or len(rpi) != KEY_LENGTH:
        raise CryptoFormatError("AEMK and RPI are 16 bytes each")
    if len(metadata) != METADATA_LENGTH:
        raise CryptoFormatError(
            f"Bluetooth metadata is {METADATA_LENGTH} bytes, got {len(metadata)}"
        )
    return aes128_ctr(aemk, rpi, metadata)


def decrypt_metadata(aemk: bytes, rpi: bytes, aem: bytes) -> bytes:
    """Inverse of `encrypt_metadata`; CTR mode makes it the same operation."""
    return encrypt_metadata(aemk, rpi, aem)


@dataclass(frozen=True, slots=True)
class BluetoothMetadata:
    """The 4 metadata bytes: version (major, minor), calibration confidence, TX power in dBm."""

    major: int = 1
    minor: int = 0
    calibration_confidence: int = 0
    tx_power: int = 0

    def __post_init__(self) -> None:
        if not (
            0 <= self.major <= 3 and 0 <= self.minor <= 3 and 0 <= self.calibration_confidence <= 3
        ):
            raise CryptoFormatError("version fields and calibration confidence are 2 bits each")
        if not -128 <= self.tx_power <= 127:
            raise CryptoFormatError(f"TX power {self.tx_power} dBm does not fit a signed byte")

    def to_bytes(self) -> bytes:
        version = (self.major << 6) | (self.minor << 4) | (self.calibration_confidence << 2)
        return struct.pack("<Bb2x", version, self.tx_power)

    @classmethod
    def from_bytes(cls, data: bytes) -> BluetoothMetadata:
        if len(data) != METADATA_LENGTH:
            raise CryptoFormatError(
                f"Bluetooth metadata is {METADATA_LENGTH} bytes, got {len(data)}"
            )
        version, tx_power = struct.unpack("<Bb2x", data)
        return cls(version >> 6, (version >> 4) & 3, (version >> 2) & 3, tx_power)


@dataclass(frozen=True, slots=True)
class TemporaryExposureKey:
    """A TEK with its validity: intervals rolling_start .. rolling_start + rolling_period - 1."""

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int = EKROLLING_PERIOD

    def __post_init__(self) -> None:
        _check_key(self.key_data)
        if not 1 <= self.rolling_period <= EKROLLING_PERIOD:
            raise KeyFormatError(f"rolling period must be 1..144, got {self.rolling_period}")
        _check_interval(self.rolling_start_interval_number)

    @classmethod
    def generate(cls, random_bytes: bytes, moment: dt.datetime | int) -> TemporaryExposureKey:
        """A new key from caller-supplied CSPRNG bytes, valid from the UTC midnight of `moment`."""
        start = en_interval_number(moment) // EKROLLING_PERIOD * EKROLLING_PERIOD
        return cls(bytes(random_bytes), start)

    def covers(self, interval: int) -> bool:
        start = self.rolling_start_interval_number
        return start <= interval < start + self.rolling_period

    def rpis(self) -> list[bytes]:
        return rolling_proximity_identifiers(
            self.key_data, self.rolling_start_interval_number, self.rolling_period
        )
