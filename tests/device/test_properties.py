"""Hypothesis properties of the device: uniform upload sizes, retention, parsers that never crash."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracewarn.device import DeviceStore, ManualClock, Observation, SeededRandomness
from tracewarn.device._report import (
    SUBMISSION_SIZE,
    SUBMISSION_SIZES,
    build_submission,
    fake_submission,
)
from tracewarn.device.store import RETENTION_DAYS, day_number
from tracewarn.protocol.errors import ProtocolError
from tracewarn.protocol.gaen import verify_signed_zip
from tracewarn.protocol.gaen.export import ECDSA_P256_SHA256_OID
from tracewarn.protocol.gaen.keys import TemporaryExposureKey
from tracewarn.protocol.presence import CheckIn
from tracewarn.protocol.presence.risk_vector import SymptomAnswer, transmission_risk_vector
from tracewarn.protocol.proto import export_pb2, submission_pb2

NOW = int(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp())


@given(
    keys=st.integers(0, 20),
    stays=st.lists(st.tuples(st.integers(0, 13 * 86400), st.integers(0, 6 * 3600)), max_size=40),
    onset=st.one_of(st.none(), st.integers(-20, 5)),
    seed=st.integers(0, 2**32),
)
@settings(max_examples=60, deadline=None)
def test_every_upload_has_the_same_size_as_a_fake(
    keys: int, stays: list[tuple[int, int]], onset: int | None, seed: int
) -> None:
    today = NOW // 86400
    teks = [TemporaryExposureKey(bytes([k]) * 16, (today - k) * 144) for k in range(keys)]
    check_ins = [
        CheckIn(location_id=bytes([i % 256]) * 32, start=NOW - ago - length, end=NOW - ago)
        for i, (ago, length) in enumerate(stays)
    ]
    random = SeededRandomness(seed, "upload")
    payload = build_submission(
        teks,
        check_ins,
        now=NOW,
        answer=SymptomAnswer.NO_INFORMATION if onset is None else SymptomAnswer.ONSET_DATE,
        onset_day=None if onset is None else today + onset,
        region="DE",
        random_bytes=random.token_bytes,
    )
    parsed = submission_pb2.SubmissionPayload.FromString(payload)
    assert len(payload) in SUBMISSION_SIZES
    assert len(fake_submission(random.token_bytes)) in SUBMISSION_SIZES
    # Only CWA's occasional fake check-in padding (random bytes before the zero fill) may push
    # an upload of this size past the first bucket.
    if len(parsed.requestPadding.rstrip(b"\0")) < 2000:
        assert len(payload) == SUBMISSION_SIZE
    assert len(parsed.keys) == min(keys, 15)
    assert all(1 <= k.transmission_risk_level <= 8 for k in parsed.keys)


def _zip(export_bin: bytes, export_sig: bytes, names: tuple[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(names[0], export_bin)
        archive.writestr(names[1], export_sig)
    return buffer.getvalue()


def _signature_list(key_id: str, version: str, algorithm: str, signature: bytes) -> bytes:
    message = export_pb2.TEKSignatureList()
    entry = message.signatures.add()
    entry.signature_info.verification_key_id = key_id
    entry.signature_info.verification_key_version = version
    entry.signature_info.signature_algorithm = algorithm
    entry.signature = signature
    return message.SerializeToString()


_KEY = ec.generate_private_key(ec.SECP256R1()).public_key()
_PACKAGES = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        _zip,
        st.binary(max_size=300),
        st.one_of(
            st.binary(max_size=300),
            st.builds(
                _signature_list,
                st.sampled_from(["DE", "XX"]),
                st.sampled_from(["v1", "v2"]),
                st.sampled_from([ECDSA_P256_SHA256_OID, "1.2.3"]),
                st.binary(max_size=80),
            ),
        ),
        st.sampled_from([("export.bin", "export.sig"), ("export.bin", "other"), ("a", "b")]),
    ),
)


def test_a_heavy_check_in_history_takes_the_next_size_bucket() -> None:
    check_ins = [
        CheckIn(location_id=bytes([i % 256]) * 32, start=NOW - 3600 * i - 1800, end=NOW - 3600 * i)
        for i in range(1, 150)
    ]
    payload = build_submission(
        [],
        check_ins,
        now=NOW,
        answer=SymptomAnswer.POSITIVE_NO_DATE,
        onset_day=None,
        region="DE",
        random_bytes=SeededRandomness(1, "heavy").token_bytes,
    )
    parsed = submission_pb2.SubmissionPayload.FromString(payload)
    assert len(parsed.checkInProtectedReports) > 60
    assert len(payload) in SUBMISSION_SIZES and len(payload) > SUBMISSION_SIZE


@given(_PACKAGES)
@settings(max_examples=300)
def test_the_package_checker_raises_only_protocol_errors(data: bytes) -> None:
    try:
        verify_signed_zip(data, {("DE", "v1"): _KEY})
    except ProtocolError:
        return
    raise AssertionError("a package without a valid signature was accepted")


@given(st.sampled_from(list(SymptomAnswer)), st.integers(-30, 30))
def test_transmission_risk_vectors_are_15_levels_from_1_to_8(
    answer: SymptomAnswer, days: int
) -> None:
    vector = transmission_risk_vector(answer, days)
    assert len(vector) == 15 and all(1 <= v <= 8 for v in vector)


@given(steps=st.lists(st.tuples(st.integers(0, 3 * 86400), st.integers(0, 20)), max_size=12))
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_no_write_ever_leaves_a_row_past_retention(
    tmp_path: Path, steps: list[tuple[int, int]]
) -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    clock = ManualClock(start)
    store = DeviceStore.in_memory(bytes(32), clock=clock, randomness=SeededRandomness(0, "r"))
    for advance, age_days in steps:
        clock.advance(dt.timedelta(seconds=advance))
        now = int(clock.now().timestamp())
        store.add_observations([Observation(b"r" * 16, b"aaaa", now - age_days * 86400, -60)])
        cutoff = day_number(clock.now()) - RETENTION_DAYS + 1
        assert all(day_number(o.time) >= cutoff for o in store.observations())
        assert all(day_number(c.end) >= cutoff for c in store.check_ins())
