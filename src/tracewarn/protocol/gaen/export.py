"""Signed GAEN key export files: write, read and verify (GAEN export file format [docs/specifications.md#gaen-export]).

Theory of operation: an export file is a zip of `export.bin` (the 16-byte header `EK Export v1`
plus four spaces, then a proto2 `TemporaryExposureKeyExport`) and `export.sig` (a
`TEKSignatureList` with one ECDSA P-256 / SHA-256 DER signature over the whole export.bin per
signing key). Writing sorts the keys by their bytes (so upload order cannot link a person's keys),
optionally pads a small batch with random keys (the caller passes the random bytes), splits big
sets into files of at most `max_keys_per_file` keys and signs each file with RFC 6979
deterministic ECDSA, so the module needs no randomness or clock of its own. Reading accepts a zip
or a bare export.bin, bounds every size, and raises only ExportFormatError for bad bytes. Keys
are handled as columns (`KeyArrays`); `ExportKey` objects are built only on request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.message import DecodeError

from tracewarn.protocol.errors import ConfigurationError, ExportFormatError, InvalidSignature
from tracewarn.protocol.gaen import _signing
from tracewarn.protocol.gaen._exporttypes import (
    ECDSA_P256_SHA256_OID,
    EXPORT_HEADER,
    MAX_KEYS_PER_FILE,
    MAX_SIGNATURE_INFOS,
    BatchNumbering,
    ExportFile,
    ExportKey,
    ExportPadding,
    ExportSignature,
    ExportSigner,
    SignatureInfo,
    VerifiedExport,
)
from tracewarn.protocol.gaen._keyarrays import INT32_MAX, KEY_LENGTH, KeyArrays
from tracewarn.protocol.gaen._keywire import decode_key_records, encode_key_records
from tracewarn.protocol.gaen._rawexport import RawExport, check_field_budget, field_budget
from tracewarn.protocol.gaen._zipfile import ZipLimits, read_export_zip, write_export_zip
from tracewarn.protocol.proto import export_pb2

__all__ = [
    "ECDSA_P256_SHA256_OID",
    "EXPORT_HEADER",
    "MAX_KEYS_PER_FILE",
    "MAX_SIGNATURE_INFOS",
    "BatchNumbering",
    "ExportFile",
    "ExportKey",
    "ExportPadding",
    "ExportSignature",
    "ExportSigner",
    "KeyArrays",
    "SignatureInfo",
    "VerifiedExport",
    "ZipLimits",
    "encode_export_bin",
    "read_export",
    "sign_export_bin",
    "verify_export",
    "verify_signed_zip",
    "write_export_files",
    "write_signed_zip",
]

_UINT64_MAX = 2**64 - 1
_JITTER_BYTES = 8


def _check_uint64(name: str, value: int) -> None:
    if not 0 <= value <= _UINT64_MAX:
        raise ConfigurationError(f"{name} {value} is not a fixed64 (0..2^64-1)")


def encode_export_bin(
    keys: KeyArrays,
    *,
    region: str,
    start_timestamp: int,
    end_timestamp: int,
    batch_num: int = 1,
    batch_size: int = 1,
    signature_infos: Sequence[SignatureInfo] = (),
    revised_keys: KeyArrays | None = None,
) -> bytes:
    """export.bin bytes: header + TemporaryExposureKeyExport, keys in the order given."""
    _check_uint64("start_timestamp", start_timestamp)
    _check_uint64("end_timestamp", end_timestamp)
    keys.validate_for_export()
    head = export_pb2.TemporaryExposureKeyExport(
        start_timestamp=start_timestamp,
        end_timestamp=end_timestamp,
        region=region,
        batch_num=batch_num,
        batch_size=batch_size,
    )
    for info in signature_infos:
        head.signature_infos.add(
            verification_key_version=info.verification_key_version,
            verification_key_id=info.verification_key_id,
            signature_algorithm=info.signature_algorithm,
        )
    # Protobuf writes fields in number order, so fields 1-6, then 7 (keys), then 8 (revised) is
    # the runtime's own byte sequence; tests compare against it.
    parts = [EXPORT_HEADER, head.SerializeToString(), encode_key_records(keys, 7)]
    if revised_keys is not None:
        revised_keys.validate_for_export()
        parts.append(encode_key_records(revised_keys, 8))
    return b"".join(parts)


def sign_export_bin(
    export_bin: bytes, signers: Sequence[ExportSigner], *, batch_num: int = 1, batch_size: int = 1
) -> bytes:
    """export.sig bytes: one deterministic (RFC 6979) ECDSA signature per signer (GAEN export file format [docs/specifications.md#gaen-export])."""
    digest = _signing.sha256(export_bin)
    message = export_pb2.TEKSignatureList()
    for signer in signers:
        info = signer.signature_info
        entry = message.signatures.add(
            batch_num=batch_num,
            batch_size=batch_size,
            signature=_signing.sign_digest(signer.private_key, digest),
        )
        entry.signature_info.verification_key_version = info.verification_key_version
        entry.signature_info.verification_key_id = info.verification_key_id
        entry.signature_info.signature_algorithm = info.signature_algorithm
    return message.SerializeToString()


def write_signed_zip(
    export_bin: bytes, signers: Sequence[ExportSigner], *, compresslevel: int = 1
) -> bytes:
    """A zip signed like a key export around any export.bin; the inverse of `verify_signed_zip`.

    For files the backend signs as it signs key exports but which are not key exports, such as
    CWA's hourly trace-warning packages.
    """
    return write_export_zip(export_bin, sign_export_bin(export_bin, signers), compresslevel)


def _padding_keys(
    keys: KeyArrays,
    padding: ExportPadding,
    max_keys: int,
    random_bytes: Callable[[int], bytes] | None,
) -> KeyArrays:
    n = len(keys)
    if n == 0 or n >= padding.min_keys:
        return KeyArrays.empty()
    if random_bytes is None:
        raise ConfigurationError("padding needs random_bytes (e.g. os.urandom)")
    # 8 random bytes mod (jitter + 1): the bias is below 2^-50 for any sensible jitter.
    jitter = int.from_bytes(_random(random_bytes, _JITTER_BYTES), "big") % (padding.jitter + 1)
    count = min(padding.min_keys + jitter, max_keys) - n
    if count <= 0:
        return KeyArrays.empty()
    # Random key bytes on copies of real keys' other fields, so padding looks like real keys.
    donors = keys.take(np.arange(count) % n)
    return dataclasses.replace(donors, key_data=_random(random_bytes, KEY_LENGTH * count))


def _random(random_bytes: Callable[[int], bytes], count: int) -> bytes:
    data = random_bytes(count)
    if not isinstance(data, bytes) or len(data) != count:
        raise ConfigurationError(f"random_bytes({count}) returned {len(data)} bytes")
    return data


def _as_arrays(keys: Iterable[ExportKey] | KeyArrays) -> KeyArrays:
    return keys if isinstance(keys, KeyArrays) else KeyArrays.from_keys(keys)


def write_export_files(
    keys: Iterable[ExportKey] | KeyArrays,
    *,
    region: str,
    start_timestamp: int,
    end_timestamp: int,
    signers: Sequence[ExportSigner],
    max_keys_per_file: int = MAX_KEYS_PER_FILE,
    padding: ExportPadding | None = None,
    random_bytes: Callable[[int], bytes] | None = None,
    revised_keys: Iterable[ExportKey] | KeyArrays = (),
    batch_numbering: BatchNumbering = BatchNumbering.SPLIT,
    compresslevel: int = 1,
) -> list[bytes]:
    """Signed export zips for one batch of keys, one per file (GAEN export file format [docs/specifications.md#gaen-export]).

    Keys (and, separately, revised keys) are sorted by key bytes and cut into files of at most
    `max_keys_per_file` entries, keys first. With `padding`, a small batch of keys is padded
    with random keys from `random_bytes`; revised keys are never padded. An empty batch gives
    one file without keys.
    """
    if max_keys_per_file < 1:
        raise ConfigurationError("max_keys_per_file must be >= 1")
    if len(signers) > MAX_SIGNATURE_INFOS:
        raise ConfigurationError(f"at most {MAX_SIGNATURE_INFOS} signers per file")
    if start_timestamp > end_timestamp:
        raise ConfigurationError("start_timestamp is after end_timestamp")
    primary = _as_arrays(keys)
    primary.validate_for_export()
    if padding is not None:
        primary = KeyArrays.concat(
            [primary, _padding_keys(primary, padding, max_keys_per_file, random_bytes)]
        )
    primary = primary.sorted_by_key()
    revised = _as_arrays(revised_keys)
    revised.validate_for_export()
    revised = revised.sorted_by_key()
    total = len(primary) + len(revised)
    file_count = max(1, -(-total // max_keys_per_file))
    if file_count > INT32_MAX:
        raise ConfigurationError("too many files for an int32 batch_size")
    infos = [signer.signature_info for signer in signers]
    files = []
    for index in range(file_count):
        first, last = index * max_keys_per_file, min((index + 1) * max_keys_per_file, total)
        own = primary.slice(min(first, len(primary)), min(last, len(primary)))
        own_revised = revised.slice(
            max(first, len(primary)) - len(primary), max(last, len(primary)) - len(primary)
        )
        if batch_numbering is BatchNumbering.SPLIT:
            batch_num, batch_size, end = index + 1, file_count, end_timestamp
        else:
            batch_num, batch_size, end = 1, 1, end_timestamp + index
        export_bin = encode_export_bin(
            own,
            region=region,
            start_timestamp=start_timestamp,
            end_timestamp=end,
            batch_num=batch_num,
            batch_size=batch_size,
            signature_infos=infos,
            revised_keys=own_revised if len(own_revised) else None,
        )
        export_sig = sign_export_bin(
            export_bin, signers, batch_num=batch_num, batch_size=batch_size
        )
        files.append(write_export_zip(export_bin, export_sig, compresslevel))
    return files


def _signature_info(message: export_pb2.SignatureInfo) -> SignatureInfo:
    return SignatureInfo(
        verification_key_version=message.verification_key_version,
        verification_key_id=message.verification_key_id,
        signature_algorithm=message.signature_algorithm,
    )


def _parse_export_bin(
    export_bin: bytes, signatures: tuple[ExportSignature, ...], max_keys: int
) -> ExportFile:
    if export_bin[: len(EXPORT_HEADER)] != EXPORT_HEADER:
        raise ExportFormatError(
            f"export.bin must start with the header {EXPORT_HEADER!r}, "
            f"found {export_bin[: len(EXPORT_HEADER)]!r}"
        )
    body = memoryview(export_bin)[len(EXPORT_HEADER) :]  # no copy of a file of up to 96 MiB
    check_field_budget(body)
    try:
        raw = RawExport.FromString(body)
        if len(raw.keys) + len(raw.revised_keys) + len(raw.signature_infos) > field_budget(
            len(body)
        ):
            raise ExportFormatError("export.bin holds more records than its size allows")
        # Checked after the runtime split the records (bounded by max_bin_size) and before any
        # per-key work: decoding, key objects and JSON all grow with this count.
        if len(raw.keys) + len(raw.revised_keys) > max_keys:
            raise ExportFormatError(
                f"export.bin holds {len(raw.keys) + len(raw.revised_keys)} key records, "
                f"over the limit of {max_keys}"
            )
        region = raw.region.decode("utf-8")
        infos = tuple(
            _signature_info(export_pb2.SignatureInfo.FromString(item))
            for item in raw.signature_infos
        )
        keys = decode_key_records(list(raw.keys), "key")
        revised = decode_key_records(list(raw.revised_keys), "revised key")
    except (DecodeError, UnicodeDecodeError) as exc:
        raise ExportFormatError(f"malformed TemporaryExposureKeyExport: {exc}") from None
    return ExportFile(
        export_bin=export_bin,
        region=region,
        batch_num=int(raw.batch_num),
        batch_size=int(raw.batch_size),
        start_timestamp=int(raw.start_timestamp),
        end_timestamp=int(raw.end_timestamp),
        signature_infos=infos,
        signatures=signatures,
        _keys=keys,
        _revised_keys=revised,
    )


def _parse_export_sig(export_sig: bytes) -> tuple[ExportSignature, ...]:
    try:
        message = export_pb2.TEKSignatureList.FromString(export_sig)
        return tuple(
            ExportSignature(
                signature_info=_signature_info(item.signature_info),
                batch_num=int(item.batch_num),
                batch_size=int(item.batch_size),
                signature=bytes(item.signature),
            )
            for item in message.signatures
        )
    except (DecodeError, UnicodeDecodeError) as exc:
        raise ExportFormatError(f"malformed export.sig (TEKSignatureList): {exc}") from None


def read_export(data: bytes, *, limits: ZipLimits | None = None) -> ExportFile:
    """Parse an export zip or a bare export.bin; any bad input raises ExportFormatError.

    Does not check signatures (see `verify_export`). Absent fields take their protobuf
    defaults (rolling_period 144, batch numbers 0, region ""); unknown and reserved fields are
    skipped.
    """
    limits = limits or ZipLimits()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ExportFormatError(f"an export is bytes, got {type(data).__name__}")
    data = bytes(data)
    if data.startswith(EXPORT_HEADER):
        if len(data) > limits.max_bin_size:
            raise ExportFormatError(
                f"export.bin is {len(data)} bytes, over the {limits.max_bin_size}-byte limit"
            )
        return _parse_export_bin(data, (), limits.max_keys)
    if data.startswith(b"PK"):
        export_bin, export_sig = read_export_zip(data, limits)
        signatures = _parse_export_sig(export_sig)
        return _parse_export_bin(export_bin, signatures, limits.max_keys)
    raise ExportFormatError(f"neither an export zip nor an export.bin: starts with {data[:16]!r}")


PublicKeys = (
    ec.EllipticCurvePublicKey
    | Sequence[ec.EllipticCurvePublicKey]
    | Mapping[str | tuple[str, str], ec.EllipticCurvePublicKey]
)


def _candidates(public_keys: PublicKeys, info: SignatureInfo) -> list[ec.EllipticCurvePublicKey]:
    if isinstance(public_keys, ec.EllipticCurvePublicKey):
        return [public_keys]
    if isinstance(public_keys, Mapping):
        by_pair = public_keys.get((info.verification_key_id, info.verification_key_version))
        by_id = public_keys.get(info.verification_key_id)
        return [key for key in (by_pair, by_id) if key is not None]
    return list(public_keys)


def verify_export(
    data: bytes | ExportFile, public_keys: PublicKeys, *, limits: ZipLimits | None = None
) -> VerifiedExport:
    """Check export.sig against export.bin (GAEN export file format [docs/specifications.md#gaen-export]) and return the parsed export.

    `public_keys` is one key, a list of keys (any may match), or a mapping from
    `verification_key_id` or `(verification_key_id, verification_key_version)` to the key, as
    a phone selects it. Raises InvalidSignature unless at least one ECDSA P-256 / SHA-256
    signature verifies, and also when a signature claiming a mapped key fails.
    """
    export = data if isinstance(data, ExportFile) else read_export(data, limits=limits)

    def unconfirmed(signature: ExportSignature) -> str | None:
        # export.sig itself is unsigned: its metadata counts only where the signed export.bin
        # confirms it, so no byte of either file can change without the check failing.
        if signature.signature_info not in export.signature_infos:
            return f"key id {signature.signature_info.verification_key_id!r} is not listed in export.bin"
        if (signature.batch_num, signature.batch_size) != (export.batch_num, export.batch_size):
            return "batch numbers differ from export.bin's"
        return None

    verified = _verify_signatures(export.export_bin, export.signatures, public_keys, unconfirmed)
    return VerifiedExport(export=export, verified_by=verified)


def verify_signed_zip(
    data: bytes, public_keys: PublicKeys, *, limits: ZipLimits | None = None
) -> bytes:
    """The export.bin of a zip signed like a key export, whatever export.bin holds.

    For files the backend signs as it signs key exports (GAEN export file format [docs/specifications.md#gaen-export]) that are not key exports,
    such as CWA's hourly trace-warning packages (a `TraceWarningPackage` without the export
    header). The zip is read with the same bounds as an export and the signatures are checked
    exactly as by `verify_export`, except that export.bin is not parsed, so signature metadata
    cannot be tied to it. Raises ExportFormatError for a bad zip, InvalidSignature as
    `verify_export` does.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ExportFormatError(f"a signed zip is bytes, got {type(data).__name__}")
    export_bin, export_sig = read_export_zip(bytes(data), limits or ZipLimits())
    _verify_signatures(export_bin, _parse_export_sig(export_sig), public_keys, lambda _: None)
    return export_bin


def _verify_signatures(
    export_bin: bytes,
    signatures: Sequence[ExportSignature],
    public_keys: PublicKeys,
    unconfirmed: Callable[[ExportSignature], str | None],
) -> tuple[SignatureInfo, ...]:
    """The infos of the signatures that verify; InvalidSignature if none (or a mapped key fails).

    `unconfirmed` names why a signature's metadata does not count, or returns None.
    """
    if not signatures:
        raise InvalidSignature("the export has no export.sig signatures to verify")
    digest = _signing.sha256(export_bin)
    verified: list[SignatureInfo] = []
    skipped: list[str] = []
    for signature in signatures:
        info = signature.signature_info
        if info.signature_algorithm != ECDSA_P256_SHA256_OID:
            skipped.append(f"algorithm {info.signature_algorithm!r} is not ECDSA P-256/SHA-256")
            continue
        reason = unconfirmed(signature)
        if reason is not None:
            skipped.append(reason)
            continue
        candidates = _candidates(public_keys, info)
        ok = any(_signing.verify_digest(k, signature.signature, digest) for k in candidates)
        if ok:
            verified.append(info)
        elif isinstance(public_keys, Mapping) and candidates:
            raise InvalidSignature(
                f"signature by key id {info.verification_key_id!r} version "
                f"{info.verification_key_version!r} does not verify"
            )
    if not verified:
        detail = f" ({'; '.join(skipped)})" if skipped else ""
        raise InvalidSignature(
            f"no signature in export.sig verifies with the given public key(s){detail}"
        )
    return tuple(verified)
