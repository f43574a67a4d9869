"""Matching throughput: the peers' loop shape (A), the derive-only ceiling (B), and ours.

All figures come from one run of this script on the same machine, so the ratios compare like
with like even when other work shares the cores (the rounds of B and ours are interleaved and
the best round of each is kept; the load average is printed too). Then the national run: 1.4 M diagnosis keys, streamed as three
export-sized batches, against a store of 1 M sightings, in a fresh child process so its peak RSS
is its own. The last line printed is one JSON object with every figure.

    .venv/bin/python bench/matching.py            # full run (about a minute)
    .venv/bin/python bench/matching.py --quick    # small sizes, for a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tracewarn.device.parallel_matching import ProcessMatcher
from tracewarn.protocol.gaen import aem_key, encrypt_metadata, padded_rpi_data
from tracewarn.protocol.gaen import rolling_proximity_identifiers as rpis_of
from tracewarn.protocol.matching import DiagnosisKeyBatch, ObservationStore, match_keys

NOW_INTERVAL = 2_900_016  # 2025-02-19 00:00 UTC, a UTC midnight
NOW = NOW_INTERVAL * 600 + 12 * 3600
DAYS = 14
SEED = 20201129


def hkdf_rpik(tek: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=b"EN-RPIK").derive(tek)


def random_keys(rng: np.random.Generator, n: int) -> tuple[bytes, np.ndarray[Any, Any]]:
    starts = NOW_INTERVAL - 144 * rng.integers(1, DAYS + 1, n)
    return rng.bytes(16 * n), starts.astype(np.int64)


def make_store(
    rng: np.random.Generator, n: int, planted: list[tuple[bytes, int]], per_key: int = 6
) -> ObservationStore:
    """`n` random sightings over the last 14 days plus `per_key` real ones of each planted key."""
    rpi, aem, seen = [], [], []
    for tek, start in planted:
        rpis, aemk = rpis_of(tek, start), aem_key(tek)
        for k in rng.choice(144, per_key, replace=False):
            rpi.append(rpis[k])
            aem.append(encrypt_metadata(aemk, rpis[k], b"\x40\x08\x00\x00"))
            seen.append((start + int(k)) * 600 + int(rng.integers(0, 600)))
    noise = n - len(rpi)
    return ObservationStore.from_arrays(
        b"".join(rpi) + rng.bytes(16 * noise),
        b"".join(aem) + rng.bytes(4 * noise),
        np.concatenate(
            [
                np.array(seen, dtype=np.int64),
                (NOW_INTERVAL - 144 * DAYS) * 600 + rng.integers(0, DAYS * 86400, noise),
            ]
        ),
        rng.integers(-100, -30, n),
        seconds_since_last_scan=rng.integers(60, 300, n),
    )


def baseline_a(key_data: bytes, starts: np.ndarray[Any, Any], observed: set[bytes]) -> int:
    """The Python peers' loop: HKDF, a new AES encryptor per 16-byte block, `in` a set."""
    hits = 0
    for i, start in enumerate(starts.tolist()):
        rpik = hkdf_rpik(key_data[16 * i : 16 * i + 16])
        for j in range(start, start + 144):
            encryptor = Cipher(algorithms.AES(rpik), modes.ECB()).encryptor()
            rpi = encryptor.update(padded_rpi_data(j)) + encryptor.finalize()
            if rpi in observed:
                hits += 1
    return hits


def baseline_a_prime(key_data: bytes, starts: np.ndarray[Any, Any], observed: set[bytes]) -> int:
    """For reference: as A but one encryptor per key, 144 one-block `update` calls (spec (a'))."""
    hits = 0
    for i, start in enumerate(starts.tolist()):
        encryptor = Cipher(algorithms.AES(hkdf_rpik(key_data[16 * i : 16 * i + 16])), modes.ECB())
        context = encryptor.encryptor()
        for j in range(start, start + 144):
            if context.update(padded_rpi_data(j)) in observed:
                hits += 1
    return hits


