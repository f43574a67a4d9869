"""Encryption at rest for the device store: AES-256-GCM per sensitive value.

The device key lives in its own file beside (never inside) the database and never leaves the
device: no API returns it and nothing uploads it. Each value is sealed with a fresh 12-byte
nonce and authenticated together with its table and row day (as associated data), so a value
copied into another table or day fails to open instead of being silently misread.

Sealed sizes say little about their contents: the plaintext is framed with its length and padded
with zeros to a bucket (256 bytes, then powers of two), so "a TAN is pending" and "nothing is
pending" seal to the same size, and a day's sightings reveal their count only within a factor
of two. Values sealed before padding existed (another associated-data label) still open.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tracewarn.device.clock import Randomness

DEVICE_KEY_LENGTH = 32
NONCE_LENGTH = 12
MIN_BUCKET = 256
_LENGTH_BYTES = 4


def bucket_size(length: int) -> int:
    """The padded size of a framed plaintext of `length` bytes: 256, 512, 1024, ..."""
    return max(MIN_BUCKET, 1 << (length + _LENGTH_BYTES - 1).bit_length())


class StoreCorrupted(Exception):  # noqa: N818 - reads as what it is
    """A sealed value does not open with this device's key (wrong key, tampering or corruption)."""


def load_or_create_key(path: Path, randomness: Randomness) -> bytes:
    """Read the device key, or create it with owner-only permissions if it does not exist."""
    if path.exists():
        key = path.read_bytes()
        if len(key) != DEVICE_KEY_LENGTH:
            raise StoreCorrupted(f"device key file {path} is not {DEVICE_KEY_LENGTH} bytes")
        return key
    key = randomness.token_bytes(DEVICE_KEY_LENGTH)
    # O_EXCL: two processes racing to create the key must not end up with different keys.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    return key


class Sealer:
    def __init__(self, key: bytes, randomness: Randomness) -> None:
        self._aead = AESGCM(key)
        self._name_key = hashlib.sha256(b"tracewarn-device-names|" + key).digest()
        self._randomness = randomness

    def seal(self, table: str, day: int, plaintext: bytes) -> bytes:
        framed = len(plaintext).to_bytes(_LENGTH_BYTES, "big") + plaintext
        framed += bytes(bucket_size(len(plaintext)) - len(framed))
        nonce = self._randomness.token_bytes(NONCE_LENGTH)
        return nonce + self._aead.encrypt(nonce, framed, _aad(table, day, padded=True))

    def open(self, table: str, day: int, sealed: bytes) -> bytes:
        nonce, body = sealed[:NONCE_LENGTH], sealed[NONCE_LENGTH:]
        try:
            framed = self._aead.decrypt(nonce, body, _aad(table, day, padded=True))
        except (InvalidTag, ValueError):
            try:  # sealed before values were padded
                return self._aead.decrypt(nonce, body, _aad(table, day, padded=False))
            except (InvalidTag, ValueError):
                raise StoreCorrupted(
                    f"a {table} row does not open with this device's key"
                ) from None
        length = int.from_bytes(framed[:_LENGTH_BYTES], "big")
        if length > len(framed) - _LENGTH_BYTES:
            raise StoreCorrupted(f"a {table} row has a bad length")
        return framed[_LENGTH_BYTES : _LENGTH_BYTES + length]

    def name_id(self, name: str) -> str:
        """A keyed hash standing for a setting's name, so the file does not name its settings."""
        return hmac.new(self._name_key, name.encode(), hashlib.sha256).hexdigest()[:32]


def _aad(table: str, day: int, *, padded: bool) -> bytes:
    return f"tracewarn-device{'-v2' if padded else ''}|{table}|{day}".encode()
