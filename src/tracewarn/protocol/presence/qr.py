"""QR-code URLs: recognising a scanned string and building one for a poster.

CWA does not hard-code its URL: the app configuration carries `qrCodeDescriptors`, each a regex
that must match the whole scanned string (case-insensitively), the 0-based index of the capture
group holding the version, the index of the group holding the payload, and the payload's text
encoding (CWA event registration [docs/specifications.md#cwa-events]). We ship CWA's two production descriptors
and our own, and scanners try them in order.

Our own URL is `https://tracewarn.example/c?v=1#<base64url payload, no padding>`: like CWA's, the
payload sits in the fragment, which browsers never send to a web server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from tracewarn.protocol.errors import QRCodeFormatError
from tracewarn.protocol.presence._encoding import (
    b32_decode,
    b32_encode,
    b64url_decode,
    b64url_encode,
)

__all__ = [
    "CWA_DESCRIPTOR",
    "CWA_URL_PREFIX",
    "DEFAULT_DESCRIPTORS",
    "LUCA_DESCRIPTOR",
    "MAX_URL_LENGTH",
    "SUPPORTED_URL_VERSIONS",
    "TRACEWARN_DESCRIPTOR",
    "TRACEWARN_URL_PREFIX",
    "PayloadEncoding",
    "QRCodeDescriptor",
    "ScannedCode",
    "build_qr_url",
    "parse_qr_url",
    "require_supported_version",
]

# The `v=` of every URL form defined so far is 1; a scanner cannot know what a later version's
# payload means, so it refuses it rather than reading it as version 1 (`scan`, `check_in`).
SUPPORTED_URL_VERSIONS = frozenset({1})

CWA_URL_PREFIX = "https://e.coronawarn.app?v=1#"
TRACEWARN_URL_PREFIX = "https://tracewarn.example/c?v=1#"
# A QR code (version 40, level L) holds at most 2,953 bytes; anything longer was not scanned.
MAX_URL_LENGTH = 4096


class PayloadEncoding(IntEnum):
    """CWA `PayloadEncoding`: 0 BASE32, 1 BASE64 (decoded with the URL-safe alphabet)."""

    BASE32 = 0
    BASE64 = 1


@dataclass(frozen=True, slots=True)
class QRCodeDescriptor:
    """One accepted URL pattern, as in CWA's app configuration `qrCodeDescriptors`."""

    regex_pattern: str
    version_group_index: int
    encoded_payload_group_index: int
    payload_encoding: PayloadEncoding
    name: str = ""

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.regex_pattern, re.IGNORECASE)


CWA_DESCRIPTOR = QRCodeDescriptor(
    r"https://e\.coronawarn\.app/?\?v=(\d+)\#(.+)", 0, 1, PayloadEncoding.BASE64, "cwa"
)
LUCA_DESCRIPTOR = QRCodeDescriptor(
    r"https://app\.luca-app\.de/webapp/.*#.*/CWA(\d+)/(.+)", 0, 1, PayloadEncoding.BASE64, "luca"
)
TRACEWARN_DESCRIPTOR = QRCodeDescriptor(
    r"https://tracewarn\.example/c/?\?v=(\d+)\#(.+)", 0, 1, PayloadEncoding.BASE64, "tracewarn"
)
DEFAULT_DESCRIPTORS: tuple[QRCodeDescriptor, ...] = (
    CWA_DESCRIPTOR,
    LUCA_DESCRIPTOR,
    TRACEWARN_DESCRIPTOR,
)


@dataclass(frozen=True, slots=True)
class ScannedCode:
    """What a URL yields before the payload is parsed: the URL version and the raw payload."""

    url_version: int
    payload: bytes
    descriptor: QRCodeDescriptor


def require_supported_version(scanned: ScannedCode) -> ScannedCode:
    """`scanned` itself if its URL version is one this scanner understands, else an error."""
    if scanned.url_version not in SUPPORTED_URL_VERSIONS:
        known = ", ".join(str(v) for v in sorted(SUPPORTED_URL_VERSIONS))
        raise QRCodeFormatError(
            f"QR URL version {scanned.url_version} is not supported (this scanner reads v={known})"
        )
    return scanned


def parse_qr_url(
    url: str, descriptors: tuple[QRCodeDescriptor, ...] = DEFAULT_DESCRIPTORS
) -> ScannedCode:
    """Recognise a scanned string with the first descriptor whose regex matches all of it (CWA event registration [docs/specifications.md#cwa-events]).

    Raises `QRCodeFormatError` if no descriptor matches or the payload text does not decode.
    """
    text = url.strip()
    if len(text) > MAX_URL_LENGTH:
        raise QRCodeFormatError(f"QR URL is {len(text)} characters, longer than any QR code holds")
    for descriptor in descriptors:
        match = descriptor.compiled().fullmatch(text)
        if match is None:
            continue
        groups = match.groups()
        try:
            version_text = groups[descriptor.version_group_index]
            payload_text = groups[descriptor.encoded_payload_group_index]
        except IndexError:
            raise QRCodeFormatError(
                f"QR descriptor {descriptor.name or descriptor.regex_pattern!r} names a group "
                "its regex does not have"
            ) from None
        try:
            url_version = int(version_text)
        except (TypeError, ValueError):
            raise QRCodeFormatError(f"QR URL version {version_text!r} is not a number") from None
        if descriptor.payload_encoding is PayloadEncoding.BASE32:
            payload = b32_decode(payload_text)
        else:
            payload = b64url_decode(payload_text)
        return ScannedCode(url_version, payload, descriptor)
    known = ", ".join(d.name or d.regex_pattern for d in descriptors)
    raise QRCodeFormatError(
        f"not a check-in QR code: the URL matches none of the known forms ({known})"
    )


def build_qr_url(
    payload: bytes,
    prefix: str = TRACEWARN_URL_PREFIX,
    encoding: PayloadEncoding = PayloadEncoding.BASE64,
) -> str:
    """The URL printed in the QR code: prefix + base64url (no padding) or base32 of the payload."""
    text = b64url_encode(payload) if encoding is PayloadEncoding.BASE64 else b32_encode(payload)
    return prefix + text
