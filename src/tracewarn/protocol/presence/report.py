"""Encrypted check-in reports (`CheckInProtectedReport`), CWA event registration [docs/specifications.md#cwa-events].

Theory of operation: a person who tests positive turns each recent check-in into a tiny record
(start interval, period, transmission risk level), encrypts it with AES-256-CBC under a key only
devices that scanned the same QR code can derive (SHA-256 of a prefix and the location id), and
authenticates iv || ciphertext with HMAC-SHA256 under a second derived key. The server stores the
report next to SHA-256(SHA-256(...)) of the location, learning neither the place nor the time.
A receiving device verifies the MAC before it decrypts, so a tampered report never yields a
record, let alone a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import DecodeError

from tracewarn.protocol.errors import CheckInFormatError, CryptoFormatError, InvalidMAC
from tracewarn.protocol.presence._crypto import (
    aes256_cbc_decrypt,
    aes256_cbc_encrypt,
    hmac_sha256,
    macs_equal,
    sha256,
)
from tracewarn.protocol.presence.location import location_id_hash
from tracewarn.protocol.proto import presence_pb2

__all__ = [
    "ENCRYPTION_KEY_PREFIX",
    "IV_LENGTH",
    "MAC_KEY_PREFIX",
    "CheckInRecord",
    "ProtectedReport",
    "decrypt_report",
    "encrypt_check_in_record",
    "encryption_key",
    "mac_key",
    "report_mac",
]

ENCRYPTION_KEY_PREFIX = b"CWA-ENCRYPTION-KEY"
MAC_KEY_PREFIX = b"CWA-MAC-KEY"
IV_LENGTH = 16
_HASH_LENGTH = 32
_CIPHERTEXT_LENGTH = 16
_UINT32_MAX = 2**32 - 1


@dataclass(frozen=True, slots=True)
class CheckInRecord:
    """The plaintext of a report: 10-minute interval start, number of intervals, TRL."""

    start_interval_number: int
    period: int
    transmission_risk_level: int

    def to_bytes(self) -> bytes:
        for name in ("start_interval_number", "period", "transmission_risk_level"):
            value = getattr(self, name)
            if not 0 <= value <= _UINT32_MAX:
                raise CheckInFormatError(f"check-in record {name} {value} is outside 0..2^32-1")
        return presence_pb2.CheckInRecord(
            startIntervalNumber=self.start_interval_number,
            period=self.period,
            transmissionRiskLevel=self.transmission_risk_level,
        ).SerializeToString(deterministic=True)

    @classmethod
    def from_bytes(cls, data: bytes) -> CheckInRecord:
        message = presence_pb2.CheckInRecord()
        try:
            message.ParseFromString(data)
        except DecodeError as exc:
            raise CheckInFormatError(f"decrypted data is not a CheckInRecord: {exc}") from None
        return cls(message.startIntervalNumber, message.period, message.transmissionRiskLevel)

    @property
    def is_plausible(self) -> bool:
        """CWA event registration [docs/specifications.md#cwa-events] step 3: start ≥ 0, period > 0, 1 ≤ TRL ≤ 8; anything else is discarded."""
        return self.period > 0 and 1 <= self.transmission_risk_level <= 8


@dataclass(frozen=True, slots=True)
class ProtectedReport:
    """A `CheckInProtectedReport`: location id hash, iv, one ciphertext block, MAC."""

    location_id_hash: bytes
    iv: bytes
    encrypted_check_in_record: bytes
    mac: bytes

    def check_sizes(self) -> ProtectedReport:
        """The server's only check (CWA event registration [docs/specifications.md#cwa-events]): 32 / 16 / 16 / 32 bytes."""
        for name, size in (
            ("location_id_hash", _HASH_LENGTH),
            ("iv", IV_LENGTH),
            ("encrypted_check_in_record", _CIPHERTEXT_LENGTH),
            ("mac", _HASH_LENGTH),
        ):
            actual = len(getattr(self, name))
            if actual != size:
                raise CheckInFormatError(
                    f"protected report {name} is {actual} bytes, exactly {size} required"
                )
        return self

    def to_message(self) -> presence_pb2.CheckInProtectedReport:
        return presence_pb2.CheckInProtectedReport(
            locationIdHash=self.location_id_hash,
            iv=self.iv,
            encryptedCheckInRecord=self.encrypted_check_in_record,
            mac=self.mac,
        )

    def to_bytes(self) -> bytes:
        return self.to_message().SerializeToString(deterministic=True)

    @classmethod
    def from_message(cls, message: presence_pb2.CheckInProtectedReport) -> ProtectedReport:
        return cls(
            message.locationIdHash, message.iv, message.encryptedCheckInRecord, message.mac
        ).check_sizes()

    @classmethod
    def from_bytes(cls, data: bytes) -> ProtectedReport:
        message = presence_pb2.CheckInProtectedReport()
        try:
            message.ParseFromString(data)
        except DecodeError as exc:
            raise CheckInFormatError(f"not a CheckInProtectedReport protobuf: {exc}") from None
        return cls.from_message(message)


def _check_location_id(loc_id: bytes) -> None:
    if len(loc_id) != _HASH_LENGTH:
        raise CryptoFormatError(f"a location id is {_HASH_LENGTH} bytes, got {len(loc_id)}")


def encryption_key(loc_id: bytes) -> bytes:
    """CWA event registration [docs/specifications.md#cwa-events]: SHA-256("CWA-ENCRYPTION-KEY" || location id), an AES-256 key."""
    _check_location_id(loc_id)
    return sha256(ENCRYPTION_KEY_PREFIX, loc_id)


def mac_key(loc_id: bytes) -> bytes:
    """CWA event registration [docs/specifications.md#cwa-events]: SHA-256("CWA-MAC-KEY" || location id)."""
    _check_location_id(loc_id)
    return sha256(MAC_KEY_PREFIX, loc_id)


def report_mac(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """CWA event registration [docs/specifications.md#cwa-events]: HMAC-SHA256(MAC key, iv || encrypted record)."""
    return hmac_sha256(key, iv + ciphertext)


def encrypt_check_in_record(loc_id: bytes, record: CheckInRecord, iv: bytes) -> ProtectedReport:
    """Encrypt one record for the location (CWA event registration [docs/specifications.md#cwa-events]); the caller supplies 16 random iv bytes."""
    if len(iv) != IV_LENGTH:
        raise CryptoFormatError(f"the iv is {IV_LENGTH} bytes, got {len(iv)}")
    ciphertext = aes256_cbc_encrypt(encryption_key(loc_id), iv, record.to_bytes())
    if len(ciphertext) != _CIPHERTEXT_LENGTH:
        # Only a record with huge field values (> 15 bytes serialized) gets here; CWA's server
        # would reject its report, so refuse to make one.
        raise CheckInFormatError("check-in record does not fit in one AES block")
    return ProtectedReport(
        location_id_hash=location_id_hash(loc_id),
        iv=iv,
        encrypted_check_in_record=ciphertext,
        mac=report_mac(mac_key(loc_id), iv, ciphertext),
    )


def decrypt_report(loc_id: bytes, report: ProtectedReport) -> CheckInRecord:
    """Verify the MAC, then decrypt (CWA event registration [docs/specifications.md#cwa-events] step 2).

    Raises `InvalidMAC` for a tampered report or a wrong location id (checked before any
    decryption), `CheckInFormatError` for a report whose plaintext is not a record.
    """
    report.check_sizes()
    expected = report_mac(mac_key(loc_id), report.iv, report.encrypted_check_in_record)
    if not macs_equal(expected, report.mac):
        raise InvalidMAC("check-in report MAC does not verify: tampered, or not for this location")
    try:
        plaintext = aes256_cbc_decrypt(
            encryption_key(loc_id), report.iv, report.encrypted_check_in_record
        )
    except ValueError:
        raise CheckInFormatError("check-in report decrypts to invalid padding") from None
    return CheckInRecord.from_bytes(plaintext)
