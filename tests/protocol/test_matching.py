"""Matching engine: the official vector key among random keys, GAEN's time rules, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_vector_json
from tracewarn.protocol.errors import (
    ConfigurationError,
    KeyFormatError,
    MatchingInputError,
    ProtocolError,
)
from tracewarn.protocol.exposure_window import Infectiousness, ReportType
from tracewarn.protocol.gaen import BluetoothMetadata, aem_key, encrypt_metadata
from tracewarn.protocol.gaen import rolling_proximity_identifiers as reference_rpis
from tracewarn.protocol.matching import (
    DiagnosisKeyBatch,
    MatchingConfig,
    ObservationStore,
    match_keys,
)

START = 2642976  # the vectors' key start, 2020-04-02 00:00 UTC
NOW = (START + 144) * 600 + 3600  # the next day, 01:00 UTC
TEK = bytes.fromhex("75c734c6dd1a782de7a965da5eb93125")
RNG_SEED = 20201129


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data = load_vector_json("gaen", "en-crypto-test-vectors.json")
    assert isinstance(data, dict)
    return data


def sightings_for(
    tek: bytes,
    start: int,
    seen: list[tuple[int, int]],
    *,
    tx_power: int = 8,
    rssi: int = -60,
    calibration_confidence: int = 0,
) -> dict[str, Any]:
    """Columns for sightings of `tek`'s RPI k at unix time t, for each (k, t) in `seen`."""
    rpis = reference_rpis(tek, start, 144)
    aemk = aem_key(tek)
    meta = BluetoothMetadata(tx_power=tx_power, calibration_confidence=calibration_confidence)
    return {
        "rpi": b"".join(rpis[k] for k, _ in seen),
        "aem": b"".join(encrypt_metadata(aemk, rpis[k], meta.to_bytes()) for k, _ in seen),
        "time": [t for _, t in seen],
        "rssi": [rssi] * len(seen),
        "seconds_since_last_scan": [300] * len(seen),
    }


def store_of(*parts: dict[str, Any], noise: int = 0, seed: int = RNG_SEED) -> ObservationStore:
    rng = np.random.default_rng(seed)
    rpi = b"".join(p["rpi"] for p in parts) + rng.bytes(16 * noise)
    aem = b"".join(p["aem"] for p in parts) + rng.bytes(4 * noise)
    time = [t for p in parts for t in p["time"]] + list(
        START * 600 + rng.integers(0, 2 * 86400, noise)
    )
    rssi = [r for p in parts for r in p["rssi"]] + [-70] * noise
    gap = [g for p in parts for g in p["seconds_since_last_scan"]] + [240] * noise
    return ObservationStore.from_arrays(rpi, aem, time, rssi, seconds_since_last_scan=gap)


def one_key(
    tek: bytes = TEK, start: int = START, period: int = 144, **fields: Any
) -> DiagnosisKeyBatch:
    extra = {name: [value] for name, value in fields.items()}
    return DiagnosisKeyBatch.from_arrays(tek, [start], [period], **extra)


def test_vector_key_among_100k_random_keys_found_in_exactly_its_intervals(
    vectors: dict[str, Any],
) -> None:
    tek = bytes.fromhex(vectors["tek"])
    start = int(vectors["rolling_start_interval_number"])
    rows = vectors["intervals"]
    n, planted = 100_000, 61_803
    rng = np.random.default_rng(RNG_SEED)
    key_data = bytearray(rng.bytes(16 * n))
    key_data[16 * planted : 16 * planted + 16] = tek
    # Random keys share the day and the neighbouring days, so they are derived and probed too.
    starts = start + 144 * rng.integers(-1, 2, n)
    starts[planted] = start
    batch = DiagnosisKeyBatch.from_arrays(
        bytes(key_data), starts, days_since_onset=np.ones(n, dtype=np.int64)
    )
    # Every 7th interval of the vector key is seen, 3 minutes into its interval, with the
    # vectors' own RPI and AEM bytes; the rest of the store is noise.
    seen = rows[::7]
    store = ObservationStore.from_arrays(
        b"".join(bytes.fromhex(r["rpi"]) for r in seen) + rng.bytes(16 * 20_000),
        b"".join(bytes.fromhex(r["aem"]) for r in seen) + rng.bytes(4 * 20_000),
        [r["interval_number"] * 600 + 180 for r in seen]
        + list(start * 600 + rng.integers(-86400, 2 * 86400, 20_000)),
        [-52] * len(seen) + [-70] * 20_000,
    )
    result = match_keys(batch, store, now=(start + 144) * 600)
    assert [m.key_data for m in result.matches] == [tek]
    (match,) = result.matches
    assert match.date == dt.date(2020, 4, 2)
    assert [s.interval for s in match.sightings] == [r["interval_number"] for r in seen]
    assert [s.rpi.hex() for s in match.sightings] == [r["rpi"] for r in seen]
    # The vectors' metadata is 40 08 00 00: TX power +8 dBm, so attenuation = 8 - (-52).
    assert {(s.tx_power, s.min_attenuation) for s in match.sightings} == {(8, 60)}
    assert result.stats.keys == n and result.stats.matched_keys == 1
    assert result.stats.matched_sightings == len(seen)


