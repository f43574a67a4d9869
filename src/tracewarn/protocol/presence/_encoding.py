"""Strict text encodings for QR payloads (base64url without padding, RFC 4648 base32)."""

from __future__ import annotations

import base64
import binascii
import re

from tracewarn.protocol.errors import QRCodeFormatError

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B32 = re.compile(r"[A-Z2-7]*")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    # Android decodes with the URL-safe alphabet; padding is optional there, so we accept it too
    # but reject any other character rather than silently skipping it as b64decode would.
    body = text.rstrip("=")
    if not _B64URL.fullmatch(body):
        raise QRCodeFormatError(
            "QR payload is not base64url: it contains characters outside A-Z a-z 0-9 - _"
        )
    if len(body) % 4 == 1:
        raise QRCodeFormatError("QR payload is not base64url: its length cannot encode whole bytes")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise QRCodeFormatError(f"QR payload is not base64url: {exc}") from None


def b32_decode(text: str) -> bytes:
    body = text.upper().rstrip("=")
    if not _B32.fullmatch(body):
        raise QRCodeFormatError("QR payload is not base32: it contains characters outside A-Z 2-7")
    if len(body) % 8 in (1, 3, 6):
        raise QRCodeFormatError("QR payload is not base32: its length cannot encode whole bytes")
    try:
        return base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError) as exc:
        raise QRCodeFormatError(f"QR payload is not base32: {exc}") from None


def b32_encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")
