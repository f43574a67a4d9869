"""The fixed-seed demo run reproduces the committed summary exactly (regenerate on purpose only:
`.venv/bin/python -m tracewarn.sim.baseline --write tests/sim/baseline.json`)."""

from __future__ import annotations

import json
from pathlib import Path

from tracewarn.sim.baseline import baseline_summary

BASELINE = Path(__file__).with_name("baseline.json")


def test_the_baseline_run_reproduces_the_committed_summary() -> None:
    expected = json.loads(BASELINE.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(baseline_summary()))
    for key in sorted(set(expected) | set(actual)):
        assert actual.get(key) == expected.get(key), f"summary field {key!r} changed"