@pytest.mark.parametrize(
    ("offset_seconds", "matches"),
    [
        (+110 * 60, True),  # 1 h 50 min after the interval's start
        (-110 * 60, True),  # 1 h 50 min before it
        (600 + 110 * 60, True),  # 1 h 50 min after its end
        (+130 * 60, False),  # 2 h 10 min after its start
        (-130 * 60, False),  # 2 h 10 min before it
        (600 + 130 * 60, False),  # 2 h 10 min after its end
    ],
)
def test_two_hour_tolerance(offset_seconds: int, matches: bool) -> None:
    k = 72
    seen_at = (START + k) * 600 + offset_seconds
    result = match_keys(
        one_key(days_since_onset=2),
        store_of(sightings_for(TEK, START, [(k, seen_at)])),
        now=NOW,
    )
    assert bool(result.matches) is matches
    if matches:
        assert result.matches[0].sightings[0].interval == START + k


def test_rolling_period_one_matches_only_its_interval() -> None:
    # The RPIs of k = 1..5 are the ones the key would have had with a longer validity.
    seen = [(k, (START + k) * 600 + 60) for k in range(6)]
    result = match_keys(
        one_key(period=1, days_since_onset=1), store_of(sightings_for(TEK, START, seen)), now=NOW
    )
    (match,) = result.matches
    assert [s.interval for s in match.sightings] == [START]


def test_rpi_outside_validity_does_not_match_even_within_tolerance() -> None:
    # RPI k = 100 of a key valid for 100 intervals is seen right in its own interval.
    seen = [(99, (START + 99) * 600), (100, (START + 100) * 600)]
    result = match_keys(
        one_key(period=100, days_since_onset=1), store_of(sightings_for(TEK, START, seen)), now=NOW
    )
    assert [s.interval for s in result.matches[0].sightings] == [START + 99]


def test_keys_outside_retention_are_ignored_and_counted() -> None:
    old_start = START - 15 * 144
    old_tek = bytes(range(16))
    batch = DiagnosisKeyBatch.concat(
        [one_key(days_since_onset=1), one_key(old_tek, old_start, days_since_onset=1)]
    )
    store = store_of(
        sightings_for(TEK, START, [(10, (START + 10) * 600)]),
        sightings_for(old_tek, old_start, [(10, (old_start + 10) * 600)]),
    )
    result = match_keys(batch, store, now=NOW)
    assert [m.key_data for m in result.matches] == [TEK]
    assert result.stats.keys_outside_retention == 1
    # With a longer retention the old key is matched as well.
    longer = match_keys(batch, store, now=NOW, config=MatchingConfig(retention_days=16))
    assert [m.key_data for m in longer.matches] == [TEK, old_tek]


def test_key_starting_after_now_is_rejected() -> None:
    with pytest.raises(KeyFormatError, match="after now"):
        match_keys(one_key(start=START + 3 * 144), store_of(), now=NOW)


@pytest.mark.parametrize(
    ("dsos", "expected"),
    [
        (1, Infectiousness.STANDARD),
        (2, Infectiousness.HIGH),
        (5, None),  # not in CWA's mapping: NONE, dropped like ENF does
        (None, None),  # missing: NONE by default
    ],
)
def test_infectiousness_from_days_since_onset(
    dsos: int | None, expected: Infectiousness | None
) -> None:
    batch = one_key() if dsos is None else one_key(days_since_onset=dsos)
    store = store_of(sightings_for(TEK, START, [(3, (START + 3) * 600)]))
    result = match_keys(batch, store, now=NOW)
    if expected is None:
        assert result.matches == ()
        assert result.stats.keys_without_infectiousness == 1
    else:
        assert result.matches[0].infectiousness is expected
    kept = match_keys(
        batch, store, now=NOW, config=MatchingConfig(ignore_none_infectiousness=False)
    )
    assert kept.matches[0].infectiousness is (expected or Infectiousness.NONE)
    assert kept.matches[0].days_since_onset_of_symptoms == dsos


def test_custom_infectiousness_mapping() -> None:
    config = MatchingConfig(
        infectiousness_for_dsos=dict.fromkeys(range(-2, 6), Infectiousness.HIGH),
        infectiousness_when_dsos_missing=Infectiousness.STANDARD,
    )
    store = store_of(sightings_for(TEK, START, [(3, (START + 3) * 600)]))
    high = match_keys(one_key(days_since_onset=-2), store, now=NOW, config=config)
    assert high.matches[0].infectiousness is Infectiousness.HIGH
    missing = match_keys(one_key(), store, now=NOW, config=config)
    assert missing.matches[0].infectiousness is Infectiousness.STANDARD


