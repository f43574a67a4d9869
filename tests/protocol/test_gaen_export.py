"""GAEN export files against real files from other implementations, and the writer's rules."""

from __future__ import annotations

import base64
import io
import struct
import tracemalloc
import warnings
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import load_vector_json, vector_path
from tracewarn.protocol.errors import (
    ConfigurationError,
    CryptoFormatError,
    ExportFormatError,
    InvalidSignature,
    KeyFormatError,
)
from tracewarn.protocol.gaen import (
    ECDSA_P256_SHA256_OID,
    EXPORT_HEADER,
    BatchNumbering,
    ExportKey,
    ExportPadding,
    ExportSigner,
    KeyArrays,
    ZipLimits,
    _rawexport,
    load_private_key,
    load_public_key,
    read_export,
    sign_export_bin,
    verify_export,
    verify_signed_zip,
    write_export_files,
    write_signed_zip,
)
from tracewarn.protocol.proto import export_pb2

SAMPLE = ("gaen", "export-example-testExport-2-records-1-of-1.zip")


def _sample_keys() -> list[ExportKey]:
    document = load_vector_json("gaen", "export-example-keys.json")
    return [
        ExportKey(
            key_data=base64.b64decode(item["key"]),
            rolling_start_interval_number=item["rollingStartNumber"],
            rolling_period=item["rollingPeriod"],
            transmission_risk_level=item["transmissionRisk"],
        )
        for item in document["temporaryExposureKeys"]
    ]


def _signer(secret: int = 7, key_id: str = "262", version: str = "v1") -> ExportSigner:
    return ExportSigner(ec.derive_private_key(secret, ec.SECP256R1()), key_id, version)


def _keys(count: int, seed: int = 1) -> list[ExportKey]:
    rng = np.random.default_rng(seed)
    data = rng.bytes(16 * count)
    return [
        ExportKey(data[16 * i : 16 * i + 16], 2_900_000 + 144 * (i % 14), 144, i % 9, 1, i % 5)
        for i in range(count)
    ]


def _zip_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


# --- real files made by other implementations -------------------------------------------------


def test_google_sample_parses_with_its_documented_fields() -> None:
    export = read_export(vector_path(*SAMPLE).read_bytes())
    assert export.region == "US"
    assert (export.batch_num, export.batch_size) == (1, 1)
    assert (export.start_timestamp, export.end_timestamp) == (1590159600, 1590246000)
    assert [i.as_dict() for i in export.signature_infos] == [
        {
            "verification_key_version": "1",
            "verification_key_id": "some_id",
            "signature_algorithm": "1.2.840.10045.4.3.2",
        }
    ]
    (signature,) = export.signatures
    assert (signature.batch_num, signature.batch_size) == (1, 1)
    assert len(signature.signature) == 72 and signature.signature[:2] == b"\x30\x46"


def test_google_sample_keys_equal_its_key_list() -> None:
    export = read_export(vector_path(*SAMPLE).read_bytes())
    assert sorted(export.keys, key=lambda k: k.key_data) == sorted(
        _sample_keys(), key=lambda k: k.key_data
    )


def test_google_sample_verifies_with_its_public_key() -> None:
    public = load_public_key(vector_path("gaen", "export-example-public.pem").read_bytes())
    verified = verify_export(vector_path(*SAMPLE).read_bytes(), public)
    assert [i.verification_key_id for i in verified.verified_by] == ["some_id"]
    assert verified.export.key_count == 2


def test_google_sample_fails_with_another_key() -> None:
    with pytest.raises(InvalidSignature):
        verify_export(vector_path(*SAMPLE).read_bytes(), _signer().public_key())


def test_our_export_bin_is_byte_identical_to_googles() -> None:
    """Same keys and header fields in, the reference server's export.bin out, byte for byte."""
    original = _zip_entries(vector_path(*SAMPLE).read_bytes())
    private = load_private_key(vector_path("gaen", "export-example-private.pem").read_bytes())
    (ours,) = write_export_files(
        _sample_keys(),
        region="US",
        start_timestamp=1590159600,
        end_timestamp=1590246000,
        signers=[ExportSigner(private, "some_id", "1")],
    )
    entries = _zip_entries(ours)
    assert entries["export.bin"] == original["export.bin"]
    public = load_public_key(vector_path("gaen", "export-example-public.pem").read_bytes())
    assert verify_export(ours, public).export.keys == read_export(original["export.bin"]).keys


