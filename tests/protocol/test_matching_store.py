"""Observation store, observation files, export adapter and the process-parallel matcher."""

from __future__ import annotations

import contextlib
import multiprocessing
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import vector_path
from tracewarn.device.parallel_matching import ProcessMatcher
from tracewarn.protocol.errors import MatchingInputError, ProtocolError
from tracewarn.protocol.gaen import read_export
from tracewarn.protocol.gaen.export import ExportKey, ExportSigner, write_export_files
from tracewarn.protocol.matching import (
    DiagnosisKeyBatch,
    ObservationStore,
    batch_from_export,
    batches_from_exports,
    dump_observations,
    load_observations,
    match_exports,
    match_keys,
)
from tracewarn.protocol.matching.store import bitmap_test

START = 2642976
NOW = (START + 144) * 600


def random_store(n: int, seed: int = 3) -> ObservationStore:
    rng = np.random.default_rng(seed)
    return ObservationStore.from_arrays(
        rng.bytes(16 * n),
        rng.bytes(4 * n),
        START * 600 + rng.integers(0, 86400, n),
        rng.integers(-100, 0, n),
        seconds_since_last_scan=rng.integers(0, 300, n),
    )


def test_store_is_sorted_and_keeps_every_sighting() -> None:
    rng = np.random.default_rng(1)
    rpis = rng.bytes(16 * 1000)
    store = ObservationStore.from_arrays(rpis, bytes(4000), [START * 600] * 1000, [-50] * 1000)
    assert len(store) == 1000
    assert bool(np.all(np.diff(store.rpi_hi.astype(np.float64)) >= 0))
    assert sorted(store.rpi(i) for i in range(1000)) == sorted(
        rpis[16 * i : 16 * i + 16] for i in range(1000)
    )


def test_bitmaps_have_no_false_negatives() -> None:
    store = random_store(5000)
    words = np.stack([store.rpi_hi, store.rpi_lo], axis=1).astype("<u8").view("<u4")
    assert bitmap_test(store.bitmap_a, words[:, 0].copy(), store.bitmap_bits).all()
    assert bitmap_test(store.bitmap_b, words[:, 2].copy(), store.bitmap_bits).all()


@pytest.mark.slow
def test_one_million_sightings_fit_in_150_mb() -> None:
    store = random_store(1_000_000)
    assert store.nbytes <= 150 * 10**6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rpi": bytes(15)}, "multiple of 16"),
        ({"aem": bytes(8)}, "AEMs"),
        ({"time": [-1]}, "time outside"),
        ({"time": [253_402_300_800]}, "time outside"),
        ({"rssi": [-200]}, "rssi outside"),
        ({"rssi": None}, "RSSI or an attenuation"),
        ({"rssi": None, "attenuation": [-1]}, "neither"),
        ({"attenuation": [256]}, "attenuation outside"),
        ({"seconds_since_last_scan": [-5]}, "seconds_since_last_scan"),
        ({"time": [1.5]}, "integers"),
        ({"time": [1, 2]}, "one value per sighting"),
        ({"rpi": np.zeros((1, 15), np.uint8)}, "uint8"),
    ],
)
def test_bad_sightings_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"rpi": bytes(16), "aem": bytes(4), "time": [START * 600], "rssi": [-50]}
    args.update(kwargs)
    with pytest.raises(MatchingInputError, match=message):
        ObservationStore.from_arrays(
            args.pop("rpi"), args.pop("aem"), args.pop("time"), args.pop("rssi"), **args
        )


def test_concat_equals_one_store() -> None:
    a, b = random_store(50, seed=1), random_store(70, seed=2)
    both = ObservationStore.concat([a, b])
    assert len(both) == 120
    assert dump_observations(both) == dump_observations(ObservationStore.concat([b, a]))


@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
def test_observation_files_round_trip(file_format: str) -> None:
    store = ObservationStore.from_arrays(
        bytes(range(16)) * 2,
        b"\x01\x02\x03\x04" * 2,
        [START * 600, START * 600 + 300],
        [-60, 0],
        typical_rssi=[-65, 0],
        attenuation=[-1, 40],
        typical_attenuation=[-1, 44],
        seconds_since_last_scan=[200, 0],
        observer=[0, 4],
    )
    data = dump_observations(store, file_format)
    again = load_observations(data)
    assert dump_observations(again, file_format) == data
    for name in (
        "time",
        "rssi",
        "attenuation",
        "typical_attenuation",
        "seconds_since_last_scan",
        "observer",
    ):
        assert getattr(again, name).tolist() == getattr(store, name).tolist()


