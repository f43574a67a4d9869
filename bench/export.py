"""Benchmark: write + sign, then read + verify, a 1,400,000-key export (a large country's 14 days).

Each phase runs in its own subprocess so its peak RSS (`ru_maxrss`) is its own. Baselines are
measured in the same run on the same keys: the bare protobuf runtime building the export message
with `keys.add(...)` and serialising it, and parsing it back. Key generation and file I/O are not
timed, but the input objects do count towards the writer's peak RSS (reported separately).
Wall time and process CPU time are both printed: on a shared machine the CPU time is the
steadier figure for "one core".

    .venv/bin/python bench/export.py [--keys 1400000] [--max-keys-per-file 500000]

Targets (issue 2, one core): write + sign < 5 s, read + verify < 3 s, peak RSS < 600 MB.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20201120
REGION = "DE"
START, END = 1_700_000_000, 1_700_086_400


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _columns(n: int) -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    day0 = START // 600 // 144 * 144 - 14 * 144
    return {
        "key_data": rng.bytes(16 * n),
        "rolling_start": day0 + 144 * rng.integers(0, 14, n),
        "transmission_risk_level": rng.integers(0, 9, n),
        "days_since_onset": rng.integers(-14, 15, n),
    }


def _export_keys(n: int) -> list[Any]:
    from tracewarn.protocol.gaen import ExportKey

    c = _columns(n)
    data = c["key_data"]
    starts = c["rolling_start"].tolist()
    trl = c["transmission_risk_level"].tolist()
    dsos = c["days_since_onset"].tolist()
    return [
        ExportKey(data[16 * i : 16 * i + 16], starts[i], 144, trl[i], 1, dsos[i]) for i in range(n)
    ]


def _key_arrays(n: int) -> Any:
    from tracewarn.protocol.gaen import KeyArrays

    c = _columns(n)
    return KeyArrays(
        key_data=c["key_data"],
        rolling_start=c["rolling_start"],
        rolling_period=np.full(n, 144, dtype=np.int64),
        transmission_risk_level=c["transmission_risk_level"],
        has_transmission_risk_level=np.ones(n, dtype=np.bool_),
        report_type=np.ones(n, dtype=np.int64),
        has_report_type=np.ones(n, dtype=np.bool_),
        days_since_onset=c["days_since_onset"],
        has_days_since_onset=np.ones(n, dtype=np.bool_),
    )


def _signer() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    from tracewarn.protocol.gaen import ExportSigner

    return ExportSigner(ec.derive_private_key(0xC0FFEE, ec.SECP256R1()), "262", "v1")


def phase_baseline_write(n: int, workdir: Path, _: argparse.Namespace) -> dict[str, Any]:
    from tracewarn.protocol.proto import export_pb2

    c = _columns(n)
    data = c["key_data"]
    starts = c["rolling_start"].tolist()
    trl = c["transmission_risk_level"].tolist()
    dsos = c["days_since_onset"].tolist()
    before = _current_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    message = export_pb2.TemporaryExposureKeyExport(
        start_timestamp=START, end_timestamp=END, region=REGION, batch_num=1, batch_size=1
    )
    add = message.keys.add
    for i in range(n):
        add(
            key_data=data[16 * i : 16 * i + 16],
            transmission_risk_level=trl[i],
            rolling_start_interval_number=starts[i],
            report_type=1,  # type: ignore[arg-type]
            days_since_onset_of_symptoms=dsos[i],
        )
    body = message.SerializeToString()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    (workdir / "baseline.bin").write_bytes(body)
    return {"seconds": elapsed, "cpu_seconds": cpu, "bytes": len(body), "rss_before_mb": before}


def phase_baseline_read(n: int, workdir: Path, _: argparse.Namespace) -> dict[str, Any]:
    from tracewarn.protocol.proto import export_pb2

    body = (workdir / "baseline.bin").read_bytes()
    before = _current_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    message = export_pb2.TemporaryExposureKeyExport.FromString(body)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(message.keys) == n
    return {"seconds": elapsed, "cpu_seconds": cpu, "rss_before_mb": before}


def phase_baseline_read_columns(n: int, workdir: Path, _: argparse.Namespace) -> dict[str, Any]:
    """A naive columnar reader: parse with the runtime, then read each key's fields."""
    from tracewarn.protocol.proto import export_pb2

    body = (workdir / "baseline.bin").read_bytes()
    before = _current_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    keys = export_pb2.TemporaryExposureKeyExport.FromString(body).keys
    key_data = b"".join([k.key_data for k in keys])
    columns = [
        np.array([getattr(k, name) for k in keys], dtype=np.int64)
        for name in (
            "rolling_start_interval_number",
            "rolling_period",
            "transmission_risk_level",
            "report_type",
            "days_since_onset_of_symptoms",
        )
    ]
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(key_data) == 16 * n and all(len(c) == n for c in columns)
    return {"seconds": elapsed, "cpu_seconds": cpu, "rss_before_mb": before}


def _write(keys: Any, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    from tracewarn.protocol.gaen import write_export_files

    before = _current_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    files = write_export_files(
        keys,
        region=REGION,
        start_timestamp=START,
        end_timestamp=END,
        signers=[_signer()],
        max_keys_per_file=args.max_keys_per_file,
        compresslevel=args.compresslevel,
    )
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    for index, data in enumerate(files):
        (workdir / f"export-{index:05d}.zip").write_bytes(data)
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "files": len(files),
        "zip_bytes": sum(len(f) for f in files),
        "rss_before_mb": before,
    }