def test_legacy_export_with_reserved_field_yields_200_keys() -> None:
    data = vector_path("gaen", "legacy-export-200-keys.bin").read_bytes()
    export = read_export(data)
    assert export.key_count == 200 and len(export.keys) == 200
    assert (export.start_timestamp, export.end_timestamp) == (1588425586, 1588857586)
    assert export.region == "US" and (export.batch_num, export.batch_size) == (1, 1)
    # The only SignatureInfo carries just the now-reserved field 2, which is skipped.
    assert [i.as_dict() for i in export.signature_infos] == [
        {"verification_key_version": "", "verification_key_id": "", "signature_algorithm": ""}
    ]
    # Two keys leave rolling_period out: the proto2 default 144 applies.
    reference = export_pb2.TemporaryExposureKeyExport.FromString(data[16:])
    assert sum(not k.HasField("rolling_period") for k in reference.keys) == 2
    assert [k.rolling_period for k in export.keys] == [k.rolling_period for k in reference.keys]
    assert [k.key_data for k in export.keys] == [k.key_data for k in reference.keys]
    with pytest.raises(InvalidSignature, match=r"no export\.sig"):
        verify_export(data, _signer().public_key())


# --- writer rules -----------------------------------------------------------------------------


def test_keys_are_written_sorted_by_key_bytes_not_in_upload_order() -> None:
    keys = _keys(300)
    (data,) = write_export_files(keys, region="DE", start_timestamp=0, end_timestamp=1, signers=[])
    written = [k.key_data for k in read_export(data).keys]
    assert written == sorted(k.key_data for k in keys)
    assert written != [k.key_data for k in keys]


