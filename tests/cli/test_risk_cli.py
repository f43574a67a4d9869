"""`tracewarn risk score` / `check-cases` / `show-config`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.cli._run import run_main
from tests.conftest import load_vector_json, vector_path
from tracewarn.cli import app
from tracewarn.protocol.risk import CWA_1_15

runner = CliRunner()
ANDROID = ("cwa", "exposure-windows-risk-calculation.json")
IOS = ("cwa", "ios", "exposure-windows-risk-calculation.json")


def test_check_cases_passes_the_android_file() -> None:
    result = runner.invoke(app, ["risk", "check-cases", str(vector_path(*ANDROID))])
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS  [") == 29
    assert "29/29 cases passed (per-day rounding on)" in result.output


def test_check_cases_ios_file_needs_no_rounding() -> None:
    path = str(vector_path(*IOS))
    failing = runner.invoke(app, ["risk", "check-cases", path])
    assert failing.exit_code == 1
    assert "FAIL  [8] identify Exposure Window as Low Risk based on normalizedTime (< 15)" in (
        failing.output
    )
    assert "expTotalRiskLevel: expected 1, got 2" in failing.output
    passing = runner.invoke(app, ["risk", "check-cases", "--no-rounding", path])
    assert passing.exit_code == 0, passing.output
    assert "28/28 cases passed (per-day rounding off)" in passing.output


def test_check_cases_rounding_from_the_file_configuration(tmp_path: Path) -> None:
    data = load_vector_json(*IOS)
    data["defaultRiskCalculationConfiguration"]["roundNormalizedTimePerDay"] = False
    path = tmp_path / "ios-no-rounding.json"
    path.write_text(json.dumps(data))
    assert runner.invoke(app, ["risk", "check-cases", str(path)]).exit_code == 0


def test_check_cases_json_lists_differing_fields(tmp_path: Path) -> None:
    data = load_vector_json(*ANDROID)
    data["testCases"][0]["expNumberOfDaysWithHighRisk"] = 7
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["risk", "check-cases", "--json", str(path)])
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert (out["passed"], out["failed"], out["perDayRounding"]) == (28, 1, True)
    assert out["cases"][0]["differences"] == [
        {"field": "expNumberOfDaysWithHighRisk", "expected": 7, "actual": 1}
    ]


def test_check_cases_bad_window_fails_only_that_case(tmp_path: Path) -> None:
    data = load_vector_json(*ANDROID)
    data["testCases"][1]["exposureWindows"][0]["reportType"] = 0  # UNKNOWN: no TRL offset
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["risk", "check-cases", str(path)])
    assert result.exit_code == 1
    assert "error: " in result.output and "no TRL offset" in result.output
    assert "28/29 cases passed" in result.output


def write_windows(tmp_path: Path, windows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "windows.json"
    path.write_text(json.dumps(windows))
    return path


def windows_of_case(index: int) -> list[dict[str, Any]]:
    windows: list[dict[str, Any]] = load_vector_json(*ANDROID)["testCases"][index][
        "exposureWindows"
    ]
    return windows


def test_score_text_and_json(tmp_path: Path) -> None:
    path = write_windows(tmp_path, windows_of_case(0))  # CWA: high, 1 day ago
    text = runner.invoke(app, ["risk", "score", str(path), "--today", "2026-11-29"])
    assert text.exit_code == 0, text.output
    assert "Saturday 28 November 2026 (yesterday)" in text.output
    cwa = runner.invoke(
        app, ["risk", "score", str(path), "--today", "2026-11-29", "--preset", "cwa-1.15", "--json"]
    )
    out = json.loads(cwa.output)
    assert out["level"] == "high"
    assert out["cwa"]["expAgeOfMostRecentDateWithHighRisk"] == 1
    assert out["explanation"].startswith("Your risk level: high")


def test_score_with_config_file_json_and_toml(tmp_path: Path) -> None:
    windows = write_windows(tmp_path, windows_of_case(0))
    config_json = tmp_path / "config.json"
    config_json.write_text(json.dumps(CWA_1_15.to_json()))
    result = runner.invoke(app, ["risk", "score", str(windows), "-c", str(config_json), "--json"])
    assert json.loads(result.output)["levels"] == ["low", "high"]
    config_toml = tmp_path / "config.toml"
    config_toml.write_text('riskLevels = ["a", "b"]\n')
    result = runner.invoke(app, ["risk", "score", str(windows), "-c", str(config_toml)])
    assert "missing required keys" in str(result.exception)


def test_show_config_round_trips(tmp_path: Path) -> None:
    result = runner.invoke(app, ["risk", "show-config"])
    assert json.loads(result.output)["riskLevels"] == ["none", "low", "elevated", "high"]
    path = tmp_path / "config.json"
    path.write_text(result.output)
    again = runner.invoke(app, ["risk", "show-config", "--config", str(path)])
    assert again.output == result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not valid JSON"),
        ('[{"ageInDays": 1}]', "scanInstances must be a list"),
        ('{"windows": []}', "expected a JSON list"),
    ],
)
def test_score_bad_input_is_one_line_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str,
    message: str,
) -> None:
    path = tmp_path / "windows.json"
    path.write_text(content)
    assert run_main(monkeypatch, "risk", "score", str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_bad_configuration_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = load_vector_json(*ANDROID)
    mapping = data["defaultRiskCalculationConfiguration"]["normalizedTimePerDayToRiskLevelMapping"]
    mapping[1]["normalizedTimeRange"]["min"] = 8
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(data))
    assert run_main(monkeypatch, "risk", "check-cases", str(path)) == 2
    err = capsys.readouterr().err
    assert "overlap" in err and err.count("\n") == 1


def test_missing_file_and_bad_today(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(monkeypatch, "risk", "check-cases", str(tmp_path / "absent.json")) == 2
    assert "cannot read" in capsys.readouterr().err
    path = write_windows(tmp_path, [])
    assert run_main(monkeypatch, "risk", "score", str(path), "--today", "yesterday") == 2
    assert "--today must be YYYY-MM-DD" in capsys.readouterr().err
