"""Encryption at rest for the device store: AES-256-GCM per sensitive value.

The device key lives in its own file beside (never inside) the database and never leaves the
device: no API returns it and nothing uploads it. Each value is sealed with a fresh 12-byte
nonce and authenticated together with its table and row day (as associated data), so a value
copied into another table or day fails to open instead of being silently misread.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tracewarn.device.clock import Randomness

DEVICE_KEY_LENGTH = 32
NONCE_LENGTH = 12


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
        self._randomness = randomness

    def seal(self, table: str, day: int, plaintext: bytes) -> bytes:
        nonce = self._randomness.token_bytes(NONCE_LENGTH)
        return nonce + self._aead.encrypt(nonce, plaintext, _aad(table, day))

    def open(self, table: str, day: int, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(
                sealed[:NONCE_LENGTH], sealed[NONCE_LENGTH:], _aad(table, day)
            )
        except (InvalidTag, ValueError):
            raise StoreCorrupted(f"a {table} row does not open with this device's key") from None


def _aad(table: str, day: int) -> bytes:
    return f"tracewarn-device|{table}|{day}".encode()
