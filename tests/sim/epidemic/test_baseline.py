"""Regression: the fixed-seed simulator runs must reproduce the committed summary exactly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tracewarn.sim.epidemic.baseline import baseline_summary

BASELINE = Path(__file__).with_name("baseline.json")
UPDATE = (
    ".venv/bin/python -m tracewarn.sim.epidemic.baseline --write tests/sim/epidemic/baseline.json"
)


def test_baseline_unchanged() -> None:
    stored = json.loads(BASELINE.read_text(encoding="utf-8"))
    current = json.loads(json.dumps(baseline_summary()))
    for name in stored:
        for key in stored[name]:
            assert current[name][key] == stored[name][key], (
                f"{name}.{key} drifted; if on purpose, review and run: {UPDATE}"
            )
    assert current.keys() == stored.keys()
    # The baseline is a real epidemic with warnings, not an empty run.
    assert stored["openabm"]["warnings"] > 0
    assert stored["tracewarn"]["total_infected"] > stored["tracewarn"]["population"] // 100


def test_update_command_writes_the_same_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented update command (`python -m tracewarn.sim.epidemic.baseline --write F`)."""
    from tracewarn.sim.epidemic import baseline

    target = tmp_path / "baseline.json"
    monkeypatch.setattr(sys, "argv", ["baseline", "--write", str(target)])
    baseline.main()
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(
        BASELINE.read_text(encoding="utf-8")
    )
