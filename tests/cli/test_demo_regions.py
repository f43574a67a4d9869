"""`tracewarn demo --regions 3`: three backends and a gateway on loopback, one cross-border warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli._run import run_main
from tracewarn.cli import app

runner = CliRunner()


def test_a_commuter_from_another_region_is_warned(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["demo", "--regions", "3", "--devices", "40", "--days", "3", "--seed", "4"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    regions = summary["regions"]
    assert regions["regions"] == ["DE", "FR", "NL"] and regions["town_region"] == "DE"
    # The town's case shared their keys: one signed batch left DE, and FR and NL (not DE, whose
    # own keys the gateway does not send back) imported every one of them after verifying it.
    assert regions["uploads"]["DE"]["batches"] == 1
    shared = regions["uploads"]["DE"]["keys_sent"]
    assert shared >= 1 and regions["uploads"]["FR"]["keys_sent"] == 0
    for code in ("FR", "NL"):
        assert regions["imports"][code] == {
            "batches": 1,
            "keys_imported": shared,
            "keys_rejected": 0,
        }
    assert regions["imports"]["DE"]["keys_imported"] == 0
    assert regions["batches_exchanged"]["download_batches"] == 1
    warning = regions["cross_region_warning"]
    assert warning["home_region"] == "FR" and warning["synced_from"] == "FR"
    assert warning["exposed_in"] == "DE" and warning["really_exposed"]
    assert warning["warned"] and warning["level"] == "high"
    assert "lives in FR and commutes to DE" in " ".join(result.output.split())


def test_regions_out_of_range_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run_main(monkeypatch, "demo", "--regions", "9", "--out", str(tmp_path)) == 2
    assert capsys.readouterr().err.strip() == "tracewarn: error: --regions must be 1..5, got 9"
