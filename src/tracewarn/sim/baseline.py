"""The committed regression baseline of the town demo (STYLE.md §9, Covasim/Starsim practice).

One small fixed-seed run exercises every mechanism (town, radio, check-ins, fake uploads,
verification, submission, publication, sync, matching, both risks). Its summary is committed as
`tests/sim/baseline.json`; `tests/sim/test_baseline.py` fails on any difference. Refresh it only
on purpose, after reviewing why the numbers moved:

    .venv/bin/python -m tracewarn.sim.baseline --write tests/sim/baseline.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from tracewarn.sim._server import demo_backend
from tracewarn.sim.demo import DemoConfig, demo_clock, run_demo

__all__ = ["BASELINE_CONFIG", "baseline_summary"]

BASELINE_CONFIG = DemoConfig(seed=7, devices=30, days=3)


def baseline_summary(config: DemoConfig = BASELINE_CONFIG) -> dict[str, Any]:
    """Run the baseline scenario in-process (no ports) and return its summary."""
    with tempfile.TemporaryDirectory(prefix="tracewarn-baseline-") as tmp:
        work = Path(tmp)
        clock = demo_clock(config)
        with demo_backend(work / "server", clock, loopback=False) as backend:
            return run_demo(config, backend, clock, work)


def main() -> None:
    parser = argparse.ArgumentParser(description="Print or rewrite the demo baseline summary.")
    parser.add_argument("--write", type=Path, help="write the summary to this file")
    args = parser.parse_args()
    text = json.dumps(baseline_summary(), indent=1, sort_keys=True) + "\n"
    if args.write is None:
        import sys

        sys.stdout.write(text)
    else:
        args.write.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
