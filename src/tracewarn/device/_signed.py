"""Verifying a signed trace warning package zip (export.bin + export.sig, as key packages).

The backend signs hourly warning packages the way it signs key exports (gaen.md §3.4: ECDSA
P-256 over SHA-256 of the whole export.bin). `verify_export` parses export.bin as a key export,
so warning packages get this small check instead: same zip bounds, same signature list, same
pinned keys. Returns the verified export.bin.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.message import DecodeError

from tracewarn.protocol.errors import ExportFormatError, InvalidSignature
from tracewarn.protocol.gaen.export import ECDSA_P256_SHA256_OID
from tracewarn.protocol.proto import export_pb2

MAX_ENTRY_BYTES = 16 * 1024 * 1024


def verify_signed_zip(
    data: bytes, public_keys: Mapping[str | tuple[str, str], ec.EllipticCurvePublicKey]
) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = {}
            for name in ("export.bin", "export.sig"):
                entry = archive.getinfo(name)
                if entry.file_size > MAX_ENTRY_BYTES:
                    raise ExportFormatError(f"{name} is larger than {MAX_ENTRY_BYTES} bytes")
                entries[name] = archive.read(entry)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ExportFormatError(f"not a signed package zip: {exc}") from None
    signatures = export_pb2.TEKSignatureList()
    try:
        signatures.ParseFromString(entries["export.sig"])
    except DecodeError:
        raise ExportFormatError("export.sig is not a TEKSignatureList") from None
    for signature in signatures.signatures:
        info = signature.signature_info
        if info.signature_algorithm != ECDSA_P256_SHA256_OID:
            continue
        key = public_keys.get((info.verification_key_id, info.verification_key_version))
        if key is None:
            continue
        try:
            key.verify(signature.signature, entries["export.bin"], ec.ECDSA(hashes.SHA256()))
        except CryptoInvalidSignature:
            raise InvalidSignature(
                f"signature by {info.verification_key_id}/{info.verification_key_version} "
                "does not verify"
            ) from None
        return entries["export.bin"]
    raise InvalidSignature("no signature in export.sig is by a pinned key of this region")
