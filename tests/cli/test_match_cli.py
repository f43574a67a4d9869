"""`tracewarn match EXPORT... --observations FILE [--json]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.cli._run import run_main
from tests.conftest import load_vector_json, vector_path
from tracewarn.cli import app
from tracewarn.protocol.gaen.export import ExportKey, ExportSigner, write_export_files

runner = CliRunner()
START = 2642976
NOW = "2020-04-03T01:00:00Z"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    vectors: dict[str, Any] = load_vector_json("gaen", "en-crypto-test-vectors.json")
    pem = vector_path("gaen", "export-example-private.pem").read_bytes()
    signer = ExportSigner.from_pem(pem, key_id="310", key_version="v1")
    keys = [
        ExportKey(
            bytes.fromhex(vectors["tek"]), START, 144, report_type=1, days_since_onset_of_symptoms=2
        )
    ] + [ExportKey(bytes([i]) * 16, START, 144, days_since_onset_of_symptoms=1) for i in range(30)]
    paths: dict[str, Path] = {}
    for n, data in enumerate(
        write_export_files(
            keys,
            region="DE",
            start_timestamp=START * 600,
            end_timestamp=(START + 144) * 600,
            signers=[signer],
            max_keys_per_file=20,
        )
    ):
        paths[f"export{n}"] = tmp_path / f"export-{n}.zip"
        paths[f"export{n}"].write_bytes(data)
    rows = vectors["intervals"][60:66]
    lines = [
        json.dumps(
            {
                "rpi": row["rpi"],
                "aem": row["aem"],
                "time": row["interval_number"] * 600 + 120,
                "rssi": -55,
                "seconds_since_last_scan": 300,
            }
        )
        for row in rows
    ]
    lines.append(
        json.dumps({"rpi": "00" * 16, "aem": "00" * 4, "time": START * 600, "attenuation": 50})
    )
    paths["observations"] = tmp_path / "seen.jsonl"
    paths["observations"].write_text("\n".join(lines) + "\n")
    csv_lines = ["rpi,aem,time,rssi,seconds_since_last_scan"] + [
        f"{r['rpi']},{r['aem']},{r['interval_number'] * 600 + 120},-55,300" for r in rows
    ]
    paths["csv"] = tmp_path / "seen.csv"
    paths["csv"].write_text("\n".join(csv_lines) + "\n")
    paths["public"] = vector_path("gaen", "export-example-public.pem")
    return paths


def test_text_output(files: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        [
            "match",
            str(files["export0"]),
            str(files["export1"]),
            "--observations",
            str(files["observations"]),
            "--now",
            NOW,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Matched 1 of 31 keys against 7 sightings: 6 sightings on 1 day(s)" in result.output
    assert "2020-04-02  key 75c734c6dd1a...  CONFIRMED_TEST  HIGH" in result.output
    assert "min attenuation 63 dB" in result.output  # TX power 8 dBm - (-55 dBm)


def test_json_output_feeds_risk_scoring(files: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "match",
            str(files["export0"]),
            str(files["export1"]),
            "--observations",
            str(files["csv"]),
            "--now",
            NOW,
            "--json",
            "--public-key",
            str(files["public"]),
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["stats"]["matched_keys"] == 1 and out["stats"]["keys"] == 31
    (match,) = out["matches"]
    assert [s["interval"] for s in match["sightings"]] == list(range(START + 60, START + 66))
    assert [len(w["scanInstances"]) for w in out["exposureWindows"]] == [3, 3]
    windows = tmp_path / "windows.json"
    windows.write_text(result.output)
    scored = runner.invoke(app, ["risk", "score", str(windows), "--json"])
    assert scored.exit_code == 0, scored.output


def test_old_keys_are_reported_as_outside_retention(files: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        [
            "match",
            str(files["export0"]),
            "--observations",
            str(files["observations"]),
            "--now",
            "2021-01-01T00:00:00Z",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Matched 0 of 20 keys" in result.output
    assert "20 outside the 14-day retention" in result.output


def test_parallel_workers_give_the_same_output(files: dict[str, Path]) -> None:
    args = [
        "match",
        str(files["export0"]),
        str(files["export1"]),
        "--observations",
        str(files["observations"]),
        "--now",
        NOW,
        "--json",
    ]
    single = runner.invoke(app, args)
    parallel = runner.invoke(app, [*args, "--workers", "2"])
    assert single.exit_code == parallel.exit_code == 0, parallel.output
    assert single.output == parallel.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"observations": "bad"}, "line 1"),
        ({"observations": "missing"}, "cannot read"),
        ({"export": "garbage"}, "export"),
        ({"now": "yesterday"}, "--now"),
        ({"now": "2020-04-03T00:00:00"}, "UTC offset"),
        ({"now": "99999999999999999999"}, "out of range"),
        ({"public": "wrong"}, "signature"),
        ({"public": "garbage"}, "not a PEM public key"),
        ({"public": "p384"}, "P-256"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Path],
    tmp_path: Path,
    change: dict[str, str],
    message: str,
) -> None:
    export, observations, now = files["export0"], files["observations"], NOW
    extra: list[str] = []
    if change.get("observations") == "bad":
        observations = tmp_path / "bad.jsonl"
        observations.write_text('{"rpi": "00", "aem": "00000000", "time": 1, "rssi": 1}\n')
    if change.get("observations") == "missing":
        observations = tmp_path / "absent.jsonl"
    if "export" in change:
        export = tmp_path / "garbage.zip"
        export.write_bytes(b"PK\x03\x04garbage")
    if "now" in change:
        now = change["now"]
    if "public" in change:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        curve = ec.SECP384R1() if change["public"] == "p384" else ec.SECP256R1()
        other = ec.generate_private_key(curve).public_key()
        path = tmp_path / "other.pem"
        path.write_bytes(
            b"not a key"
            if change["public"] == "garbage"
            else other.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        extra = ["--public-key", str(path)]
    code = run_main(
        monkeypatch, "match", str(export), "--observations", str(observations), "--now", now, *extra
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("tracewarn: error:") and err.count("\n") == 1
    assert message in err


def test_real_google_export_with_onset_missing_mapped(tmp_path: Path) -> None:
    import base64

    from tracewarn.protocol.gaen import aem_key, encrypt_metadata, rolling_proximity_identifiers

    listed = load_vector_json("gaen", "export-example-keys.json")["temporaryExposureKeys"]
    lines = []
    for entry in listed:
        tek = base64.b64decode(entry["key"])
        start = entry["rollingStartNumber"]
        rpis = rolling_proximity_identifiers(tek, start, 144)
        # k = 0 is inside every key's validity; k = 120 is outside both (periods 1 and 114).
        for k in (0, 120):
            aem = encrypt_metadata(aem_key(tek), rpis[k], b"\x40\x0a\x00\x00")
            lines.append(
                json.dumps(
                    {"rpi": rpis[k].hex(), "aem": aem.hex(), "time": (start + k) * 600, "rssi": -50}
                )
            )
    seen = tmp_path / "seen.jsonl"
    seen.write_text("\n".join(lines) + "\n")
    export = str(vector_path("gaen", "export-example-testExport-2-records-1-of-1.zip"))
    args = ["match", export, "-o", str(seen), "--now", "2020-05-20T12:00:00Z", "--json"]
    ignored = json.loads(runner.invoke(app, args).output)
    assert ignored["stats"]["keys_without_infectiousness"] == 2 and ignored["matches"] == []
    result = runner.invoke(app, [*args, "--infectiousness-when-onset-missing", "standard"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    by_trl = {m["transmission_risk_level"]: m for m in out["matches"]}
    assert sorted(by_trl) == [1, 8]
    for entry in listed:
        match = by_trl[entry["transmissionRisk"]]
        assert match["infectiousness"] == "STANDARD"
        assert match["rolling_period"] == entry["rollingPeriod"]
        assert [s["interval"] for s in match["sightings"]] == [entry["rollingStartNumber"]]
        assert match["sightings"][0]["min_attenuation"] == 60  # TX power 10 - (-50)