def phase_write(n: int, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    return _write(_export_keys(n), workdir, args)


def phase_write_arrays(n: int, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    return _write(_key_arrays(n), workdir, args)


def phase_read(n: int, workdir: Path, _: argparse.Namespace) -> dict[str, Any]:
    from tracewarn.protocol.gaen import verify_export

    blobs = [path.read_bytes() for path in sorted(workdir.glob("export-*.zip"))]
    public = _signer().public_key()
    before = _current_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    total = 0
    for blob in blobs:
        verified = verify_export(blob, public)
        total += len(verified.export.key_arrays())
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert total == n, (total, n)
    return {"seconds": elapsed, "cpu_seconds": cpu, "keys": total, "rss_before_mb": before}


PHASES = {
    "baseline-write": phase_baseline_write,
    "baseline-read": phase_baseline_read,
    "baseline-read-columns": phase_baseline_read_columns,
    "write": phase_write,
    "write-arrays": phase_write_arrays,
    "read": phase_read,
}


def _run_phase(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--keys",
        str(args.keys),
        "--max-keys-per-file",
        str(args.max_keys_per_file),
        "--compresslevel",
        str(args.compresslevel),
        "--workdir",
        str(workdir),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_400_000)
    parser.add_argument("--max-keys-per-file", type=int, default=500_000)
    parser.add_argument("--compresslevel", type=int, default=1)
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if args.phase:
        figures = PHASES[args.phase](args.keys, args.workdir, args)
        figures["peak_rss_mb"] = _rss_mb()
        print(json.dumps(figures))
        return

    print(
        f"export bench: {args.keys:,} keys, <= {args.max_keys_per_file:,} per file, "
        f"Deflate level {args.compresslevel}, {os.cpu_count()} CPUs (shared; timings vary)"
    )
    with tempfile.TemporaryDirectory(prefix="tracewarn-bench-") as tmp:
        workdir = Path(tmp)
        results = {name: _run_phase(name, args, workdir) for name in PHASES}
    bw, br = results["baseline-write"], results["baseline-read"]
    brc = results["baseline-read-columns"]
    w, wa, r = results["write"], results["write-arrays"], results["read"]
    rows = [
        ("baseline: protobuf keys.add + serialize", bw, None),
        ("write + sign (ExportKey objects in)", w, bw),
        ("write + sign (KeyArrays columns in)", wa, bw),
        ("baseline: protobuf parse", br, None),
        ("baseline: parse + per-key columns (naive)", brc, None),
        ("read + verify + key_arrays()", r, br),
    ]
    for label, figures, base in rows:
        ratio = f"  x{figures['seconds'] / base['seconds']:.2f} vs baseline" if base else ""
        print(
            f"{label:42s} {figures['seconds']:6.2f} s  peak RSS {figures['peak_rss_mb']:6.0f} MB"
            f" (before timing {figures['rss_before_mb']:4.0f} MB), CPU {figures['cpu_seconds']:5.2f} s{ratio}"
        )
    print(f"read + verify vs naive column extraction: x{r['seconds'] / brc['seconds']:.2f}")
    print(f"files: {w['files']}, {w['zip_bytes']:,} zip bytes")
    targets = {
        "write_under_5s": w["seconds"] < 5,
        "read_under_3s": r["seconds"] < 3,
        "rss_under_600mb": max(w["peak_rss_mb"], r["peak_rss_mb"]) < 600,
    }
    print("targets: " + ", ".join(f"{k}={v}" for k, v in targets.items()))
    summary = {
        "keys": args.keys,
        "max_keys_per_file": args.max_keys_per_file,
        "files": w["files"],
        "zip_bytes": w["zip_bytes"],
        "compresslevel": args.compresslevel,
        "write_s": round(w["seconds"], 3),
        "write_cpu_s": round(w["cpu_seconds"], 3),
        "write_peak_rss_mb": round(w["peak_rss_mb"], 1),
        "write_input_rss_mb": round(w["rss_before_mb"], 1),
        "write_arrays_s": round(wa["seconds"], 3),
        "write_arrays_peak_rss_mb": round(wa["peak_rss_mb"], 1),
        "read_verify_s": round(r["seconds"], 3),
        "read_verify_cpu_s": round(r["cpu_seconds"], 3),
        "read_peak_rss_mb": round(r["peak_rss_mb"], 1),
        "baseline_build_serialize_s": round(bw["seconds"], 3),
        "baseline_build_serialize_cpu_s": round(bw["cpu_seconds"], 3),
        "baseline_build_serialize_peak_rss_mb": round(bw["peak_rss_mb"], 1),
        "baseline_parse_s": round(br["seconds"], 3),
        "baseline_parse_cpu_s": round(br["cpu_seconds"], 3),
        "baseline_parse_columns_s": round(brc["seconds"], 3),
        "write_ratio_vs_baseline": round(w["seconds"] / bw["seconds"], 3),
        "read_ratio_vs_baseline": round(r["seconds"] / br["seconds"], 3),
        "read_ratio_vs_naive_columns": round(r["seconds"] / brc["seconds"], 3),
        **targets,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
