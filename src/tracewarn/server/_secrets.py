"""The server secret and what is derived from it.

Codes, tokens, TANs and API keys are stored only as HMAC-SHA256 under the server secret, so a
copy of the database alone cannot redeem or link anything. Lookups go by the HMAC (an index hit
reveals nothing about the plaintext); the fetched value is compared again in constant time.
Signing keys are stored encrypted (AES-256-GCM) under a key derived from the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tracewarn.server.settings import ConfigError, Settings

__all__ = ["SecretBox", "load_server_secret"]

_SECRET_FILE = "server-secret"  # noqa: S105 - a file name, not a secret


def load_server_secret(settings: Settings) -> bytes:
    """The configured secret, else the one in the data dir, else a new one written there (0600)."""
    if settings.server_secret is not None:
        value = settings.server_secret.get_secret_value().encode()
        if len(value) < 16:
            raise ConfigError("TRACEWARN_SERVER_SECRET must be at least 16 characters")
        return value
    path = Path(settings.data_dir) / _SECRET_FILE
    try:
        return _read_or_create(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot read or create the server secret {path}: {exc.strerror}; "
            "set TRACEWARN_DATA_DIR to a writable directory or TRACEWARN_SERVER_SECRET"
        ) from None


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    # Exclusive create: two workers starting together agree on whichever wrote first.
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_hex(32).encode())
        handle.flush()
        os.fsync(handle.fileno())
    return path.read_bytes().strip()


class SecretBox:
    """HMACs of codes and tokens, and encryption of signing keys, under one server secret."""

    def __init__(self, secret: bytes) -> None:
        self._mac_key = hashlib.sha256(b"tracewarn-hmac\x00" + secret).digest()
        self._aead = AESGCM(hashlib.sha256(b"tracewarn-aead\x00" + secret).digest())

    def mac(self, kind: str, value: str) -> bytes:
        """HMAC of `value` in the namespace `kind`, so a TAN can never match a teleTAN row."""
        return hmac.new(self._mac_key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()

    @staticmethod
    def same(a: bytes, b: bytes) -> bool:
        return hmac.compare_digest(a, b)

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, *, context: bytes) -> bytes:
        return self._aead.decrypt(blob[:12], blob[12:], context)