def test_zip_layout_is_two_deflated_entries_with_zeroed_dates() -> None:
    (data,) = write_export_files(
        _keys(3), region="DE", start_timestamp=0, end_timestamp=1, signers=[_signer()]
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["export.bin", "export.sig"]
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
    assert all(i.date_time == (1980, 0, 0, 0, 0, 0) for i in infos)


def test_signing_is_deterministic_and_reproducible() -> None:
    args = {"region": "DE", "start_timestamp": 10, "end_timestamp": 20, "signers": [_signer()]}
    assert write_export_files(_keys(50), **args) == write_export_files(_keys(50), **args)


def test_split_files_carry_batch_numbers_and_signatures() -> None:
    keys = _keys(25)
    files = write_export_files(
        keys,
        region="DE",
        start_timestamp=100,
        end_timestamp=200,
        signers=[_signer(1, "262", "v1"), _signer(2, "262", "v2")],
        max_keys_per_file=10,
    )
    assert len(files) == 3
    exports = [read_export(f) for f in files]
    assert [(e.batch_num, e.batch_size) for e in exports] == [(1, 3), (2, 3), (3, 3)]
    assert [e.key_count for e in exports] == [10, 10, 5]
    assert {e.end_timestamp for e in exports} == {200}
    for export in exports:
        assert [(s.batch_num, s.batch_size) for s in export.signatures] == [
            (export.batch_num, export.batch_size)
        ] * 2
        assert [i.verification_key_version for i in export.signature_infos] == ["v1", "v2"]
    merged = [k.key_data for e in exports for k in e.keys]
    assert merged == sorted(k.key_data for k in keys)


def test_one_per_file_numbering_makes_windows_unique() -> None:
    files = write_export_files(
        _keys(25),
        region="DE",
        start_timestamp=100,
        end_timestamp=200,
        signers=[_signer()],
        max_keys_per_file=10,
        batch_numbering=BatchNumbering.ONE_PER_FILE,
    )
    exports = [read_export(f) for f in files]
    assert [(e.batch_num, e.batch_size, e.end_timestamp) for e in exports] == [
        (1, 1, 200),
        (1, 1, 201),
        (1, 1, 202),
    ]


def test_revised_keys_go_to_field_8_after_the_keys() -> None:
    keys, revised = _keys(4, seed=1), _keys(3, seed=2)
    files = write_export_files(
        keys,
        revised_keys=revised,
        region="DE",
        start_timestamp=0,
        end_timestamp=1,
        signers=[],
        max_keys_per_file=5,
    )
    exports = [read_export(f) for f in files]
    assert [(e.key_count, len(e.revised_keys)) for e in exports] == [(4, 1), (0, 2)]
    got = sorted(k.key_data for e in exports for k in e.revised_keys)
    assert got == sorted(k.key_data for k in revised)


def test_empty_batch_gives_one_file_without_keys_and_is_not_padded() -> None:
    (data,) = write_export_files(
        [],
        region="DE",
        start_timestamp=0,
        end_timestamp=1,
        signers=[_signer()],
        padding=ExportPadding(),
        random_bytes=lambda n: bytes(n),
    )
    assert read_export(data).key_count == 0


def test_padding_fills_small_batches_with_random_keys_copying_fields() -> None:
    keys = _keys(7)
    stream = np.random.default_rng(5)
    (data,) = write_export_files(
        keys,
        region="DE",
        start_timestamp=0,
        end_timestamp=1,
        signers=[],
        padding=ExportPadding(min_keys=1000, jitter=100),
        random_bytes=stream.bytes,
    )
    export = read_export(data)
    assert 1000 <= export.key_count <= 1100
    real = {k.key_data for k in keys}
    assert real <= {k.key_data for k in export.keys}
    fields = {
        (k.rolling_start_interval_number, k.rolling_period, k.transmission_risk_level) for k in keys
    }
    for key in export.keys:
        assert (
            key.rolling_start_interval_number,
            key.rolling_period,
            key.transmission_risk_level,
        ) in fields


def test_padding_jitter_comes_from_the_random_bytes_and_never_exceeds_the_file_limit() -> None:
    def counts(jitter_byte: int) -> int:
        def random_bytes(n: int) -> bytes:
            return bytes([jitter_byte]) * n if n == 8 else bytes(range(16)) * (n // 16)

        (data,) = write_export_files(
            _keys(3),
            region="DE",
            start_timestamp=0,
            end_timestamp=1,
            signers=[],
            padding=ExportPadding(min_keys=20, jitter=5),
            random_bytes=random_bytes,
            max_keys_per_file=1000,
        )
        return read_export(data).key_count

    observed = {counts(b) for b in range(12)}
    assert observed <= set(range(20, 26)) and len(observed) > 1
    capped = write_export_files(
        _keys(3),
        region="DE",
        start_timestamp=0,
        end_timestamp=1,
        signers=[],
        padding=ExportPadding(min_keys=1000, jitter=0),
        random_bytes=lambda n: bytes(n),
        max_keys_per_file=50,
    )
    assert [read_export(f).key_count for f in capped] == [50]


def test_padding_without_random_bytes_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="random_bytes"):
        write_export_files(
            _keys(2),
            region="DE",
            start_timestamp=0,
            end_timestamp=1,
            signers=[],
            padding=ExportPadding(),
        )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (ExportKey(bytes(16), 1, 144, transmission_risk_level=9), "transmission_risk_level"),
        (ExportKey(bytes(16), 1, 144, report_type=6), "report_type"),
        (ExportKey(bytes(16), 1, 144, days_since_onset_of_symptoms=2**31), "days_since_onset"),
    ],
)
def test_writer_rejects_values_a_phone_cannot_read(key: ExportKey, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        write_export_files([key], region="DE", start_timestamp=0, end_timestamp=1, signers=[])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key_data": bytes(15), "rolling_start_interval_number": 1},
        {"key_data": bytes(16), "rolling_start_interval_number": -1},
        {"key_data": bytes(16), "rolling_start_interval_number": 2**31},
        {"key_data": bytes(16), "rolling_start_interval_number": 1, "rolling_period": 0},
        {"key_data": bytes(16), "rolling_start_interval_number": 1, "rolling_period": 145},
    ],
)
def test_export_key_rejects_bad_fields(kwargs: dict[str, object]) -> None:
    with pytest.raises(KeyFormatError):
        ExportKey(**kwargs)  # type: ignore[arg-type]


