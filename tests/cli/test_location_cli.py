"""`tracewarn location create | decode | scan`: exact JSON keys, exit 2 with the failed rule."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import load_vector_json
from tracewarn.cli import main
from tracewarn.protocol.presence import (
    CWA_URL_PREFIX,
    LocationType,
    TraceLocation,
    build_qr_url,
    decode_location_url,
    encode_qr_payload,
    location_id,
    location_id_hash,
)

JSON_KEYS = [
    "version",
    "description",
    "address",
    "start_timestamp",
    "end_timestamp",
    "type",
    "default_check_in_length_minutes",
    "location_id",
    "location_id_hash",
]


def run(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["tracewarn", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def vector_url(index: int) -> tuple[str, dict[str, object]]:
    case = load_vector_json("cwa", "presence-tracing-crypto-vectors.json")[
        "locationIdFromQrCodePayload"
    ][index]
    return build_qr_url(base64.b64decode(case["qrCodePayload"]), CWA_URL_PREFIX), case


def test_decode_json_has_exactly_the_keys(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, case = vector_url(0)
    code, out, _ = run(["location", "decode", url, "--json"], capsys, monkeypatch)
    assert code == 0
    data = json.loads(out)
    assert list(data) == JSON_KEYS
    expected_id = base64.b64decode(str(case["expectedLocationId"]))
    assert data == {
        "version": 1,
        "description": "My Birthday Party",
        "address": "at my place",
        "start_timestamp": 2687955,
        "end_timestamp": 2687991,
        "type": "LOCATION_TYPE_TEMPORARY_OTHER",
        "default_check_in_length_minutes": None,
        "location_id": expected_id.hex(),
        "location_id_hash": location_id_hash(expected_id).hex(),
    }


def test_decode_does_not_validate_but_scan_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = vector_url(1)  # its seed is 4 bytes: decodable, not acceptable
    code, out, _ = run(["location", "decode", url], capsys, monkeypatch)
    assert code == 0 and "Icecream Shop" in out
    code, out, err = run(["location", "scan", url], capsys, monkeypatch)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "[seed-length]" in err


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"description": ""}, "description-not-empty"),
        ({"address": "a\nb"}, "address-single-line"),
        ({"description": "d" * 256}, "description-max-length"),
        ({"start_timestamp": 10, "end_timestamp": 5}, "start-not-after-end"),
    ],
)
def test_scan_names_the_failed_rule(
    changes: dict[str, object],
    rule: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields: dict[str, object] = {
        "description": "Hall",
        "address": "Street 1",
        "type": LocationType.PERMANENT_PUBLIC_BUILDING,
        "cryptographic_seed": b"s" * 16,
    }
    fields.update(changes)
    url = build_qr_url(encode_qr_payload(TraceLocation(**fields)))  # type: ignore[arg-type]
    code, _, err = run(["location", "scan", url], capsys, monkeypatch)
    assert code == 2
    assert f"[{rule}]" in err


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/?v=1#AAAA",
        "https://e.coronawarn.app?v=1#not*base64",
        "https://e.coronawarn.app?v=1#AAAA",
    ],
)
def test_bad_urls_exit_2_with_one_line(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in (["location", "decode", url, "--json"], ["location", "scan", url]):
        code, out, err = run(command, capsys, monkeypatch)
        assert (code, out) == (2, "")
        assert err.startswith("tracewarn: error: ") and err.count("\n") == 1


def test_create_train_coach_poster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out_pdf = tmp_path / "poster.pdf"
    code, out, err = run(
        [
            "location",
            "create",
            "--train",
            "ICE 597",
            "--coach",
            "7",
            "--date",
            "2026-11-29",
            "--start",
            "2026-11-29T10:00+01:00",
            "--end",
            "2026-11-29T14:30+01:00",
            "--description",
            "ICE 597, coach 7",
            "--address",
            "Hamburg - Munich",
            "--seed-hex",
            "00" * 16,
            "--out",
            str(out_pdf),
        ],
        capsys,
        monkeypatch,
    )
    assert (code, err) == (0, "")
    assert out_pdf.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "poster.png").read_bytes().startswith(b"\x89PNG")
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    decoded = decode_location_url(lines["url"])
    assert lines["url"].startswith("https://tracewarn.example/c?v=1#")
    assert lines["location_id_hash"] == location_id_hash(location_id(decoded.payload)).hex()
    loc = decoded.location
    assert loc.type is LocationType.TRAIN_COACH
    assert (loc.start_timestamp, loc.end_timestamp) == (1795942800, 1795959000)
    assert loc.transport is not None and loc.transport.unit == "7"
    code, out, _ = run(["location", "decode", lines["url"], "--json"], capsys, monkeypatch)
    assert json.loads(out)["type"] == "LOCATION_TYPE_TRAIN_COACH"


def test_create_venue_with_cwa_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(
        [
            "location",
            "create",
            "--type",
            "permanent-food-service",
            "--description",
            "Cafe Anna",
            "--address",
            "Main Street 1",
            "--default-length",
            "90",
            "--cwa-url",
            "--out",
            str(tmp_path / "cafe.pdf"),
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0
    url = dict(line.split(": ", 1) for line in out.splitlines())["url"]
    assert url.startswith(CWA_URL_PREFIX)
    loc = decode_location_url(url).location
    assert (loc.type, loc.default_check_in_length_minutes) == (
        LocationType.PERMANENT_FOOD_SERVICE,
        90,
    )
    assert len(loc.cryptographic_seed) == 16


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--type", "spaceship"], "'spaceship' is not one of"),
        (["--train", "ICE 1", "--coach", "3"], "--date is required"),
        (["--train", "ICE 1", "--flight", "LH 1", "--date", "2026-01-01"], "only one of"),
        (
            [
                "--type",
                "permanent-retail",
                "--train",
                "ICE 1",
                "--coach",
                "1",
                "--date",
                "2026-01-01",
            ],
            "not --type",
        ),
        (["--type", "permanent-retail", "--start", "2026-01-01T10:00"], "both --start and --end"),
        (["--type", "permanent-retail", "--start", "yesterday", "--end", "today"], "ISO 8601"),
        (["--type", "flight"], "needs --train, --flight or --bus"),
        ([], "give --type"),
    ],
)
def test_create_bad_input_exits_2(
    extra: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [
        "location",
        "create",
        "--description",
        "D",
        "--address",
        "A",
        "--out",
        str(tmp_path / "p.pdf"),
    ]
    code, _, err = run(args + extra, capsys, monkeypatch)
    assert code == 2
    assert message in err
    assert not (tmp_path / "p.pdf").exists()
