"""Hypothesis properties of export files, and the columnar codec against the protobuf runtime.

The protobuf runtime is the second implementation here: our vectorised key encoder must produce
its bytes exactly, and our decoder must agree with its proto2 semantics on any record bytes.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from unittest import mock

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import vector_path
from tracewarn.protocol.errors import ExportFormatError, InvalidSignature, ProtocolError
from tracewarn.protocol.gaen import (
    EXPORT_HEADER,
    ExportKey,
    ExportSigner,
    KeyArrays,
    SignatureInfo,
    _keywire,
    encode_export_bin,
    read_export,
    sign_export_bin,
    verify_export,
    verify_signed_zip,
    write_export_files,
)
from tracewarn.protocol.gaen._keywire import decode_key_records
from tracewarn.protocol.gaen._zipfile import write_export_zip
from tracewarn.protocol.proto import export_pb2

SIGNER = ExportSigner(ec.derive_private_key(99, ec.SECP256R1()), "262", "v1")

export_keys = st.builds(
    ExportKey,
    key_data=st.binary(min_size=16, max_size=16),
    rolling_start_interval_number=st.integers(0, 2**31 - 1),
    rolling_period=st.integers(1, 144),
    transmission_risk_level=st.none() | st.integers(0, 8),
    report_type=st.none() | st.integers(0, 5),
    days_since_onset_of_symptoms=st.none() | st.integers(-(2**31), 2**31 - 1),
)
key_lists = st.lists(export_keys, max_size=40)


def _reference_message(keys: list[ExportKey], **header: object) -> bytes:
    """The same export built field by field with the protobuf runtime, our presence policy."""
    message = export_pb2.TemporaryExposureKeyExport(**header)  # type: ignore[arg-type]
    for key in keys:
        item = message.keys.add(key_data=key.key_data)
        if key.transmission_risk_level is not None:
            item.transmission_risk_level = key.transmission_risk_level
        if key.rolling_start_interval_number != 0:
            item.rolling_start_interval_number = key.rolling_start_interval_number
        if key.rolling_period != 144:
            item.rolling_period = key.rolling_period
        if key.report_type is not None:
            item.report_type = key.report_type  # type: ignore[assignment]
        if key.days_since_onset_of_symptoms is not None:
            item.days_since_onset_of_symptoms = key.days_since_onset_of_symptoms
    return EXPORT_HEADER + message.SerializeToString()


@given(key_lists, st.text(max_size=5), st.integers(0, 2**64 - 1), st.integers(1, 3))
def test_encoder_is_byte_identical_to_protobuf(
    keys: list[ExportKey], region: str, start: int, batch: int
) -> None:
    info = SignatureInfo("v1", "262")
    ours = encode_export_bin(
        KeyArrays.from_keys(keys),
        region=region,
        start_timestamp=start,
        end_timestamp=start,
        batch_num=batch,
        batch_size=batch,
        signature_infos=[info],
    )
    reference = _reference_message(
        keys,
        region=region,
        start_timestamp=start,
        end_timestamp=start,
        batch_num=batch,
        batch_size=batch,
        signature_infos=[info.as_dict()],
    )
    assert ours == reference


@settings(max_examples=60, deadline=None)
@given(key_lists, st.integers(1, 15))
def test_write_read_round_trip(keys: list[ExportKey], per_file: int) -> None:
    files = write_export_files(
        keys,
        region="DE",
        start_timestamp=1,
        end_timestamp=2,
        signers=[SIGNER],
        max_keys_per_file=per_file,
    )
    exports = [read_export(f) for f in files]
    assert len(files) == max(1, -(-len(keys) // per_file))
    got = [k for e in exports for k in e.keys]
    assert got == sorted(keys, key=lambda k: k.key_data)
    assert [list(e.key_arrays()) for e in exports] == [list(e.keys) for e in exports]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key_lists, st.data())
def test_sign_verify_and_any_flipped_byte_fails(keys: list[ExportKey], data: st.DataObject) -> None:
    (file,) = write_export_files(
        keys, region="DE", start_timestamp=1, end_timestamp=2, signers=[SIGNER]
    )
    original = verify_export(file, SIGNER.public_key()).export
    position = data.draw(st.integers(0, len(file) - 1), label="position")
    flip = data.draw(st.integers(1, 255), label="xor")
    tampered = bytearray(file)
    tampered[position] ^= flip
    try:
        result = verify_export(bytes(tampered), SIGNER.public_key())
    except ProtocolError:
        return
    # Only zip bytes that carry no content (e.g. "version made by", attributes) may change
    # without an error; then the signed export.bin is exactly the original.
    assert result.export.export_bin == original.export_bin


@settings(max_examples=40, deadline=None)
@given(key_lists.filter(bool), st.data())
def test_any_flipped_byte_of_export_bin_or_signature_fails(
    keys: list[ExportKey], data: st.DataObject
) -> None:
    (file,) = write_export_files(
        keys, region="DE", start_timestamp=1, end_timestamp=2, signers=[SIGNER]
    )
    with zipfile.ZipFile(io.BytesIO(file)) as archive:
        export_bin, export_sig = archive.read("export.bin"), archive.read("export.sig")
    which = data.draw(st.sampled_from(["bin", "sig"]))
    target = bytearray(export_bin if which == "bin" else export_sig)
    position = data.draw(st.integers(0, len(target) - 1))
    target[position] ^= data.draw(st.integers(1, 255))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.bin", bytes(target) if which == "bin" else export_bin)
        archive.writestr("export.sig", bytes(target) if which == "sig" else export_sig)
    with pytest.raises((InvalidSignature, ExportFormatError)):
        verify_export(out.getvalue(), SIGNER.public_key())


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.data())
def test_a_signed_zip_verifies_and_any_flipped_byte_of_it_fails(
    payload: bytes, data: st.DataObject
) -> None:
    # What the device does with trace-warning packages: export.bin is not a key export.
    signature = sign_export_bin(payload, [SIGNER])
    assert verify_signed_zip(write_export_zip(payload, signature), SIGNER.public_key()) == payload
    which = data.draw(st.sampled_from(["bin", "sig"]))
    target = bytearray(payload if which == "bin" else signature)
    target[data.draw(st.integers(0, len(target) - 1))] ^= data.draw(st.integers(1, 255))
    tampered = write_export_zip(
        bytes(target) if which == "bin" else payload,
        bytes(target) if which == "sig" else signature,
    )
    try:
        result = verify_signed_zip(tampered, {("262", "v1"): SIGNER.public_key()})
    except (InvalidSignature, ExportFormatError):
        return
    # export.sig is unsigned: a flip in its metadata (batch numbers) may pass, but never with
    # another payload, and a flipped payload never passes.
    assert which == "sig" and result == payload


@given(st.binary(max_size=300))
@example(b"")
@example(b"PK\x03\x04")
@example(EXPORT_HEADER)
def test_any_bytes_raise_only_export_format_error(data: bytes) -> None:
    with contextlib.suppress(ExportFormatError):
        read_export(data)


@given(st.binary(max_size=300))
def test_any_body_after_the_header_raises_only_export_format_error(body: bytes) -> None:
    with contextlib.suppress(ExportFormatError):
        read_export(EXPORT_HEADER + body)


@settings(max_examples=200)
@given(st.data())
def test_mutated_real_zip_raises_only_export_format_error(data: st.DataObject) -> None:
    sample = bytearray(
        vector_path("gaen", "export-example-testExport-2-records-1-of-1.zip").read_bytes()
    )
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(sample) - 1))
        sample[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(sample)))
    with contextlib.suppress(ExportFormatError):
        read_export(bytes(sample[:cut]))


# --- the vectorised record decoder against the protobuf runtime --------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


@st.composite
def wire_fields(draw: st.DrawFn) -> bytes:
    """One field as it may appear on the wire, canonical or not, known number or not."""
    number = draw(st.integers(1, 9) | st.integers(10, 2**10))
    wire = draw(st.sampled_from([0, 0, 0, 1, 2, 2, 5, 3, 4, 6]))
    tag = _varint((number << 3) | wire)
    if wire == 0:
        value = draw(
            st.integers(0, 300)
            | st.integers(0, 2**35)
            | st.integers(0, 2**64 - 1)
            | st.sampled_from([2**32 - 1, 2**31, 5, 6, 2**64 - 1])
        )
        encoded = _varint(value)
        padding = draw(st.integers(0, 2))  # non-canonical overlong encodings
        if padding and len(encoded) + padding <= 10:
            encoded = bytes(b | 0x80 for b in encoded) + b"\x80" * (padding - 1) + b"\x00"
        return tag + encoded
    if wire == 1:
        return tag + draw(st.binary(min_size=8, max_size=8))
    if wire == 5:
        return tag + draw(st.binary(min_size=4, max_size=4))
    if wire == 2:
        payload = draw(st.binary(min_size=16, max_size=16) | st.binary(max_size=140))
        return tag + _varint(len(payload)) + payload
    return tag + draw(st.binary(max_size=3))  # groups and bad wire types: usually invalid


@st.composite
def records(draw: st.DrawFn) -> bytes:
    key = b"\x0a\x10" + draw(st.binary(min_size=16, max_size=16))
    fields = draw(st.lists(wire_fields(), max_size=6))
    position = draw(st.integers(0, len(fields)))
    data = b"".join(fields[:position]) + key + b"".join(fields[position:])
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # truncated somewhere
    return data


_NAMES = (
    "transmission_risk_level",
    "rolling_start_interval_number",
    "rolling_period",
    "report_type",
    "days_since_onset_of_symptoms",
)


def _runtime_view(record: bytes) -> ExportKey | None:
    """What the protobuf runtime makes of a record, or None where a reader must refuse it."""
    try:
        message = export_pb2.TemporaryExposureKey.FromString(record)
    except DecodeError:
        return None
    period = message.rolling_period
    start = message.rolling_start_interval_number
    if len(message.key_data) != 16 or not 1 <= period <= 144 or start < 0:
        return None
    present = {name: message.HasField(name) for name in _NAMES}
    return ExportKey(
        key_data=message.key_data,
        rolling_start_interval_number=start,
        rolling_period=period,
        transmission_risk_level=(
            message.transmission_risk_level if present["transmission_risk_level"] else None
        ),
        report_type=message.report_type if present["report_type"] else None,
        days_since_onset_of_symptoms=(
            message.days_since_onset_of_symptoms
            if present["days_since_onset_of_symptoms"]
            else None
        ),
    )


@settings(max_examples=400)
@given(records())
@example(b"\x0a\x10" + bytes(16) + b"\x28\x06")  # unknown ReportType value: an unknown field
@example(b"\x0a\x10" + bytes(16) + b"\x28\x02\x28\x09")  # ... keeps the earlier valid one
@example(b"\x0a\x10" + bytes(16) + b"\x10\xff\xff\xff\xff\x0f")  # int32 -1 as 5 bytes
@example(b"\x0a\x10" + bytes(16) + b"\x20\x80\x01")  # rolling_period 128, two bytes
@example(b"\x0a\x10" + bytes(16) + b"\x08\x05")  # key_data with the wrong wire type
def test_decoder_agrees_with_the_protobuf_runtime(record: bytes) -> None:
    expected = _runtime_view(record)
    if expected is None:
        with pytest.raises(ExportFormatError):
            decode_key_records([record])
        return
    assert list(decode_key_records([record])) == [expected]


def _usable(record: bytes) -> bytes:
    return record if _runtime_view(record) is not None else b"\x0a\x10" + bytes(16)


@settings(max_examples=60)
@given(st.lists(records().map(_usable), min_size=1, max_size=12), st.integers(1, 4))
def test_decoder_agrees_on_mixed_batches_across_chunks(batch: list[bytes], chunk: int) -> None:
    # A tiny chunk size makes the batch cross chunk boundaries as 1.4 M keys would.
    with mock.patch.object(_keywire, "_CHUNK", chunk):
        assert list(_keywire.decode_key_records(batch)) == [_runtime_view(r) for r in batch]


@st.composite
def export_bodies(draw: st.DrawFn) -> bytes:
    """Top-level fields in any order: header fields, signature infos, key records, unknowns."""
    info = export_pb2.SignatureInfo(
        verification_key_id=draw(st.text(max_size=4)),
        verification_key_version=draw(st.text(max_size=3)),
    ).SerializeToString()
    pieces = draw(
        st.lists(
            st.one_of(
                st.integers(0, 2**64 - 1).map(lambda v: b"\x09" + v.to_bytes(8, "little")),
                st.text(max_size=4).map(lambda t: b"\x1a" + _varint(len(t.encode())) + t.encode()),
                st.integers(0, 2**64 - 1).map(lambda v: b"\x20" + _varint(v)),
                st.just(b"\x32" + _varint(len(info)) + info),
                records().map(_usable).map(lambda r: b"\x3a" + _varint(len(r)) + r),
                records().map(_usable).map(lambda r: b"\x42" + _varint(len(r)) + r),
                wire_fields(),
            ),
            max_size=12,
        )
    )
    return b"".join(pieces)


def _runtime_keys(keys: object) -> list[ExportKey | None]:
    return [_runtime_view(k.SerializeToString()) for k in keys]  # type: ignore[attr-defined]


@settings(max_examples=300)
@given(export_bodies())
def test_reader_agrees_with_the_protobuf_runtime_on_whole_exports(body: bytes) -> None:
    try:
        reference = export_pb2.TemporaryExposureKeyExport.FromString(body)
    except DecodeError:
        with pytest.raises(ExportFormatError):
            read_export(EXPORT_HEADER + body)
        return
    keys, revised = _runtime_keys(reference.keys), _runtime_keys(reference.revised_keys)
    try:
        export = read_export(EXPORT_HEADER + body)
    except ExportFormatError:
        # Only the documented refusals: an unusable key, or a region that is not UTF-8.
        # (The runtime hands back a non-UTF-8 proto2 string as bytes instead of str.)
        region_ok = isinstance(reference.region, str)
        assert None in keys + revised or not region_ok
        return
    assert export.region == reference.region
    assert (export.start_timestamp, export.end_timestamp) == (
        reference.start_timestamp,
        reference.end_timestamp,
    )
    assert (export.batch_num, export.batch_size) == (reference.batch_num, reference.batch_size)
    assert [i.as_dict() for i in export.signature_infos] == [
        {
            "verification_key_version": i.verification_key_version,
            "verification_key_id": i.verification_key_id,
            "signature_algorithm": i.signature_algorithm,
        }
        for i in reference.signature_infos
    ]
    assert list(export.keys) == keys
    assert list(export.revised_keys) == revised
