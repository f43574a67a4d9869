"""`tracewarn gateway init|member|revoke|jobs` as docs/federation.md shows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli._run import run_main
from tracewarn.cli import app
from tracewarn.protocol.federation import certificate_thumbprint, load_certificate

runner = CliRunner()


def test_operator_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEWARN_GATEWAY_DATA_DIR", str(tmp_path / "gw"))
    result = runner.invoke(app, ["gateway", "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "gw" / "anchor" / "anchor.key").stat().st_mode & 0o077 == 0
    result = runner.invoke(app, ["gateway", "member", "DE", "--out", str(tmp_path / "de")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["country"] == "DE"
    for name in ("auth.pem", "auth.key", "signing.pem", "signing.key", "anchor.pem"):
        assert (tmp_path / "de" / name).exists()
    result = runner.invoke(app, ["gateway", "jobs"])
    assert result.exit_code == 0 and json.loads(result.output)["batches"] == 0
    thumb = certificate_thumbprint(load_certificate((tmp_path / "de" / "signing.pem").read_bytes()))
    assert runner.invoke(app, ["gateway", "revoke", thumb]).output.strip() == "revoked"


def test_bad_input_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRACEWARN_GATEWAY_DATA_DIR", str(tmp_path / "gw"))
    assert run_main(monkeypatch, "gateway", "jobs") == 2
    assert capsys.readouterr().err.startswith("tracewarn: error: no trust anchor")
    assert run_main(monkeypatch, "gateway", "init") == 0
    assert run_main(monkeypatch, "gateway", "init") == 2
    assert "already holds a trust anchor" in capsys.readouterr().err
    assert run_main(monkeypatch, "gateway", "member", "de", "--out", str(tmp_path / "x")) == 2
    assert "upper-case country code" in capsys.readouterr().err


def test_server_federate_needs_a_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRACEWARN_DATA_DIR", str(tmp_path / "backend"))
    assert run_main(monkeypatch, "server", "federate") == 2
    err = capsys.readouterr().err
    assert err.startswith("tracewarn: error: set TRACEWARN_FEDERATION_GATEWAY_URL")
