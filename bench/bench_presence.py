"""Presence tracing throughput: encrypting reports, packages, and on-device matching.

Matching selects reports by location-id hash (a dict lookup) and only then verifies a MAC; the
baseline is what a device would do without the hash: try every report against every one of its
check-ins' MAC keys. Both run in this process on the same data, so the ratio is like for like.
Usage: .venv/bin/python bench/bench_presence.py [--reports N] [--check-ins M]
"""

from __future__ import annotations

import argparse
import json
import random
import time

from tracewarn.protocol.errors import InvalidMAC
from tracewarn.protocol.presence import (
    CheckIn,
    CheckInRecord,
    check_in_reports,
    decode_trace_warning_package,
    decrypt_report,
    encode_trace_warning_package,
    encrypt_check_in_record,
    match_check_ins,
)

T0 = 1_795_000_000 // 86_400 * 86_400


def best_of(runs: int, fn: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--check-ins", type=int, default=30)
    parser.add_argument("--baseline-reports", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(7)

    # A device's check-ins over two weeks; five of the published reports concern them.
    mine = [
        CheckIn(rng.randbytes(32), T0 + i * 36_000, T0 + i * 36_000 + 3600)
        for i in range(args.check_ins)
    ]
    others = [rng.randbytes(32) for _ in range(1000)]
    records = [CheckInRecord((T0 + i * 600) // 600, 6, 7) for i in range(args.reports)]

    start = time.perf_counter()
    reports = [
        encrypt_check_in_record(others[i % len(others)], rec, rng.randbytes(16))
        for i, rec in enumerate(records)
    ]
    encrypt_s = time.perf_counter() - start
    for k in range(5):
        c = mine[k]
        reports[k * 997] = encrypt_check_in_record(
            c.location_id, CheckInRecord(c.start // 600, 6, 7), rng.randbytes(16)
        )

    submit_s = best_of(3, lambda: check_in_reports(mine, T0 + 20 * 86_400, [8] * 15, rng.randbytes))
    package: bytes = b""

    def encode() -> None:
        nonlocal package
        package = encode_trace_warning_package(T0 // 3600, "DE", reports)

    encode_s = best_of(3, encode)
    decode_s = best_of(3, lambda: decode_trace_warning_package(package))

    result = match_check_ins(mine, reports)
    assert len(result.overlaps) == 5, result
    match_s = best_of(3, lambda: match_check_ins(mine, reports))

    subset = reports[: args.baseline_reports]

    def naive() -> int:
        found = 0
        for report in subset:
            for c in mine:
                try:
                    decrypt_report(c.location_id, report)
                except InvalidMAC:
                    continue
                found += 1
        return found

    naive_s = best_of(1, naive)
    match_rate = args.reports / match_s
    naive_rate = len(subset) / naive_s
    figures = {
        "reports": args.reports,
        "check_ins": args.check_ins,
        "package_bytes": len(package),
        "encrypt_reports_per_s": round(args.reports / encrypt_s),
        "submission_30_check_ins_ms": round(submit_s * 1000, 2),
        "package_encode_reports_per_s": round(args.reports / encode_s),
        "package_decode_reports_per_s": round(args.reports / decode_s),
        "match_reports_per_s": round(match_rate),
        "baseline_try_every_key_reports_per_s": round(naive_rate),
        "match_vs_baseline_ratio": round(match_rate / naive_rate, 1),
    }
    print(f"encrypt reports           {figures['encrypt_reports_per_s']:>12,} /s")
    print(
        f"submission ({args.check_ins} check-ins)   {figures['submission_30_check_ins_ms']:>12} ms"
    )
    print(
        f"package ({len(package):,} B) encode {figures['package_encode_reports_per_s']:>12,} reports/s"
    )
    print(f"package decode            {figures['package_decode_reports_per_s']:>12,} reports/s")
    print(f"match by location hash    {figures['match_reports_per_s']:>12,} reports/s")
    print(
        f"baseline: every key       {figures['baseline_try_every_key_reports_per_s']:>12,} reports/s"
    )
    print(f"ratio                     {figures['match_vs_baseline_ratio']:>12}x")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
