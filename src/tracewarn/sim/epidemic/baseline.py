"""The committed regression baseline of the population simulator (Covasim/Starsim practice).

Small fixed-seed runs of both presets exercise every mechanism (networks, disease course,
testing, isolation, household quarantine, uploads, the radio model, risk scoring, warnings and
their quarantine). Their summaries, without timings, are committed as
`tests/sim/epidemic/baseline.json`; `tests/sim/epidemic/test_baseline.py` fails on any
difference. Refresh it only on purpose, after reviewing why the numbers moved:

    .venv/bin/python -m tracewarn.sim.epidemic.baseline --write tests/sim/epidemic/baseline.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tracewarn.sim.epidemic.params import preset
from tracewarn.sim.epidemic.runner import run

__all__ = ["BASELINE_RUNS", "baseline_summary"]

BASELINE_RUNS = {
    "tracewarn": preset("tracewarn", population=5000, days=40, seed=3, uptake_scale=0.8),
    "openabm": preset("openabm", population=5000, days=40, seed=3, uptake_scale=0.8),
}


def baseline_summary() -> dict[str, Any]:
    """Summaries of the baseline runs, without wall times."""
    out = {}
    for name, params in BASELINE_RUNS.items():
        summary = run(params)
        summary.pop("seconds")
        out[name] = summary
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Print or rewrite the simulator baseline.")
    parser.add_argument("--write", type=Path, help="write the summary to this file")
    args = parser.parse_args()
    text = json.dumps(baseline_summary(), indent=1, sort_keys=True) + "\n"
    if args.write is None:
        sys.stdout.write(text)
    else:
        args.write.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