@pytest.mark.parametrize(
    ("report_type", "expected"),
    [
        (None, ReportType.CONFIRMED_TEST),
        (0, ReportType.CONFIRMED_TEST),
        (3, ReportType.SELF_REPORT),
        (4, ReportType.RECURSIVE),
        (5, None),
    ],
)
def test_report_type_defaults_and_revocation(
    report_type: int | None, expected: ReportType | None
) -> None:
    fields: dict[str, int] = {"days_since_onset": 1, "transmission_risk_level": 6}
    if report_type is not None:
        fields["report_type"] = report_type
    store = store_of(sightings_for(TEK, START, [(3, (START + 3) * 600)]))
    result = match_keys(one_key(**fields), store, now=NOW)
    if expected is None:
        assert result.matches == () and result.stats.keys_revoked == 1
    else:
        assert result.matches[0].report_type is expected
        assert result.matches[0].transmission_risk_level == 6


def test_exposure_windows_split_at_30_minutes_and_utc_midnight() -> None:
    # A key valid across midnight (start 22:00) is seen every 5 minutes from 23:20 to 00:35.
    start = START + 132
    times = [(START + 140) * 600 + 5 * 60 * i for i in range(16)]
    seen = [((t // 600) - start, t) for t in times]
    result = match_keys(
        one_key(start=start, days_since_onset=2),
        store_of(sightings_for(TEK, start, seen, rssi=-70, calibration_confidence=2)),
        now=NOW,
    )
    assert [m.date for m in result.matches] == [dt.date(2020, 4, 2), dt.date(2020, 4, 3)]
    before, after = result.matches
    assert len(before.sightings) == 8 and len(after.sightings) == 8
    # 23:20-23:55 is 8 scans: windows [23:20, 23:50) and [23:50, ...); after midnight likewise.
    assert [len(w.scan_instances) for w in before.exposure_windows()] == [6, 2]
    assert [len(w.scan_instances) for w in after.exposure_windows()] == [6, 2]
    windows = result.exposure_windows()
    # The result's list is ordered by date and content, not by key or time of day.
    assert [(w.date.day, len(w.scan_instances)) for w in windows] == [
        (2, 2),
        (2, 6),
        (3, 2),
        (3, 6),
    ]
    assert {w.infectiousness for w in windows} == {Infectiousness.HIGH}
    assert {w.calibration_confidence for w in windows} == {2}
    assert {s.min_attenuation for w in windows for s in w.scan_instances} == {78}
    assert {s.seconds_since_last_scan for w in windows for s in w.scan_instances} == {300}


def test_attenuation_given_by_the_store_is_used_as_is() -> None:
    part = sightings_for(TEK, START, [(3, (START + 3) * 600)])
    store = ObservationStore.from_arrays(
        part["rpi"], part["aem"], part["time"], None, attenuation=[55], typical_attenuation=[58]
    )
    result = match_keys(one_key(days_since_onset=1), store, now=NOW)
    (sighting,) = result.matches[0].sightings
    assert (sighting.min_attenuation, sighting.typical_attenuation) == (55, 58)


def test_attenuation_is_clamped_to_a_byte() -> None:
    part = sightings_for(TEK, START, [(3, (START + 3) * 600)], tx_power=-20, rssi=10)
    result = match_keys(one_key(days_since_onset=1), store_of(part), now=NOW)
    assert result.matches[0].sightings[0].min_attenuation == 0


def test_streamed_batches_equal_one_batch_and_chunking_does_not_matter() -> None:
    rng = np.random.default_rng(7)
    teks = [rng.bytes(16) for _ in range(9)]
    parts = [
        sightings_for(tek, START, [(i * 7 % 144, (START + i * 7 % 144) * 600 + 30)])
        for i, tek in enumerate(teks)
    ]
    batches = [
        DiagnosisKeyBatch.from_arrays(
            b"".join(teks[i : i + 3]), [START] * 3, days_since_onset=[1] * 3
        )
        for i in range(0, 9, 3)
    ]
    store = store_of(*parts, noise=500)
    whole = match_keys(DiagnosisKeyBatch.concat(batches), store, now=NOW)
    streamed = match_keys(iter(batches), store, now=NOW, chunk_size=2)
    assert whole == streamed
    assert [m.key_data for m in whole.matches] == teks


def test_empty_inputs() -> None:
    empty_keys = DiagnosisKeyBatch.concat([])
    assert match_keys(empty_keys, store_of(noise=10), now=NOW).matches == ()
    result = match_keys(one_key(days_since_onset=1), ObservationStore.empty(), now=NOW)
    assert result.matches == () and result.stats.keys_without_nearby_sightings == 1


@pytest.mark.parametrize(
    ("key_data", "start", "period", "message"),
    [
        (bytes(15), 0, 144, "16 bytes"),
        (bytes(17), 0, 144, "16 bytes"),
        (bytes(16), 0, 0, "rolling_period"),
        (bytes(16), 0, 145, "rolling_period"),
        (bytes(16), -1, 144, "rolling_start"),
        (bytes(16), 2**32, 144, "rolling_start"),
        (bytes(16), 2**32 - 10, 144, "past ENIN"),
    ],
)
def test_bad_keys_are_rejected(key_data: bytes, start: int, period: int, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        DiagnosisKeyBatch.from_arrays(key_data, [start], [period])


@pytest.mark.parametrize(
    ("field", "value"),
    [("transmission_risk_level", 9), ("transmission_risk_level", -1), ("report_type", 6)],
)
def test_bad_key_metadata_is_rejected(field: str, value: int) -> None:
    with pytest.raises(KeyFormatError, match=field):
        DiagnosisKeyBatch.from_arrays(bytes(16), [START], **{field: [value]})


def test_bad_key_objects_are_rejected() -> None:
    class Key:
        key_data = b"short"
        rolling_start_interval_number = START
        rolling_period = 144

    with pytest.raises(KeyFormatError, match="diagnosis key 0"):
        DiagnosisKeyBatch.from_keys([Key()])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rolling_start": [START, START]},
        {"rolling_start": [[START]]},
        {"rolling_start": ["x"]},
        {"rolling_start": [1.5]},
    ],
)
def test_bad_key_columns_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises((KeyFormatError, MatchingInputError)):
        DiagnosisKeyBatch.from_arrays(bytes(16), **kwargs)


@pytest.mark.parametrize(
    "now", [-1, 2**32 * 600, 253_402_300_800, dt.datetime(2020, 4, 3), "2020-04-03", 1.5]
)
def test_bad_now_is_rejected(now: Any) -> None:
    with pytest.raises(MatchingInputError):
        match_keys(one_key(), store_of(), now=now)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(MatchingInputError):
        match_keys(one_key(), store_of(), now=NOW, chunk_size=0)
    with pytest.raises(MatchingInputError):
        match_keys([b"not a batch"], store_of(), now=NOW)  # type: ignore[list-item]
    with pytest.raises(ConfigurationError):
        MatchingConfig(tolerance_intervals=-1)
    with pytest.raises(ConfigurationError):
        MatchingConfig(report_type_when_missing=ReportType.REVOKED)
    with pytest.raises(ConfigurationError):
        MatchingConfig(infectiousness_for_dsos={1: 7})  # type: ignore[dict-item]


def test_one_store_for_many_observers_keeps_their_matches_apart() -> None:
    part = sightings_for(TEK, START, [(3, (START + 3) * 600), (40, (START + 40) * 600)])
    store = ObservationStore.from_arrays(
        part["rpi"] * 2,
        part["aem"] * 2,
        part["time"] * 2,
        [-60, -60, -80, -80],
        observer=[0, 0, 7, 7],
    )
    result = match_keys(one_key(days_since_onset=1), store, now=NOW)
    assert [(m.observer, len(m.sightings)) for m in result.matches] == [(0, 2), (7, 2)]
    by_observer = result.windows_by_observer()
    assert sorted(by_observer) == [0, 7]
    assert {s.min_attenuation for w in by_observer[7] for s in w.scan_instances} == {88}
    assert result.exposure_windows(observer=0) == by_observer[0]
    assert len(result.exposure_windows()) == len(by_observer[0]) + len(by_observer[7])


@given(
    st.integers(0, 3),
    st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=3),
    st.lists(st.integers(-5, 200), min_size=1, max_size=3),
    st.lists(st.integers(-3, 12), min_size=1, max_size=3),
)
def test_any_key_columns_build_a_batch_or_raise_a_protocol_error(
    extra: int, starts: list[int], periods: list[int], levels: list[int]
) -> None:
    n = len(starts)
    try:
        batch = DiagnosisKeyBatch.from_arrays(
            bytes(16 * n + extra),
            starts,
            (periods * n)[:n],
            transmission_risk_level=(levels * n)[:n],
            report_type=[min(abs(v), 9) for v in (levels * n)[:n]],
        )
    except ProtocolError:
        return
    # A batch that was built holds only keys the spec allows.
    assert extra == 0
    assert bool(((batch.rolling_period >= 1) & (batch.rolling_period <= 144)).all())
    assert bool(((batch.rolling_start >= 0) & (batch.rolling_start <= 2**32 - 1)).all())
    assert bool((batch.transmission_risk_level <= 8).all() and (batch.report_type <= 5).all())
