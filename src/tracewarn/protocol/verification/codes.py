"""Verification code formats: teleTAN, TAN, registration token, test GUID.

Theory of operation (CWA verification server [docs/specifications.md#cwa-verification]): a teleTAN is read out over the
phone, so it uses a 31-character alphabet without look-alikes (0/O, 1/I/L) and carries one check
character so typing errors are caught on the device before any server round trip. TANs and
registration tokens are UUID v4 strings; a lab's test code is CWA's GUID (6 hex characters, `-`,
a UUID) and the device sends only its SHA-256 as 64 hex characters. Everything here is pure:
generators take the random bytes from the caller.
"""

from __future__ import annotations

import hashlib
import re

from tracewarn.protocol.errors import VerificationCodeError

__all__ = [
    "GUID_RANDOM_BYTES",
    "TELETAN_ALPHABET",
    "TELETAN_LENGTH",
    "TELETAN_RANDOM_BYTES",
    "UUID_RANDOM_BYTES",
    "hash_test_guid",
    "is_hashed_guid",
    "is_teletan",
    "is_test_guid",
    "is_uuid4",
    "make_teletan",
    "make_test_guid",
    "make_uuid4",
    "teletan_check_character",
]

TELETAN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TELETAN_LENGTH = 10
_TELETAN_BODY = TELETAN_LENGTH - 1
# 16 random bytes reduced modulo 31**9 (~2**44.6): the bias is below 2**-83, far under any use.
TELETAN_RANDOM_BYTES = 16
UUID_RANDOM_BYTES = 16
GUID_RANDOM_BYTES = 3 + UUID_RANDOM_BYTES

_TELETAN_RE = re.compile(f"^[{TELETAN_ALPHABET}]{{{TELETAN_LENGTH}}}$")
_UUID4_RE = re.compile(r"^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89abAB][a-f0-9]{3}-[a-f0-9]{12}$")
_GUID_RE = re.compile(
    r"^[0-9A-Fa-f]{6}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
_HASHED_GUID_RE = re.compile(r"^[0-9A-Fa-f]{64}$")


def teletan_check_character(body: str) -> str:
    """Check character of a 9-character teleTAN body (CWA verification server, TanService).

    The first character of the lowercase hex SHA-256 of the body, upper-cased, with `0` -> `G`
    and `1` -> `H` so the result stays inside the teleTAN alphabet.
    """
    if len(body) != _TELETAN_BODY or any(c not in TELETAN_ALPHABET for c in body):
        raise VerificationCodeError(
            f"a teleTAN body is {_TELETAN_BODY} characters from {TELETAN_ALPHABET!r}"
        )
    first = hashlib.sha256(body.encode("ascii")).hexdigest()[0].upper()
    return {"0": "G", "1": "H"}.get(first, first)


def make_teletan(random_bytes: bytes) -> str:
    """A teleTAN (9 uniform alphabet characters + check character) from 16 random bytes."""
    if len(random_bytes) != TELETAN_RANDOM_BYTES:
        raise VerificationCodeError(
            f"make_teletan needs exactly {TELETAN_RANDOM_BYTES} random bytes"
        )
    value = int.from_bytes(random_bytes, "big") % len(TELETAN_ALPHABET) ** _TELETAN_BODY
    chars = []
    for _ in range(_TELETAN_BODY):
        value, digit = divmod(value, len(TELETAN_ALPHABET))
        chars.append(TELETAN_ALPHABET[digit])
    body = "".join(chars)
    return body + teletan_check_character(body)


def is_teletan(value: str, *, check_character: bool = True) -> bool:
    """Syntax check of a teleTAN; with `check_character` also verify the 10th character.

    The CWA server checks only the syntax (`^[alphabet]{10}$`); devices and tracewarn's server
    also verify the check character so a mistyped teleTAN fails before it costs a rate-limit slot.
    """
    if not isinstance(value, str) or not _TELETAN_RE.match(value):
        return False
    return not check_character or teletan_check_character(value[:-1]) == value[-1]


def make_uuid4(random_bytes: bytes) -> str:
    """A UUID version 4 string (TAN, registration token) from 16 random bytes (RFC 9562 CWA FAQ [docs/specifications.md#cwa-faq])."""
    if len(random_bytes) != UUID_RANDOM_BYTES:
        raise VerificationCodeError(f"make_uuid4 needs exactly {UUID_RANDOM_BYTES} random bytes")
    raw = bytearray(random_bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_uuid4(value: str) -> bool:
    """Whether `value` has the UUID v4 pattern the CWA verification server accepts."""
    return isinstance(value, str) and bool(_UUID4_RE.match(value))


def make_test_guid(random_bytes: bytes) -> str:
    """A test GUID as in CWA's PCR QR code: 6 upper-case hex characters, `-`, a UUID v4."""
    if len(random_bytes) != GUID_RANDOM_BYTES:
        raise VerificationCodeError(
            f"make_test_guid needs exactly {GUID_RANDOM_BYTES} random bytes"
        )
    return f"{random_bytes[:3].hex().upper()}-{make_uuid4(random_bytes[3:])}"


def is_test_guid(value: str) -> bool:
    return isinstance(value, str) and bool(_GUID_RE.match(value))


def hash_test_guid(guid: str) -> str:
    """What a device sends for a test GUID: SHA-256 of its ASCII bytes, 64 lowercase hex."""
    if not is_test_guid(guid):
        raise VerificationCodeError("not a test GUID (6 hex characters, '-', a UUID v4)")
    return hashlib.sha256(guid.encode("ascii")).hexdigest()


def is_hashed_guid(value: str) -> bool:
    """Whether `value` is 64 hex characters, the CWA `key` pattern for keyType GUID."""
    return isinstance(value, str) and bool(_HASHED_GUID_RE.match(value))
