"""`tracewarn simulate run|sweep`: the JSON contract, files, errors, and a tiny Dask sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli._run import run_main

RUN_KEYS = {
    "population",
    "days",
    "total_infected",
    "peak_infected",
    "warnings",
    "quarantine_person_days",
    "seconds",
}


def test_run_json_last_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_main(
        monkeypatch,
        "simulate", "run", "--population", "2000", "--days", "25", "--uptake", "0.8",
        "--preset", "openabm", "--seed", "2", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert summary.keys() >= RUN_KEYS
    assert summary["population"] == 2000
    assert summary["days"] == 25
    assert summary["peak_infected"] <= summary["total_infected"] <= 2000
    assert set(summary["by_level"]) == {"low", "elevated", "high"}
    assert sum(v["people"] for v in summary["by_level"].values()) == summary["warnings"]
    assert (tmp_path / "epidemic.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in report  # self-contained
    assert json.loads((tmp_path / "summary.json").read_text())["warnings"] == summary["warnings"]


def test_run_text(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(monkeypatch, "simulate", "run", "--population", "1000", "--days", "10") == 0
    assert "infected" in capsys.readouterr().out


def test_run_full_protocol_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command docs/simulator.md shows, on a smaller town: real phones, same JSON keys."""
    args = ["simulate", "run", "--population", "150", "--days", "20", "--uptake", "1"]
    assert run_main(monkeypatch, *args, "--seed", "3", "--full-protocol", "--json") == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary.keys() >= RUN_KEYS
    assert summary["mode"] == "full-protocol"
    assert summary["population"] == 150
    assert summary["uploads"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--population", "5"], "--population"),
        (["run", "--preset", "nope"], "--preset"),
        (["run", "--uptake", "-1"], "--uptake"),
        (["run", "--full-protocol", "--population", "2001"], "--full-protocol"),
        (["sweep", "--uptake-scale", "0,x", "--seeds", "1"], "--uptake-scale"),
        (["sweep", "--uptake-scale", "0", "--seeds", "0"], "--seeds"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert run_main(monkeypatch, "simulate", *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tracewarn: error: ")
    assert message in err[-1]


def test_sweep_on_a_local_dask_cluster(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_main(
        monkeypatch,
        "simulate", "sweep", "--uptake-scale", "0,1", "--seeds", "1", "--population", "1500",
        "--days", "20", "--workers", "1", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    points = result["points"]
    assert [p["uptake_scale"] for p in points] == [0.0, 1.0]
    assert points[0]["reduction_pct"] == 0.0
    assert set(points[1]) == {"uptake_scale", "mean_total_infected", "reduction_pct"}
    assert (tmp_path / "uptake.png").exists()
    assert len(json.loads((tmp_path / "sweep.json").read_text())["runs"]) == 2
