"""The one exception tree of the protocol library.

Every error a protocol function raises on bad input is a `ProtocolError`, so callers (the server
turning it into a 4xx, the CLI into exit code 2) can catch one type and still say exactly what
was wrong from the subclass and message.
"""

from __future__ import annotations

__all__ = [
    "CheckInFormatError",
    "ConfigurationError",
    "CryptoFormatError",
    "ExportFormatError",
    "FederationFormatError",
    "InvalidMAC",
    "InvalidSignature",
    "KeyFormatError",
    "MatchingInputError",
    "ProtocolError",
    "QRCodeFormatError",
    "RiskInputError",
    "SubmissionFormatError",
    "VerificationCodeError",
]


class ProtocolError(ValueError):
    """Base of every error raised by `tracewarn.protocol` for bad input."""


class KeyFormatError(ProtocolError):
    """A temporary exposure key or its metadata is out of range (length, interval, period)."""


class ExportFormatError(ProtocolError):
    """An export file (zip, export.bin, export.sig) is malformed, oversized or truncated."""


class FederationFormatError(ProtocolError):
    """A federation batch, its signature container or a member certificate is malformed."""


class InvalidSignature(ProtocolError):  # noqa: N818 - named like cryptography's InvalidSignature
    """A signature does not verify against the given public key."""


class InvalidMAC(ProtocolError):  # noqa: N818 - mirrors InvalidSignature
    """A message authentication code does not verify; the data was tampered with or misaddressed."""


class CryptoFormatError(ProtocolError):
    """Key material or ciphertext has the wrong size or shape."""


class MatchingInputError(ProtocolError):
    """Diagnosis keys or observations given to the matcher are invalid."""


class ConfigurationError(ProtocolError):
    """A risk or protocol configuration is inconsistent (overlapping ranges, missing mappings)."""


class RiskInputError(ProtocolError):
    """An exposure window or other input to risk scoring is malformed or out of range."""


class CheckInFormatError(ProtocolError):
    """A check-in, check-in record or protected report is malformed."""


class QRCodeFormatError(CheckInFormatError):
    """A QR code URL or payload cannot be decoded or fails validation."""


class SubmissionFormatError(ProtocolError):
    """A submission payload breaks a validation rule."""


class VerificationCodeError(ProtocolError):
    """A verification code, teleTAN or TAN is malformed."""
