"""Hypothesis: the fast matcher returns exactly what a plain reference implementation returns.

The reference below is the spec read literally (GAEN Cryptography Specification v1.2 [docs/specifications.md#gaen-crypto] plus the ENF data
mapping): for every key, every interval of its validity, every sighting, compare 16 bytes. It
uses the foundation's per-interval key schedule, not the matcher's batched derivation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_vector_json
from tracewarn.protocol.exposure_window import Infectiousness, ReportType
from tracewarn.protocol.gaen import (
    BluetoothMetadata,
    aem_key,
    decrypt_metadata,
    rolling_proximity_identifier,
    rolling_proximity_identifiers,
    rpi_key,
)
from tracewarn.protocol.matching import (
    DiagnosisKeyBatch,
    MatchingConfig,
    MatchResult,
    ObservationStore,
    _derive,
    match_keys,
)
from tracewarn.protocol.matching._derive import RpiDeriver, hkdf_aemk, hkdf_rpik
from tracewarn.protocol.matching.store import MAX_TIME

START = 2642976
NOW_INTERVAL = START + 200


@dataclass(frozen=True)
class RefKey:
    tek: bytes
    start: int
    period: int
    trl: int | None
    report_type: int | None
    dsos: int | None


@dataclass(frozen=True)
class RefSighting:
    rpi: bytes
    aem: bytes
    time: int
    rssi: int
    attenuation: int | None
    gap: int
    observer: int = 0


def reference_match(
    keys: list[RefKey], sightings: list[RefSighting], now: int, cfg: MatchingConfig
) -> list[tuple[Any, ...]]:
    oldest = (now // 600 // 144 - cfg.retention_days) * 144
    found: dict[tuple[int, int, dt.date], list[tuple[Any, ...]]] = {}
    for index, key in enumerate(keys):
        if key.start + key.period - 1 < oldest:
            continue
        report_type = key.report_type or int(cfg.report_type_when_missing)
        if cfg.ignore_revoked and report_type == ReportType.REVOKED:
            continue
        if key.dsos is None:
            infectiousness = cfg.infectiousness_when_dsos_missing
        else:
            infectiousness = cfg.infectiousness_for_dsos.get(key.dsos, Infectiousness.NONE)
        if cfg.ignore_none_infectiousness and infectiousness == Infectiousness.NONE:
            continue
        rpik, aemk = rpi_key(key.tek), aem_key(key.tek)
        for interval in range(key.start, key.start + key.period):
            rpi = rolling_proximity_identifier(rpik, interval)
            for s in sightings:
                if s.rpi != rpi or abs(s.time // 600 - interval) > cfg.tolerance_intervals:
                    continue
                meta = BluetoothMetadata.from_bytes(decrypt_metadata(aemk, rpi, s.aem))
                attenuation = (
                    s.attenuation
                    if s.attenuation is not None
                    else min(max(meta.tx_power - s.rssi, 0), 255)
                )
                day = dt.datetime.fromtimestamp(s.time, tz=dt.UTC).date()
                found.setdefault((index, s.observer, day), []).append(
                    (s.time, interval, rpi, meta.tx_power, attenuation, s.gap)
                )
    return [
        (
            observer,
            keys[index].tek,
            keys[index].start,
            day,
            report_type_of(keys[index], cfg),
            sorted(rows),
        )
        for (index, observer, day), rows in sorted(found.items())
    ]


def report_type_of(key: RefKey, cfg: MatchingConfig) -> int:
    return key.report_type or int(cfg.report_type_when_missing)


def canonical(result: MatchResult) -> list[tuple[Any, ...]]:
    return [
        (
            m.observer,
            m.key_data,
            m.rolling_start_interval_number,
            m.date,
            int(m.report_type),
            sorted(
                (
                    s.time,
                    s.interval,
                    s.rpi,
                    s.tx_power,
                    s.min_attenuation,
                    s.seconds_since_last_scan,
                )
                for s in m.sightings
            ),
        )
        for m in result.matches
    ]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[RefKey], list[RefSighting], MatchingConfig, int]:
    wide = draw(st.booleans())
    teks = draw(st.lists(st.binary(min_size=16, max_size=16), min_size=1, max_size=3))
    keys = []
    for _ in range(draw(st.integers(1, 6))):
        low = NOW_INTERVAL - (40_000 if wide else 17 * 144)
        keys.append(
            RefKey(
                tek=draw(st.sampled_from(teks)),
                start=draw(st.integers(low, NOW_INTERVAL + 100)),
                period=draw(st.integers(1, 144)),
                trl=draw(st.none() | st.integers(0, 8)),
                report_type=draw(st.none() | st.integers(0, 5)),
                dsos=draw(st.none() | st.integers(-3, 4)),
            )
        )
    sightings = []
    for key in keys:
        rpis = rolling_proximity_identifiers(key.tek, key.start, 144)
        aemk = aem_key(key.tek)
        for _ in range(draw(st.integers(0, 5))):
            k = draw(st.integers(0, 143))
            meta = BluetoothMetadata(
                tx_power=draw(st.integers(-30, 20)),
                calibration_confidence=draw(st.integers(0, 3)),
            )
            aem = decrypt_metadata(aemk, rpis[k], meta.to_bytes())
            seen = (key.start + k) * 600 + draw(st.integers(-15_000, 15_000))
            for _ in range(draw(st.integers(1, 2))):  # the same RPI in consecutive scans
                sightings.append(
                    RefSighting(
                        rpis[k],
                        aem,
                        max(seen, 0),
                        draw(st.integers(-110, 20)),
                        draw(st.none() | st.integers(0, 255)),
                        draw(st.integers(0, 600)),
                        draw(st.integers(0, 2)),
                    )
                )
                seen += 240
    for _ in range(draw(st.integers(0, 4))):
        sightings.append(
            RefSighting(
                draw(st.binary(min_size=16, max_size=16)),
                draw(st.binary(min_size=4, max_size=4)),
                START * 600 + draw(st.integers(0, 200 * 600)),
                -60,
                None,
                100,
            )
        )
    config = MatchingConfig(
        tolerance_intervals=draw(st.sampled_from([12, 12, 0, 3])),
        retention_days=draw(st.sampled_from([14, 14, 365])),
        infectiousness_when_dsos_missing=draw(st.sampled_from(list(Infectiousness))),
        ignore_none_infectiousness=draw(st.booleans()),
    )
    return keys, sightings, config, draw(st.integers(1, 5))


def build(
    keys: list[RefKey], sightings: list[RefSighting]
) -> tuple[DiagnosisKeyBatch, ObservationStore]:
    def column(values: list[int | None]) -> np.ndarray[Any, Any]:
        return np.array([0 if v is None else v for v in values], dtype=np.int64)

    def present(values: list[int | None]) -> np.ndarray[Any, Any]:
        return np.array([v is not None for v in values], dtype=np.bool_)

    trl = [k.trl for k in keys]
    rtype = [k.report_type for k in keys]
    dsos = [k.dsos for k in keys]
    batch = DiagnosisKeyBatch(
        key_data=b"".join(k.tek for k in keys),
        rolling_start=np.array([k.start for k in keys], dtype=np.int64),
        rolling_period=np.array([k.period for k in keys], dtype=np.int64),
        transmission_risk_level=column(trl),
        has_transmission_risk_level=present(trl),
        report_type=column(rtype),
        has_report_type=present(rtype),
        days_since_onset=column(dsos),
        has_days_since_onset=present(dsos),
    )
    store = ObservationStore.from_arrays(
        b"".join(s.rpi for s in sightings),
        b"".join(s.aem for s in sightings),
        [s.time for s in sightings],
        [s.rssi for s in sightings],
        attenuation=[-1 if s.attenuation is None else s.attenuation for s in sightings],
        seconds_since_last_scan=[s.gap for s in sightings],
        observer=[s.observer for s in sightings],
    )
    return batch, store


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_fast_path_equals_reference(
    scenario: tuple[list[RefKey], list[RefSighting], MatchingConfig, int],
) -> None:
    keys, sightings, config, chunk_size = scenario
    batch, store = build(keys, sightings)
    now = NOW_INTERVAL * 600
    result = match_keys(batch, store, now=now, config=config, chunk_size=chunk_size)
    assert canonical(result) == reference_match(keys, sightings, now, config)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, MAX_TIME // 600 - 300))
def test_a_key_never_matches_outside_its_validity_and_tolerance(tek: bytes, start: int) -> None:
    period = 1 + start % 144
    rpis = rolling_proximity_identifiers(tek, start, 144)
    # Every RPI is seen 0, 12 and 13 intervals after its interval.
    times = [(start + k + d) * 600 for k in range(0, 144, 11) for d in (0, 12, 13)]
    store = ObservationStore.from_arrays(
        b"".join(rpis[k] for k in range(0, 144, 11) for _ in range(3)),
        bytes(4 * len(times)),
        times,
        [-60] * len(times),
    )
    batch = DiagnosisKeyBatch.from_arrays(tek, [start], [period], days_since_onset=[1])
    result = match_keys(batch, store, now=(start + 144) * 600)
    seen = sorted((s.interval, s.time // 600) for m in result.matches for s in m.sightings)
    assert seen == sorted(
        (start + k, start + k + d) for k in range(0, 144, 11) for d in (0, 12) if k < period
    )


def test_hmac_hkdf_equals_cryptography_hkdf_on_the_vectors() -> None:
    vectors = load_vector_json("gaen", "en-crypto-test-vectors.json")
    tek = bytes.fromhex(vectors["tek"])
    assert hkdf_rpik(tek).hex() == vectors["rpik"]
    assert hkdf_aemk(tek).hex() == vectors["aemk"]


@given(st.binary(min_size=16, max_size=16))
def test_hmac_hkdf_equals_cryptography_hkdf(tek: bytes) -> None:
    assert hkdf_rpik(tek) == rpi_key(tek)
    assert hkdf_aemk(tek) == aem_key(tek)


def test_batched_derivation_reproduces_all_144_vector_rpis() -> None:
    vectors = load_vector_json("gaen", "en-crypto-test-vectors.json")
    tek = bytes.fromhex(vectors["tek"])
    start = int(vectors["rolling_start_interval_number"])
    out = bytes(RpiDeriver(1).derive(tek, np.array([start], dtype=np.int64)))
    assert [out[16 * k : 16 * k + 16].hex() for k in range(144)] == [
        row["rpi"] for row in vectors["intervals"]
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.binary(min_size=16, max_size=16), st.integers(0, 2**32 - 144)),
        min_size=1,
        max_size=8,
    )
)
def test_batched_derivation_equals_the_key_schedule(keys: list[tuple[bytes, int]]) -> None:
    starts = np.array([s for _, s in keys], dtype=np.int64)
    out = bytes(RpiDeriver(len(keys)).derive(b"".join(t for t, _ in keys), starts))
    for i, (tek, start) in enumerate(keys):
        assert out[2304 * i : 2304 * (i + 1)] == b"".join(rolling_proximity_identifiers(tek, start))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(min_size=16, max_size=16), min_size=1, max_size=5))
def test_fast_and_public_encryptor_paths_agree(teks: list[bytes]) -> None:
    starts = np.full(len(teks), START, dtype=np.int64)
    fast = bytes(RpiDeriver(len(teks)).derive(b"".join(teks), starts))
    original = _derive.make_encryptor
    try:
        _derive.make_encryptor = _derive.public_encryptor
        public = bytes(RpiDeriver(len(teks)).derive(b"".join(teks), starts))
    finally:
        _derive.make_encryptor = original
    assert (
        fast == public == b"".join(b"".join(rolling_proximity_identifiers(t, START)) for t in teks)
    )