def test_documented_examples_parse() -> None:
    jsonl = (
        b'{"rpi": "8be6cd371c5c891604bfbe49df845096", "aem": "72033874", '
        b'"time": "2020-04-02T00:03:00Z", "rssi": -52, "seconds_since_last_scan": 240}\n'
        b"\n"
        b'{"rpi": "3c9a1de5dd6b02afa7fded7b570b3e56", "aem": "c29211b1", '
        b'"time": 1585786000, "attenuation": 55}\n'
    )
    csv = (
        b"rpi,aem,time,rssi,attenuation,seconds_since_last_scan\n"
        b"8be6cd371c5c891604bfbe49df845096,72033874,2020-04-02T00:03:00+00:00,-52,,240\n"
        b"3c9a1de5dd6b02afa7fded7b570b3e56,c29211b1,1585786000,,55,\n"
    )
    for data in (jsonl, csv):
        store = load_observations(data)
        assert sorted(store.time.tolist()) == [1585785780, 1585786000]
        assert sorted(store.attenuation.tolist()) == [-1, 55]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"rpi": "00", "aem": "00000000", "time": 1, "rssi": 1}\n', "line 1: rpi must be 16"),
        (b'{"rpi": "zz", "aem": "00000000", "time": 1, "rssi": 1}\n', "not hex"),
        (b'{"rpi": "' + b"0" * 32 + b'", "aem": "0000", "time": 1, "rssi": 1}\n', "aem must be 4"),
        (b'{"rpi": "' + b"0" * 32 + b'", "aem": "00000000", "time": 1}\n', "rssi or attenuation"),
        (b'{"rpi": "' + b"0" * 32 + b'", "aem": "00000000", "rssi": 1}\n', "time must be"),
        (
            b'{"rpi": "'
            + b"0" * 32
            + b'", "aem": "00000000", "time": "2020-04-02T00:00", "rssi": 1}\n',
            "no UTC offset",
        ),
        (b'{"rpi": "' + b"0" * 32 + b'", "aem": "00000000", "time": 1, "rssi": true}\n', "integer"),
        (
            b'{"rpi": "' + b"0" * 32 + b'", "aem": "00000000", "time": 1, "rssi": 1, "who": 1}\n',
            "unknown field",
        ),
        (
            b'{"rpi": "' + b"0" * 32 + b'", "aem": "00000000", "time": 1, "rssi": 1}\n{',
            "line 2: not JSON",
        ),
        (b"[1, 2]\n", "not a JSON object"),
        (b"rpi,aem,phone\n", "CSV header"),
        (b"rpi,aem,time,rssi\n" + b"0" * 32 + b",00000000,1,1,9\n", "more cells"),
        (b"\xff\xfe", "UTF-8"),
        (
            b'{"rpi": "'
            + b"0" * 32
            + b'", "aem": "00000000", "time": 99999999999999999999, "rssi": 1}\n',
            "range",
        ),
    ],
)
def test_bad_observation_files_are_rejected(data: bytes, message: str) -> None:
    with pytest.raises(MatchingInputError, match=message):
        load_observations(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_give_a_store_or_a_matching_error(data: bytes) -> None:
    with contextlib.suppress(MatchingInputError):
        load_observations(data)


def _signer() -> ExportSigner:
    pem = vector_path("gaen", "export-example-private.pem").read_bytes()
    return ExportSigner.from_pem(pem, key_id="310", key_version="v1")


def test_export_files_become_batches_without_losing_fields() -> None:
    keys = [
        ExportKey(
            bytes([i]) * 16,
            START,
            144,
            transmission_risk_level=i % 9,
            report_type=1,
            days_since_onset_of_symptoms=(i % 3) - 1,
        )
        for i in range(5)
    ] + [ExportKey(bytes([9]) * 16, START + 6, 30)]
    files = write_export_files(
        keys,
        region="DE",
        start_timestamp=START * 600,
        end_timestamp=NOW,
        signers=[_signer()],
        max_keys_per_file=4,
    )
    batches = list(batches_from_exports(files))
    assert [len(b) for b in batches] == [4, 2]
    batch = DiagnosisKeyBatch.concat(batches)
    by_key = {batch.key(i): i for i in range(len(batch))}
    for key in keys:
        i = by_key[key.key_data]
        assert int(batch.rolling_start[i]) == key.rolling_start_interval_number
        assert int(batch.rolling_period[i]) == key.rolling_period
        if key.days_since_onset_of_symptoms is None:
            assert not batch.has_days_since_onset[i]
        else:
            assert int(batch.days_since_onset[i]) == key.days_since_onset_of_symptoms


def test_real_google_export_file_is_readable() -> None:
    data = vector_path("gaen", "export-example-testExport-2-records-1-of-1.zip").read_bytes()
    batch = batch_from_export(data)
    assert len(batch) == len(read_export(data).key_arrays()) == 2


def test_bad_export_raises_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        batch_from_export(b"PK\x03\x04 not really a zip")


def test_process_matcher_returns_the_same_result() -> None:
    rng = np.random.default_rng(11)
    n = 600
    key_data = rng.bytes(16 * n)
    batch = DiagnosisKeyBatch.from_arrays(
        key_data, np.full(n, START), days_since_onset=rng.integers(1, 3, n)
    )
    from tracewarn.protocol.gaen import aem_key, encrypt_metadata, rolling_proximity_identifiers

    seen_rpi, seen_aem, seen_time = [], [], []
    for i in range(0, n, 37):
        tek = key_data[16 * i : 16 * i + 16]
        rpis = rolling_proximity_identifiers(tek, START)
        for k in (i % 144, (i * 5) % 144):
            seen_rpi.append(rpis[k])
            seen_aem.append(encrypt_metadata(aem_key(tek), rpis[k], b"\x40\x05\x00\x00"))
            seen_time.append((START + k) * 600 + 100)
    store = ObservationStore.from_arrays(
        b"".join(seen_rpi) + rng.bytes(16 * 2000),
        b"".join(seen_aem) + rng.bytes(4 * 2000),
        seen_time + list(START * 600 + rng.integers(0, 86400, 2000)),
        [-60] * (len(seen_rpi) + 2000),
    )
    single = match_keys(batch, store, now=NOW, chunk_size=64)
    assert single.stats.matched_keys == len(range(0, n, 37))
    context = multiprocessing.get_context("spawn")
    with ProcessMatcher(store, workers=2, chunk_size=64, mp_context=context) as matcher:
        parallel = matcher.match(batch, now=NOW)
    assert parallel == single


def test_process_matcher_rejects_bad_worker_counts() -> None:
    with pytest.raises(MatchingInputError):
        ProcessMatcher(random_store(1), workers=0)


def _seen_store(teks: list[bytes]) -> ObservationStore:
    from tracewarn.protocol.gaen import aem_key, encrypt_metadata, rolling_proximity_identifiers

    rpi, aem, seen = [], [], []
    for tek in teks:
        rpis = rolling_proximity_identifiers(tek, START)
        rpi.append(rpis[30])
        aem.append(encrypt_metadata(aem_key(tek), rpis[30], b"\x40\x08\x00\x00"))
        seen.append((START + 30) * 600)
    return ObservationStore.from_arrays(b"".join(rpi), b"".join(aem), seen, [-60] * len(seen))


def test_revised_keys_replace_the_keys_they_revise() -> None:
    confirmed, revoked, untouched = bytes([1]) * 16, bytes([2]) * 16, bytes([3]) * 16
    day1 = write_export_files(
        [
            ExportKey(confirmed, START, report_type=3, days_since_onset_of_symptoms=1),
            ExportKey(revoked, START, report_type=1, days_since_onset_of_symptoms=2),
            ExportKey(untouched, START, report_type=1, days_since_onset_of_symptoms=1),
        ],
        region="DE",
        start_timestamp=START * 600,
        end_timestamp=NOW,
        signers=[_signer()],
    )
    day2 = write_export_files(
        [],
        revised_keys=[
            ExportKey(confirmed, START, report_type=1, days_since_onset_of_symptoms=2),
            ExportKey(revoked, START, report_type=5, days_since_onset_of_symptoms=2),
        ],
        region="DE",
        start_timestamp=NOW,
        end_timestamp=NOW + 3600,
        signers=[_signer()],
    )
    store = _seen_store([confirmed, revoked, untouched])
    plain = match_keys(batches_from_exports(day1), store, now=NOW)
    assert {m.key_data: m.report_type.name for m in plain.matches} == {
        confirmed: "SELF_REPORT",
        revoked: "CONFIRMED_TEST",
        untouched: "CONFIRMED_TEST",
    }
    revised = match_exports([*day1, *day2], store, now=NOW)
    assert {m.key_data: m.report_type.name for m in revised.matches} == {
        untouched: "CONFIRMED_TEST",
        confirmed: "CONFIRMED_TEST",
    }
    assert revised.stats.keys_revoked == 1 and revised.stats.matched_keys == 2
    # Already parsed files (as `verify_export` returns them) give the same result.
    assert match_exports([read_export(f) for f in [*day1, *day2]], store, now=NOW) == revised
    (match,) = [m for m in revised.matches if m.key_data == confirmed]
    assert match.days_since_onset_of_symptoms == 2
    # Without revisions in the files the result is plain matching.
    assert match_exports(day1, store, now=NOW) == plain