def test_signer_and_writer_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        ExportSigner(ec.derive_private_key(3, ec.SECP384R1()), "262", "v1")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        _signer(key_id="no spaces")
    with pytest.raises(ConfigurationError, match="at most 10"):
        write_export_files(
            [], region="DE", start_timestamp=0, end_timestamp=1, signers=[_signer()] * 11
        )
    with pytest.raises(ConfigurationError):
        write_export_files([], region="DE", start_timestamp=2, end_timestamp=1, signers=[])
    with pytest.raises(ConfigurationError):
        write_export_files(
            [], region="DE", start_timestamp=0, end_timestamp=1, signers=[], max_keys_per_file=0
        )
    with pytest.raises(CryptoFormatError):
        load_private_key(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(CryptoFormatError):
        load_public_key(b"not a pem")


# --- verification -----------------------------------------------------------------------------


def test_verify_selects_keys_by_id_and_version() -> None:
    old, new = _signer(1, "262", "v1"), _signer(2, "262", "v2")
    (data,) = write_export_files(
        _keys(5), region="DE", start_timestamp=0, end_timestamp=1, signers=[new, old]
    )
    by_pair = {("262", "v1"): old.public_key(), ("262", "v2"): new.public_key()}
    assert len(verify_export(data, by_pair).verified_by) == 2
    assert len(verify_export(data, [old.public_key()]).verified_by) == 1
    # A mapped key that does not match its signature is an error even if another one verifies.
    wrong = {("262", "v1"): new.public_key(), ("262", "v2"): new.public_key()}
    with pytest.raises(InvalidSignature, match="v1"):
        verify_export(data, wrong)
    with pytest.raises(InvalidSignature):
        verify_export(data, {"310": old.public_key()})


def test_unknown_signature_algorithms_are_not_trusted() -> None:
    signer = _signer()
    (data,) = write_export_files(
        _keys(2), region="DE", start_timestamp=0, end_timestamp=1, signers=[signer]
    )
    entries = _zip_entries(data)
    sig = export_pb2.TEKSignatureList.FromString(entries["export.sig"])
    sig.signatures[0].signature_info.signature_algorithm = "1.2.840.10045.4.3.4"
    tampered = _rezip(entries["export.bin"], sig.SerializeToString())
    assert signer.signature_info.signature_algorithm == ECDSA_P256_SHA256_OID
    with pytest.raises(InvalidSignature):
        verify_export(tampered, signer.public_key())


def _rezip(
    export_bin: bytes, export_sig: bytes, names: tuple[str, str] = ("export.bin", "export.sig")
) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a duplicate name is the point of one test
        archive = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
        archive.writestr(names[0], export_bin)
        archive.writestr(names[1], export_sig)
        archive.close()
    return out.getvalue()


def test_a_signed_zip_of_any_payload_verifies_like_an_export() -> None:
    # A trace-warning package: signed as exports are, but export.bin is no key export.
    payload = b"\x08\x2a\x12\x02DE"
    signer, other = _signer(), _signer(secret=9)
    data = _rezip(payload, sign_export_bin(payload, [signer]))
    assert verify_signed_zip(data, {("262", "v1"): signer.public_key()}) == payload
    assert verify_signed_zip(data, [other.public_key(), signer.public_key()]) == payload
    with pytest.raises(InvalidSignature):
        verify_signed_zip(
            _rezip(payload + b"\x00", sign_export_bin(payload, [signer])), [signer.public_key()]
        )
    with pytest.raises(InvalidSignature, match="does not verify"):
        verify_signed_zip(data, {("262", "v1"): other.public_key()})
    with pytest.raises(InvalidSignature):
        verify_signed_zip(data, {("999", "v1"): signer.public_key()})
    with pytest.raises(InvalidSignature, match=r"no export\.sig signatures"):
        verify_signed_zip(_rezip(payload, b""), signer.public_key())
    with pytest.raises(ExportFormatError):
        verify_signed_zip(_rezip(payload, b"", names=("export.bin", "other")), signer.public_key())
    with pytest.raises(ExportFormatError, match="limit"):
        verify_signed_zip(
            data, signer.public_key(), limits=ZipLimits(max_bin_size=len(payload) - 1)
        )


def test_write_signed_zip_is_what_verify_signed_zip_reads() -> None:
    payload = b"\x08\x2a\x12\x02DE"
    signer = _signer()
    data = write_signed_zip(payload, [signer])
    assert data == write_signed_zip(payload, [signer])  # deterministic signature and zip
    assert verify_signed_zip(data, signer.public_key()) == payload
    with pytest.raises(InvalidSignature):
        verify_signed_zip(data, _signer(secret=9).public_key())


# --- reader: defaults, columns, bad input -----------------------------------------------------


def test_key_arrays_columns_and_presence_masks() -> None:
    keys = [
        ExportKey(bytes([1]) * 16, 10, 144, None, None, None),
        ExportKey(bytes([2]) * 16, 0, 5, 0, 0, -14),
        ExportKey(bytes([3]) * 16, 2**31 - 1, 1, 8, 5, 2**31 - 1),
    ]
    (data,) = write_export_files(keys, region="DE", start_timestamp=0, end_timestamp=1, signers=[])
    columns = read_export(data).key_arrays()
    assert columns.key_data == b"".join(k.key_data for k in keys)
    assert columns.key_matrix().shape == (3, 16)
    assert columns.rolling_start.tolist() == [10, 0, 2**31 - 1]
    assert columns.rolling_period.tolist() == [144, 5, 1]
    assert columns.transmission_risk_level.tolist() == [0, 0, 8]
    assert columns.has_transmission_risk_level.tolist() == [False, True, True]
    assert columns.report_type.tolist() == [0, 0, 5]
    assert columns.has_report_type.tolist() == [False, True, True]
    assert columns.days_since_onset.tolist() == [0, -14, 2**31 - 1]
    assert columns.has_days_since_onset.tolist() == [False, True, True]
    assert list(columns) == keys


def test_key_arrays_from_keys_round_trips_and_validates() -> None:
    keys = _keys(20)
    assert list(KeyArrays.from_keys(keys)) == keys
    assert list(KeyArrays.from_keys(keys).sorted_by_key()) == sorted(keys, key=lambda k: k.key_data)
    duplicate = [ExportKey(bytes(8) + bytes([9 - i]) * 8, i) for i in range(5)]
    assert [k.key_data for k in KeyArrays.from_keys(duplicate).sorted_by_key()] == sorted(
        k.key_data for k in duplicate
    )


def test_bare_export_bin_with_bad_header_is_rejected() -> None:
    body = export_pb2.TemporaryExposureKeyExport(region="DE").SerializeToString()
    assert read_export(EXPORT_HEADER + body).region == "DE"
    for header in (b"EK Export v2    ", b"EK Export v1   \x00", b"", b"EK Export"):
        with pytest.raises(ExportFormatError):
            read_export(header + body)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (export_pb2.TemporaryExposureKey(key_data=bytes(15)), "15 bytes"),
        (export_pb2.TemporaryExposureKey(rolling_start_interval_number=1), "0 bytes"),
        (export_pb2.TemporaryExposureKey(key_data=bytes(16), rolling_period=0), "rolling_period 0"),
        (export_pb2.TemporaryExposureKey(key_data=bytes(16), rolling_period=145), "145"),
        (
            export_pb2.TemporaryExposureKey(key_data=bytes(16), rolling_start_interval_number=-5),
            "-5",
        ),
    ],
)
def test_reader_names_the_bad_key(record: export_pb2.TemporaryExposureKey, message: str) -> None:
    good = export_pb2.TemporaryExposureKey(key_data=bytes(16))
    body = export_pb2.TemporaryExposureKeyExport(keys=[good, record]).SerializeToString()
    with pytest.raises(ExportFormatError, match=f"key 1: .*{message}"):
        read_export(EXPORT_HEADER + body)


