"""The town demo's wall time by phase, against the bare simulation and a numpy reference loop.

Figures: the full demo as `tracewarn demo` runs it (real server on loopback, every phone with
its own encrypted store, real HTTP, on-device matching) split into phases; the bare model (town,
radio scans, ground truth: numpy only, no phones, no server) on the same seed and size; and
Covasim's CPU reference (10 x element-wise product of two 10^6 vectors) so runs on different or
busy machines can be compared. Ratios: demo / bare model, demo / reference loop. The issue's
target is < 30 s for 200 phones and 5 days. Usage:
    .venv/bin/python bench/demo_town.py [--devices 200] [--days 5] [--seed 1] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from tracewarn.sim import TownConfig, build_town, day_scans
from tracewarn.sim._server import demo_backend
from tracewarn.sim.demo import DemoConfig, choose_case, demo_clock, run_demo
from tracewarn.sim.truth import ground_truth


def reference_loop() -> float:
    rng = np.random.default_rng(0)
    a, b = rng.random(1_000_000), rng.random(1_000_000)
    start = time.perf_counter()
    for _ in range(10):
        np.multiply(a, b)
    return time.perf_counter() - start


def bare_model(config: DemoConfig) -> float:
    start = time.perf_counter()
    town = build_town(TownConfig(people=config.devices, days=config.days), config.seed)
    scans = [day_scans(town, d) for d in range(config.days)]
    ground_truth(town, scans, choose_case(town))
    return time.perf_counter() - start


def full_demo(config: DemoConfig) -> tuple[float, dict[str, float], dict[str, object]]:
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, _done: int, _total: int) -> None:
        key = "sync" if stage == "sync" else ("report+publish" if "publish" in stage else "days")
        marks.setdefault(key, time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clock = demo_clock(config)
        with demo_backend(work / "server", clock, loopback=True) as backend:
            marks["server up"] = time.perf_counter() - start
            summary = run_demo(config, backend, clock, work, progress)
    total = time.perf_counter() - start
    phases = {
        "server start": marks["server up"],
        "phones + days": marks["report+publish"] - marks["server up"],
        "report + publish": marks["sync"] - marks["report+publish"],
        "sync all phones": total - marks["sync"],
    }
    return total, phases, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    config = DemoConfig(seed=args.seed, devices=args.devices, days=args.days)

    load_before = os.getloadavg()[0]
    reference = min(reference_loop() for _ in range(5))
    bare = min(bare_model(config) for _ in range(3))
    runs = [full_demo(config) for _ in range(args.repeat)]
    total, phases, summary = min(runs, key=lambda r: r[0])
    reference_after = min(reference_loop() for _ in range(5))
    load_after = os.getloadavg()[0]

    print(f"{config.devices} phones, {config.days} days, seed {config.seed}")
    print(f"load average before/after: {load_before:.2f} / {load_after:.2f} (2 shared cores)")
    print(
        f"numpy reference loop: {reference * 1000:.1f} ms (after: {reference_after * 1000:.1f} ms)"
    )
    print(f"bare model (town, scans, ground truth): {bare:.2f} s")
    for name, seconds in phases.items():
        print(f"  {name:<18} {seconds:6.2f} s")
    print(f"full demo: {total:.2f} s  (target < 30 s)")
    print(
        f"ratio demo / bare model: {total / bare:.1f}x; demo / reference loop: {total / reference:.0f}x"
    )
    high = summary["metrics"]["high"]  # type: ignore[index]
    print(f"high warnings: precision {high['precision']}, recall {high['recall']}")
    print(
        json.dumps(
            {
                "devices": config.devices,
                "days": config.days,
                "seed": config.seed,
                "demo_seconds": round(total, 3),
                "phases_seconds": {k: round(v, 3) for k, v in phases.items()},
                "bare_model_seconds": round(bare, 3),
                "reference_loop_seconds": round(reference, 4),
                "ratio_demo_to_bare": round(total / bare, 2),
                "ratio_demo_to_reference": round(total / reference, 1),
                "load_average": [round(load_before, 2), round(load_after, 2)],
                "precision_high": high["precision"],
                "recall_high": high["recall"],
            }
        )
    )


if __name__ == "__main__":
    main()