def baseline_b(key_data: bytes, starts: np.ndarray[Any, Any]) -> int:
    """The derive-only ceiling: HKDF + one AES-ECB call over 144 padded blocks, no matching."""
    padded = {s: b"".join(padded_rpi_data(s + k) for k in range(144)) for s in set(starts.tolist())}
    total = 0
    for i, start in enumerate(starts.tolist()):
        encryptor = Cipher(algorithms.AES(hkdf_rpik(key_data[16 * i : 16 * i + 16])), modes.ECB())
        total += len(encryptor.encryptor().update(padded[start]))
    return total


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def national(keys: int, observations: int, planted: int, rounds: int) -> dict[str, Any]:
    """1.4 M keys in export-sized batches against 1 M sightings; runs in a child process.

    The whole run is repeated `rounds` times (fresh key batches, same store) and the best time
    kept, like the other figures: on a shared machine one run may lose its core for seconds.
    """
    rng = np.random.default_rng(SEED + 1)
    teks = [rng.bytes(16) for _ in range(planted)]
    plant_starts = [NOW_INTERVAL - 144 * int(rng.integers(1, DAYS + 1)) for _ in teks]
    store_seconds, store = timed(
        make_store, rng, observations, list(zip(teks, plant_starts, strict=True))
    )
    batch_size = 500_000

    def batches() -> Iterator[DiagnosisKeyBatch]:
        # Generated lazily, one export file's worth at a time, as a reader would stream them.
        gen = np.random.default_rng(SEED + 2)
        for first in range(0, keys, batch_size):
            n = min(batch_size, keys - first)
            data, starts = random_keys(gen, n)
            chunk = bytearray(data)
            for p in range(planted):
                if first <= p * (keys // planted) < first + n:
                    at = p * (keys // planted) - first
                    chunk[16 * at : 16 * at + 16] = teks[p]
                    starts[at] = plant_starts[p]
            yield DiagnosisKeyBatch.from_arrays(
                bytes(chunk), starts, days_since_onset=gen.integers(1, 3, n)
            )

    runs = [timed(match_keys, batches(), store, now=NOW) for _ in range(rounds)]
    seconds, result = min(runs, key=lambda run: run[0])
    return {
        "national_keys": keys,
        "national_observations": observations,
        "national_seconds": round(seconds, 2),
        "national_seconds_all_rounds": [round(run[0], 2) for run in runs],
        "national_store_build_seconds": round(store_seconds, 2),
        "national_store_mb": round(store.nbytes / 1e6, 1),
        "national_matched_keys": result.stats.matched_keys,
        "national_planted_keys": planted,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--national-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--national-rounds", type=int, default=2)
    args = parser.parse_args()
    sizes = (
        {
            "a": 100,
            "keys": 3_000,
            "obs": 20_000,
            "nat_keys": 30_000,
            "nat_obs": 20_000,
            "planted": 10,
        }
        if args.quick
        else {
            "a": 2_000,
            "keys": 100_000,
            "obs": 100_000,
            "nat_keys": 1_400_000,
            "nat_obs": 1_000_000,
            "planted": 100,
        }
    )
    if args.national_child:
        print(
            json.dumps(
                national(
                    sizes["nat_keys"], sizes["nat_obs"], sizes["planted"], args.national_rounds
                )
            )
        )
        return

    rng = np.random.default_rng(SEED)
    key_data, starts = random_keys(rng, sizes["keys"])
    planted = [
        (key_data[16 * i : 16 * i + 16], int(starts[i]))
        for i in range(0, sizes["keys"], sizes["keys"] // 20)
    ]
    store = make_store(rng, sizes["obs"], planted)
    batch = DiagnosisKeyBatch.from_arrays(
        key_data, starts, days_since_onset=np.ones(len(starts), np.int64)
    )
    observed = {store.rpi(i) for i in range(len(store))}

    n_a = sizes["a"]
    a_best = a_prime_best = b_best = ours_best = float("inf")
    n_a_prime = 10 * n_a
    result = None
    a_hits = 0
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        a_seconds, a_hits = timed(baseline_a, key_data[: 16 * n_a], starts[:n_a], observed)
        a_prime_seconds, _ = timed(
            baseline_a_prime, key_data[: 16 * n_a_prime], starts[:n_a_prime], observed
        )
        a_prime_best = min(a_prime_best, a_prime_seconds)
        b_seconds, _ = timed(baseline_b, key_data, starts)
        ours_seconds, result = timed(match_keys, batch, store, now=NOW)
        a_best, b_best = min(a_best, a_seconds), min(b_best, b_seconds)
        ours_best = min(ours_best, ours_seconds)
    assert result is not None
    with ProcessMatcher(store, workers=2) as matcher:
        matcher.match(batch.select(np.arange(min(5000, len(batch)))), now=NOW)  # warm the workers
        par_seconds, par_result = timed(matcher.match, batch, now=NOW)
    if par_result != result:
        raise SystemExit("parallel result differs from the single-process result")

    n = sizes["keys"]
    figures: dict[str, Any] = {
        "keys": n,
        "observations": sizes["obs"],
        "baseline_a_keys": n_a,
        "baseline_a_keys_per_s": round(n_a / a_best),
        "baseline_a_prime_keys_per_s": round(n_a_prime / a_prime_best),
        "baseline_b_keys_per_s": round(n / b_best),
        "keys_per_s": round(n / ours_best),
        "parallel_2_workers_keys_per_s": round(n / par_seconds),
        "matched_keys": result.stats.matched_keys,
        "planted_keys": len(planted),
        "baseline_a_hits": a_hits,
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
    }
    figures["ratio_vs_a"] = round(figures["keys_per_s"] / figures["baseline_a_keys_per_s"], 1)
    figures["ratio_vs_b"] = round(figures["keys_per_s"] / figures["baseline_b_keys_per_s"], 3)
    print(f"keys {n:,} against {sizes['obs']:,} sightings ({len(planted)} keys planted)")
    print(f"baseline A (peers' loop, {n_a:,} keys): {figures['baseline_a_keys_per_s']:>9,} keys/s")
    print(
        f"(for reference) A' (one encryptor per key, 144 updates): "
        f"{figures['baseline_a_prime_keys_per_s']:,} keys/s"
    )
    print(
        f"baseline B (derive only, HKDF + 1 AES call):   {figures['baseline_b_keys_per_s']:>9,} keys/s"
    )
    print(f"ours (derive + match, end to end):             {figures['keys_per_s']:>9,} keys/s")
    print(
        f"ours, 2 worker processes:                      {figures['parallel_2_workers_keys_per_s']:>9,} keys/s"
    )
    print(f"ratio vs A: {figures['ratio_vs_a']}x   ratio vs B: {figures['ratio_vs_b']:.1%}")
    print(f"matched {figures['matched_keys']} of {len(planted)} planted keys")
    print(
        f"1-minute load average {figures['load_avg_1m_before']} -> {figures['load_avg_1m_after']} "
        f"on {os.cpu_count()} cores (best of {args.rounds} interleaved rounds)"
    )
    if not args.skip_national:
        cmd = [sys.executable, __file__, "--national-child"]
        cmd += ["--national-rounds", str(args.national_rounds)] + (
            ["--quick"] if args.quick else []
        )
        child = subprocess.run(cmd, capture_output=True, text=True, check=True)
        nat = json.loads(child.stdout.strip().splitlines()[-1])
        figures.update(nat)
        print(
            f"national: {nat['national_keys']:,} keys vs {nat['national_observations']:,} sightings "
            f"in {nat['national_seconds']} s (best of {nat['national_seconds_all_rounds']}; store build {nat['national_store_build_seconds']} s, "
            f"store {nat['national_store_mb']} MB), peak RSS {nat['peak_rss_mb']} MB, "
            f"matched {nat['national_matched_keys']}/{nat['national_planted_keys']} planted"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