def test_non_utf8_region_and_truncated_body_are_format_errors() -> None:
    with pytest.raises(ExportFormatError):
        read_export(EXPORT_HEADER + b"\x1a\x02\xff\xfe")
    body = export_pb2.TemporaryExposureKeyExport(keys=[{"key_data": bytes(16)}]).SerializeToString()
    with pytest.raises(ExportFormatError):
        read_export(EXPORT_HEADER + body[:-3])


def test_zip_with_wrong_entries_is_rejected() -> None:
    entries = _zip_entries(vector_path(*SAMPLE).read_bytes())
    for names in (("export.bin", "other.sig"), ("export.bin", "export.bin")):
        with pytest.raises(ExportFormatError):
            read_export(_rezip(entries["export.bin"], entries["export.sig"], names))
    with pytest.raises(ExportFormatError, match="neither"):
        read_export(b"GIF89a")


def test_declared_oversize_entry_is_rejected_before_inflating(tmp_path: Path) -> None:
    bomb = _rezip(EXPORT_HEADER + bytes(20_000_000), b"")
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ExportFormatError, match="limit"):
            read_export(bomb, limits=ZipLimits(max_bin_size=1_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000


def test_zip_bomb_lying_about_its_size_stays_bounded() -> None:
    """Sizes patched to claim 100 bytes: inflation still stops at the limit (or at the lie)."""
    bomb = bytearray(_rezip(EXPORT_HEADER + bytes(30_000_000), b""))
    real = struct.pack("<I", 30_000_016)
    fake = struct.pack("<I", 100)
    assert bomb.count(real) == 2  # local header and central directory
    bomb = bomb.replace(real, fake)
    tracemalloc.start()
    try:
        with pytest.raises(ExportFormatError):
            read_export(bytes(bomb), limits=ZipLimits(max_bin_size=2_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000


def test_oversized_inputs_are_rejected() -> None:
    body = export_pb2.TemporaryExposureKeyExport(region="DE").SerializeToString()
    with pytest.raises(ExportFormatError, match="limit"):
        read_export(EXPORT_HEADER + body, limits=ZipLimits(max_bin_size=10))
    sample = vector_path(*SAMPLE).read_bytes()
    with pytest.raises(ExportFormatError, match="limit"):
        read_export(sample, limits=ZipLimits(max_zip_size=100))
    with pytest.raises(ExportFormatError, match="limit"):
        read_export(sample, limits=ZipLimits(max_sig_size=10))


def test_unsupported_zip_methods_and_corrupt_data_are_format_errors() -> None:
    sample = bytearray(vector_path(*SAMPLE).read_bytes())
    # Compression method field of the first local header (offset 8).
    changed = bytes(sample[:8]) + struct.pack("<H", 12) + bytes(sample[10:])
    with pytest.raises(ExportFormatError, match="local header"):
        read_export(changed)
    directory = bytes(sample).index(b"PK\x01\x02")  # method at offset 10 of the entry
    changed = (
        bytes(sample[: directory + 10]) + struct.pack("<H", 12) + bytes(sample[directory + 12 :])
    )
    with pytest.raises(ExportFormatError, match="method 12"):
        read_export(changed)
    corrupt = bytearray(sample)
    corrupt[40] ^= 0xFF  # inside export.bin's compressed data (30-byte header + 10-byte name)
    with pytest.raises(ExportFormatError):
        read_export(bytes(corrupt))


def test_bodies_of_tiny_records_are_rejected_before_the_runtime_allocates_them() -> None:
    """2-byte records would cost the runtime ~20x the body's size; the budget stops them."""
    for record in (b"\x3a\x00", b"\xba\x00\x00", b"\x42\x01\x00", b"\x32\x00"):
        body = record * 200_000
        with pytest.raises(ExportFormatError, match="top-level fields"):
            read_export(EXPORT_HEADER + body)


def test_keys_full_of_tag_like_bytes_still_read_exactly() -> None:
    """Key bytes that look like record tags send the reader down the exact (slower) walk."""
    keys = [
        ExportKey(
            bytes([0x3A, 0xBA, 0x42, 0xC2]) * 3 + bytes([i % 256, 0x32, 0xB2, i // 256]), 50 + i, 58
        )
        for i in range(300)
    ]
    (data,) = write_export_files(keys, region="DE", start_timestamp=0, end_timestamp=1, signers=[])
    with mock.patch.object(_rawexport, "_walk_fields", wraps=_rawexport._walk_fields) as walk:
        assert read_export(data).keys == tuple(sorted(keys, key=lambda k: k.key_data))
    assert walk.call_count == 1


def test_object_and_column_inputs_write_identical_files() -> None:
    keys = _keys(120)
    args = {"region": "DE", "start_timestamp": 5, "end_timestamp": 6, "signers": [_signer()]}
    assert write_export_files(keys, **args) == write_export_files(KeyArrays.from_keys(keys), **args)


def test_key_arrays_reject_mismatched_columns() -> None:
    good = KeyArrays.from_keys(_keys(3))
    with pytest.raises(KeyFormatError, match="key_data"):
        KeyArrays(**{**good.__dict__, "key_data": good.key_data[:-1]})
    with pytest.raises(KeyFormatError, match="rolling_period"):
        KeyArrays(**{**good.__dict__, "rolling_period": good.rolling_period[:2]})
    with pytest.raises(KeyFormatError, match="report_type"):
        KeyArrays.from_keys([ExportKey(bytes(16), 1, report_type=1.5)])  # type: ignore[arg-type]
