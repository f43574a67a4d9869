"""`tracewarn keys derive` / `generate` against the official vectors, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.cli._run import run_main
from tests.conftest import load_vector_json
from tracewarn.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data = load_vector_json("gaen", "en-crypto-test-vectors.json")
    assert isinstance(data, dict)
    return data


def _vector_fields(vectors: dict[str, Any]) -> tuple[str, int, str, list[dict[str, Any]]]:
    return (
        vectors["tek"],
        vectors["rolling_start_interval_number"],
        vectors["metadata"],
        vectors["intervals"],
    )


def test_derive_json_matches_all_144_official_vectors(vectors: dict[str, Any]) -> None:
    tek, start, metadata, rows = _vector_fields(vectors)
    result = runner.invoke(
        app, ["keys", "derive", tek, "--start", str(start), "--metadata", metadata, "--json"]
    )
    assert result.exit_code == 0, result.output
    derived = json.loads(result.output)
    assert len(derived) == 144 == len(rows)
    for got, row in zip(derived, rows, strict=True):
        assert got == {"interval": row["interval_number"], "rpi": row["rpi"], "aem": row["aem"]}


def test_derive_without_metadata_has_no_aem_and_respects_count(vectors: dict[str, Any]) -> None:
    tek, start, _, rows = _vector_fields(vectors)
    assert len(rows) == 144
    result = runner.invoke(
        app, ["keys", "derive", tek, "--start", str(start), "--count", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    derived = json.loads(result.output)
    assert [set(d) for d in derived] == [{"interval", "rpi"}] * 3
    text = runner.invoke(app, ["keys", "derive", tek, "--start", str(start), "--count", "2"])
    lines = text.output.splitlines()
    assert len(lines) == 2 and lines[0].split() == [str(start), derived[0]["rpi"]]


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "derive", "zz", "--start", "1"],
        ["keys", "derive", "00" * 15, "--start", "1"],
        ["keys", "derive", "00" * 16, "--start", "1", "--count", "145"],
        ["keys", "derive", "00" * 16, "--start", "-1"],
        ["keys", "derive", "00" * 16, "--start", "1", "--metadata", "0102"],
    ],
)
def test_bad_input_is_one_stderr_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert run_main(monkeypatch, *args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("tracewarn: error: ")


def test_generate_makes_a_midnight_aligned_key() -> None:
    result = runner.invoke(app, ["keys", "generate", "--at", "1600000000", "--json"])
    assert result.exit_code == 0, result.output
    key = json.loads(result.output)
    assert len(bytes.fromhex(key["key_data"])) == 16
    assert key["rolling_start_interval_number"] == 1600000000 // 600 // 144 * 144
    assert key["rolling_period"] == 144
