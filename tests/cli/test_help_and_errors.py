"""Help that reads like a well-kept CLI, one-line usage errors, --version, --json everywhere, and
the inputs that used to be accepted silently."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli._run import run_main
from tracewarn import __version__
from tracewarn.cli import command


def _paths(group: object, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, sub in sorted(getattr(group, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _paths(sub, (*prefix, name))


ALL_COMMANDS = list(_paths(command()))


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = run_main(monkeypatch, *args)
    out, err = capsys.readouterr()
    return code, out, err


def test_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(monkeypatch, capsys, "--version") == (0, f"tracewarn {__version__}\n", "")


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "tracewarn")
def test_help_shows_no_python_types(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _run(monkeypatch, capsys, *path, "--help")
    assert code == 0 and "Usage: tracewarn" in out
    for python_type in ("<bool>", "<str>", "<int", "<path>", "<list[", "FileBinaryRead", "<float"):
        assert python_type not in out, (path, python_type)
    assert "{" not in out.splitlines()[1], "usage line shows typer's {REQUIRED} braces"


@pytest.mark.parametrize(
    ("path", "choices"),
    [
        (("server", "create-api-key"), "[lab|hotline]"),
        (("device", "report"), "no_information"),
        (("location", "create"), "train-coach"),
        (("match",), "[auto|jsonl|csv]"),
    ],
)
def test_help_lists_choices_and_marks_required(
    path: tuple[str, ...],
    choices: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    _, out, _ = _run(monkeypatch, capsys, *path, "--help")
    assert choices in out
    if path == ("location", "create"):
        assert "Required unless --train/--flight/--bus" in out


def test_enum_mirrors_match_the_protocol() -> None:
    from tracewarn.commands.device import Symptoms
    from tracewarn.commands.location import PlaceType
    from tracewarn.protocol.presence import LocationType, SymptomAnswer

    assert [s.value for s in Symptoms] == [a.value for a in SymptomAnswer]
    named = [t.name.lower().replace("_", "-") for t in LocationType if t.name != "UNSPECIFIED"]
    assert [p.value for p in PlaceType] == named


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["match"], "match: Missing argument 'EXPORT...'"),
        (["match", "x", "-o", "y", "--workers", "abc"], "--workers: expected a whole number"),
        (["match", "x", "-o", "y", "--workers", "0"], "--workers: must be at least 1"),
        (["keys", "derive", "00", "--start", "soon"], "--start: expected a whole number"),
        (["server", "create-api-key", "--kind", "x", "--label", "l"], "'x' is not one of"),
        (["location", "create", "--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_are_one_line(
    args: list[str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(monkeypatch, capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("tracewarn: error: "), err
    assert expected in err
    assert "--help')" in err
    for noise in ("╭", "│", "Input should be", "Value error", "Usage:"):
        assert noise not in err


def _create(tmp_path: Path, *extra: str) -> list[str]:
    return ["location", "create", "--description", "Cafe", "--address", "Main 1",
            "--out", str(tmp_path / "p.pdf"), *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--type", "permanent-food-service", "--coach", "7"], "--coach goes with --train"),
        (["--type", "checkpoint", "--cabin", "A"], "--cabin goes with --flight"),
        (["--type", "checkpoint", "--vehicle", "12"], "--vehicle goes with --bus"),
    ],
)
def test_options_that_would_be_ignored_are_refused(
    extra: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(monkeypatch, capsys, *_create(tmp_path, *extra))
    assert code == 2 and message in err
    assert not (tmp_path / "p.pdf").exists()


def test_out_must_be_a_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _create(tmp_path, "--type", "checkpoint")
    args[args.index("--out") + 1] = str(tmp_path / "e.txt")
    code, _, err = _run(monkeypatch, capsys, *args)
    assert code == 2 and "must name a .pdf file" in err
    assert list(tmp_path.iterdir()) == []


def test_create_and_scan_json_and_an_unknown_url_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(monkeypatch, capsys, *_create(tmp_path, "--type", "checkpoint", "--json"))
    assert code == 0
    made = json.loads(out)
    assert set(made) == {"url", "location_id_hash", "pdf", "png"}
    assert Path(made["pdf"]).read_bytes().startswith(b"%PDF")

    code, out, _ = _run(monkeypatch, capsys, "location", "scan", made["url"], "--json")
    scanned = json.loads(out)
    assert code == 0 and scanned["valid"] is True
    assert scanned["location_id_hash"] == made["location_id_hash"]

    future = made["url"].replace("?v=1#", "?v=99#")
    code, out, err = _run(monkeypatch, capsys, "location", "scan", future)
    assert code == 2 and out == "" and "QR URL version 99 is not supported" in err
    # decode shows what the URL carries without judging it, version included.
    code, out, _ = _run(monkeypatch, capsys, "location", "decode", future)
    assert code == 0 and "version 99" in out


def test_keys_generate_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(monkeypatch, capsys, "keys", "generate", "--at", "1600000000", "--json")
    assert code == 0
    assert set(json.loads(out)) == {"key_data", "rolling_start_interval_number", "rolling_period"}


def test_device_init_json_without_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = _run(monkeypatch, capsys, "device", "init", "--dir", str(tmp_path / "p"),
                          "--server", f"http://127.0.0.1:{port}")  # fmt: skip
    assert code == 0 and err == ""
    data = json.loads(out)  # nothing but the JSON object
    assert data["pinned_keys"] is None and data["pin_error"]


def test_observe_refuses_the_future_and_what_retention_would_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    phone = str(tmp_path / "p")
    now = "2026-11-20T12:00:00Z"
    assert _run(monkeypatch, capsys, "device", "init", "--dir", phone, "--no-pin")[0] == 0
    heard = ["device", "observe", "--dir", phone, "--rpi", "00" * 16, "--aem", "00" * 4,
             "--rssi", "-60", "--now", now, "--time"]  # fmt: skip
    code, _, err = _run(monkeypatch, capsys, *heard, "2026-11-20T14:00:00Z")
    assert code == 2 and "in the future" in err
    code, _, err = _run(monkeypatch, capsys, *heard, "2026-11-06T23:59:00Z")
    assert code == 2 and "older than the phone's 14-day retention" in err
    code, out, _ = _run(monkeypatch, capsys, *heard, "2026-11-07T00:00:00Z")  # oldest day kept
    assert code == 0 and json.loads(out) == {"recorded": 1, "observations": 1}
    # The phone's clock moved on (--now): the sighting is still there on its last day.
    later = (dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC)).isoformat()
    code, out, _ = _run(monkeypatch, capsys, "device", "status", "--dir", phone, "--now", later)
    assert code == 0 and json.loads(out)["observations"] == 1
