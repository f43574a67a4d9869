"""One-call recipes from a scanned string to a location, as a device or the CLI needs them."""

from __future__ import annotations

from dataclasses import dataclass

from tracewarn.protocol.presence.location import (
    TraceLocation,
    decode_qr_payload,
    encode_qr_payload,
    location_id,
    location_id_hash,
    validate_location,
)
from tracewarn.protocol.presence.qr import (
    DEFAULT_DESCRIPTORS,
    TRACEWARN_URL_PREFIX,
    QRCodeDescriptor,
    build_qr_url,
    parse_qr_url,
    require_supported_version,
)

__all__ = ["DecodedCode", "decode_location_url", "location_url", "scan_location_url"]


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """A decoded QR URL: the location, its raw payload, and the ids derived from those bytes."""

    url_version: int
    payload: bytes
    location: TraceLocation
    location_id: bytes
    location_id_hash: bytes
    descriptor: QRCodeDescriptor


def decode_location_url(
    url: str, descriptors: tuple[QRCodeDescriptor, ...] = DEFAULT_DESCRIPTORS
) -> DecodedCode:
    """Decode without applying the scan rules (CWA event registration [docs/specifications.md#cwa-events])."""
    scanned = parse_qr_url(url, descriptors)
    loc_id = location_id(scanned.payload)
    return DecodedCode(
        url_version=scanned.url_version,
        payload=scanned.payload,
        location=decode_qr_payload(scanned.payload),
        location_id=loc_id,
        location_id_hash=location_id_hash(loc_id),
        descriptor=scanned.descriptor,
    )


def scan_location_url(
    url: str, descriptors: tuple[QRCodeDescriptor, ...] = DEFAULT_DESCRIPTORS
) -> DecodedCode:
    """Decode and validate like a device (CWA event registration [docs/specifications.md#cwa-events]); `QRCodeFormatError` names the failed rule.

    A URL version other than 1 is refused: no other is defined, so its payload cannot be read.
    """
    decoded = decode_location_url(url, descriptors)
    require_supported_version(parse_qr_url(url, descriptors))
    validate_location(decoded.location)
    return decoded


def location_url(location: TraceLocation, prefix: str = TRACEWARN_URL_PREFIX) -> str:
    """The URL to print for a location, after checking it passes the scan rules itself."""
    return build_qr_url(encode_qr_payload(validate_location(location)), prefix)
