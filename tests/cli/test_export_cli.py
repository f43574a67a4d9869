"""`tracewarn export inspect` / `export sign` on real files, round trips and bad input."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from tests.cli._run import run_main
from tests.conftest import load_vector_json, vector_path
from tracewarn.cli import app
from tracewarn.protocol.gaen import read_export

runner = CliRunner()
SAMPLE = ("gaen", "export-example-testExport-2-records-1-of-1.zip")
KEYS = ("gaen", "export-example-keys.json")
PUBLIC = ("gaen", "export-example-public.pem")
PRIVATE = ("gaen", "export-example-private.pem")


def _other_public_key(tmp_path: Path) -> Path:
    key = ec.derive_private_key(5, ec.SECP256R1()).public_key()
    path = tmp_path / "other.pem"
    path.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def test_inspect_json_of_googles_sample_with_its_key() -> None:
    result = runner.invoke(
        app,
        [
            "export",
            "inspect",
            str(vector_path(*SAMPLE)),
            "--public-key",
            str(vector_path(*PUBLIC)),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["region"] == "US"
    assert (data["batch_num"], data["batch_size"]) == (1, 1)
    assert (data["start_timestamp"], data["end_timestamp"]) == (1590159600, 1590246000)
    assert data["signature_infos"] == [
        {
            "verification_key_version": "1",
            "verification_key_id": "some_id",
            "signature_algorithm": "1.2.840.10045.4.3.2",
        }
    ]
    assert data["signature_valid"] is True
    expected = {
        (k["key"], k["rollingStartNumber"], k["rollingPeriod"], k["transmissionRisk"])
        for k in load_vector_json(*KEYS)["temporaryExposureKeys"]
    }
    got = {
        (
            k["key_data"],
            k["rolling_start_interval_number"],
            k["rolling_period"],
            k["transmission_risk_level"],
        )
        for k in data["keys"]
    }
    assert got == expected
    assert all(
        k["report_type"] is None and k["days_since_onset_of_symptoms"] is None for k in data["keys"]
    )


def test_inspect_signature_status_null_false_and_bare_bin(tmp_path: Path) -> None:
    unchecked = runner.invoke(app, ["export", "inspect", str(vector_path(*SAMPLE)), "--json"])
    assert json.loads(unchecked.output)["signature_valid"] is None
    wrong = runner.invoke(
        app,
        [
            "export",
            "inspect",
            str(vector_path(*SAMPLE)),
            "--public-key",
            str(_other_public_key(tmp_path)),
            "--json",
        ],
    )
    assert wrong.exit_code == 1
    assert json.loads(wrong.output)["signature_valid"] is False
    legacy = runner.invoke(
        app,
        [
            "export",
            "inspect",
            str(vector_path("gaen", "legacy-export-200-keys.bin")),
            "--public-key",
            str(vector_path(*PUBLIC)),
            "--json",
        ],
    )
    assert legacy.exit_code == 0, legacy.output
    data = json.loads(legacy.output)
    assert data["signature_valid"] is None and len(data["keys"]) == 200
    assert {k["rolling_period"] for k in data["keys"]} >= {144}


def test_inspect_text_shows_the_summary() -> None:
    result = runner.invoke(
        app,
        ["export", "inspect", str(vector_path(*SAMPLE)), "--public-key", str(vector_path(*PUBLIC))],
    )
    assert result.exit_code == 0, result.output
    for text in (
        "'US'",
        "1 of 1",
        "1590159600 .. 1590246000",
        "keys:       2",
        "VALID",
        "'some_id'",
    ):
        assert text in result.output


def test_sign_then_inspect_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    result = runner.invoke(
        app,
        [
            "export",
            "sign",
            str(vector_path(*KEYS)),
            "--private-key",
            str(vector_path(*PRIVATE)),
            "--out",
            str(out),
            "--region",
            "DE",
            "--key-id",
            "262",
            "--key-version",
            "v2",
        ],
    )
    assert result.exit_code == 0, result.output
    inspected = runner.invoke(
        app, ["export", "inspect", str(out), "--public-key", str(vector_path(*PUBLIC)), "--json"]
    )
    data = json.loads(inspected.output)
    assert data["signature_valid"] is True and data["region"] == "DE"
    assert data["signature_infos"][0]["verification_key_id"] == "262"
    assert data["signature_infos"][0]["verification_key_version"] == "v2"
    keys = load_vector_json(*KEYS)["temporaryExposureKeys"]
    assert sorted(k["key_data"] for k in data["keys"]) == sorted(k["key"] for k in keys)
    # Default window: from the earliest key start to the latest key end.
    assert data["start_timestamp"] == min(k["rollingStartNumber"] for k in keys) * 600


def test_sign_with_padding(tmp_path: Path) -> None:
    out = tmp_path / "padded.zip"
    result = runner.invoke(
        app,
        [
            "export",
            "sign",
            str(vector_path(*KEYS)),
            "--private-key",
            str(vector_path(*PRIVATE)),
            "--out",
            str(out),
            "--pad",
        ],
    )
    assert result.exit_code == 0, result.output
    assert 1000 <= read_export(out.read_bytes()).key_count <= 1100


def _bad_cases(tmp_path: Path) -> list[list[str]]:
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    bad_keys = tmp_path / "bad-keys.json"
    bad_keys.write_text(
        json.dumps(
            {
                "temporaryExposureKeys": [
                    {"key": base64.b64encode(bytes(15)).decode(), "rollingStartNumber": 1}
                ]
            }
        )
    )
    not_json = tmp_path / "keys.txt"
    not_json.write_text("{")
    not_pem = tmp_path / "key.pem"
    not_pem.write_text("hello")
    private = str(vector_path(*PRIVATE))
    out = str(tmp_path / "x.zip")
    return [
        ["export", "inspect", str(garbage)],
        ["export", "inspect", str(tmp_path / "missing.zip")],
        ["export", "inspect", str(vector_path(*SAMPLE)), "--public-key", str(not_pem)],
        ["export", "sign", str(bad_keys), "--private-key", private, "--out", out],
        ["export", "sign", str(not_json), "--private-key", private, "--out", out],
        ["export", "sign", str(vector_path(*KEYS)), "--private-key", str(not_pem), "--out", out],
        [
            "export",
            "sign",
            str(vector_path(*KEYS)),
            "--private-key",
            private,
            "--out",
            out,
            "--key-id",
            "a b",
        ],
        [
            "export",
            "sign",
            str(vector_path(*KEYS)),
            "--private-key",
            private,
            "--out",
            str(tmp_path / "no" / "dir.zip"),
        ],
    ]


@pytest.mark.parametrize("case", range(8))
def test_bad_input_is_one_stderr_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    case: int,
) -> None:
    args = _bad_cases(tmp_path)[case]
    assert run_main(monkeypatch, *args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("tracewarn: error: ")


def test_sign_json(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    args = ["export", "sign", str(vector_path(*KEYS)), "--private-key", str(vector_path(*PRIVATE)),
            "--out", str(out), "--region", "DE", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    keys = load_vector_json(*KEYS)["temporaryExposureKeys"]
    assert json.loads(result.output) == {
        "out": str(out),
        "keys": len(keys),
        "padded": False,
        "region": "DE",
        "keyId": "310",
        "keyVersion": "v1",
    }
