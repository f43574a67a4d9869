"""Class 5: every CLI failure a user or operator can cause is one stderr line and exit 2.

The exact repros of issue 11, through the real entry point (`tracewarn.cli.main`)."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

import pytest

from tests.cli._run import run_main
from tracewarn.protocol.presence import (
    LocationType,
    TraceLocation,
    build_qr_url,
    encode_qr_payload,
)

SECRET = "0123456789abcdef0123"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TRACEWARN_") and name not in ("TRACEWARN_SHARED_DIR",):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tracewarn: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings_cases(tmp_path: Path) -> list[tuple[dict[str, str], str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    return [
        (
            {"TRACEWARN_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_closed_port()}/x"},
            "database server is running",
        ),
        ({"TRACEWARN_DATABASE_URL": "mysql://u@h/db"}, "TRACEWARN_DATABASE_URL"),
        ({"TRACEWARN_DATABASE_URL": "not a url"}, "TRACEWARN_DATABASE_URL"),
        ({"TRACEWARN_DATA_DIR": str(a_file)}, "is a file"),
        ({"TRACEWARN_DATA_DIR": str(a_file / "below")}, "TRACEWARN_DATA_DIR"),
        ({"TRACEWARN_SERVER_SECRET": "short"}, "TRACEWARN_SERVER_SECRET"),
        ({"TRACEWARN_PORT": "eighty"}, "TRACEWARN_PORT"),
        ({"TRACEWARN_PORT": "70000"}, "TRACEWARN_PORT"),
        ({"TRACEWARN_WORKERS": "0"}, "TRACEWARN_WORKERS"),
        (
            {
                "TRACEWARN_BLOB_STORE": "s3",
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                "AWS_CONFIG_FILE": str(tmp_path / "none"),
                "AWS_ACCESS_KEY_ID": "",
                "AWS_SECRET_ACCESS_KEY": "",
                "AWS_EC2_METADATA_DISABLED": "true",
            },
            "credentials",
        ),
    ]


@pytest.mark.parametrize("command", [["server", "migrate"], ["publish"], ["server", "cleanup"]])
def test_operator_configuration_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
) -> None:
    for env, hint in _settings_cases(tmp_path):
        with monkeypatch.context() as m:
            for name, value in env.items():
                if value:
                    m.setenv(name, value)
                else:
                    m.delenv(name, raising=False)
            if "TRACEWARN_DATA_DIR" not in env:
                m.setenv("TRACEWARN_DATA_DIR", str(tmp_path / "data"))
            assert run_main(monkeypatch, *command) == 2, env
            line = _one_error_line(capsys)
            assert hint in line, (env, line)
            assert "postgres@" not in line or ":***@" not in line  # never a password


@pytest.mark.parametrize("args", [["--port", "70000"], ["--port", "-1"], ["--workers", "0"]])
def test_serve_refuses_bad_port_and_workers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    # Repro: `serve --port 70000` listened on port 4464; `--workers 0` was accepted.
    assert run_main(monkeypatch, "serve", *args) == 2
    _one_error_line(capsys)


def _url(start: int, end: int) -> str:
    loc = TraceLocation("Cafe", "Street 1", LocationType(2), b"\x01" * 16, start, end)
    return build_qr_url(encode_qr_payload(loc))


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 1_000_000_000_000), (2**63, 2**63), (0, 2**64 - 1), (253_402_300_800, 253_402_300_800)],
)
def test_huge_qr_timestamps_are_typed_errors(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    start: int,
    end: int,
) -> None:
    # Repro: `ValueError: year 33658` and `OverflowError` at 2**63, and `scan` calling the
    # code valid (and `device checkin` accepting it).
    url = _url(start, end)
    for command in (["location", "decode", url], ["location", "scan", url]):
        assert run_main(monkeypatch, *command) == 2
        assert "timestamp" in _one_error_line(capsys)
    assert (
        run_main(monkeypatch, "device", "init", "--dir", str(tmp_path / "phone"), "--no-pin") == 0
    )
    capsys.readouterr()
    code = run_main(monkeypatch, "device", "checkin", url, "--dir", str(tmp_path / "phone"))
    assert code == 2
    assert "timestamp" in _one_error_line(capsys)


def test_location_create_out_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = [
        "location",
        "create",
        "--type",
        "permanent-food-service",
        "--description",
        "Cafe",
        "--address",
        "Street 1",
    ]
    for out in (tmp_path / "missing" / "poster.pdf", tmp_path):
        assert run_main(monkeypatch, *base, "--out", str(out)) == 2
        _one_error_line(capsys)


def test_random_qr_mutations_never_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    # The command functions themselves (click's parsing is not under test): every exception
    # they raise must be one `main` prints as a line saying what to fix.
    from tests.reliability.conftest import cases
    from tracewarn.commands._common import describe_error
    from tracewarn.commands.location import decode, scan

    rng = random.Random(5)
    url = _url(1_700_000_000, 1_700_003_600)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=#?/%"
    failures = 0
    for _ in range(cases(300, 20000)):
        chars = list(url)
        for _ in range(rng.randint(1, 6)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        text = "".join(chars)
        try:
            if rng.random() < 0.5:
                decode(text, as_json=rng.random() < 0.5)
            else:
                scan(text, as_json=rng.random() < 0.5)
        except Exception as exc:
            failures += 1
            assert describe_error(exc) is not None, (text, repr(exc))
        capsys.readouterr()
    assert failures > 0
