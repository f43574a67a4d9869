"""`tracewarn device ...` against the in-process backend: meet, report, publish, sync, warn."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracewarn.cli import app
from tracewarn.commands._common import BadInput
from tracewarn.device import VirtualDevice
from tracewarn.protocol.errors import QRCodeFormatError
from tracewarn.protocol.presence import (
    LocationType,
    TraceLocation,
    build_qr_url,
    encode_qr_payload,
)

runner = CliRunner()


class _Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from tracewarn.commands import device as device_commands
    from tracewarn.server.app import create_app
    from tracewarn.server.settings import Settings
    from tracewarn.server.testing import asgi_client
    from tracewarn.server.verification import service

    clock = _Clock()
    app_ = create_app(
        Settings(
            data_dir=tmp_path / "server",
            min_uploads_per_batch=1,
            min_keys_to_publish=1,
            min_uploads_to_publish_checkins=1,
        ),
        clock=clock,
    )
    ctx = app_.state.ctx
    from tracewarn.server.distribution.signing import create_signing_key

    with ctx.sessions.begin() as session:
        lab_key = service.create_api_key(session, ctx, kind="lab", label="cli test")
        create_signing_key(session, ctx, region="DE")
    monkeypatch.setattr(device_commands, "_open_client", lambda _url: asgi_client(app_))
    # The device waits 0.5-2.5 s before each report request (docs/device.md); CI does not.
    from tracewarn.device import device as device_module

    monkeypatch.setattr(device_module, "_wall_sleep", lambda _seconds: None)
    yield {"app": app_, "clock": clock, "lab_key": lab_key, "ctx": ctx}
    ctx.engine.dispose()


def _run(*args: str) -> Any:
    result = runner.invoke(app, ["device", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.output)


def test_two_phones_meet_one_reports_the_other_is_warned(
    server: dict[str, Any], tmp_path: Path
) -> None:
    from tracewarn.server.distribution.publish import publish
    from tracewarn.server.testing import asgi_client

    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    init = _run("init", "--dir", a, "--server", "http://127.0.0.1:8000")
    assert init["pinned_keys"] and init["region"] == "DE"
    _run("init", "--dir", b, "--server", "http://127.0.0.1:8000")

    heard = _run("advertise", "--dir", a)
    assert len(bytes.fromhex(heard["rpi"])) == 16 and len(bytes.fromhex(heard["aem"])) == 4
    # The meeting happened two days ago, so a's key of that day has expired by the time the
    # backend publishes (today's key would be held back until tomorrow).
    met = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    phone_a = VirtualDevice.open(Path(a))
    for k in range(6):  # 30 minutes at about 1.5 m
        when = met + dt.timedelta(minutes=5 * k)
        rpi, aem = phone_a.advertisement(when)
        _run("observe", "--dir", b, "--rpi", rpi.hex(), "--aem", aem.hex(), "--rssi", "-62",
             "--time", when.isoformat())  # fmt: skip
    phone_a.close()
    assert _run("status", "--dir", b)["observations"] == 6

    with asgi_client(server["app"]) as client:
        code = client.post(
            "/version/v1/lab/results",
            json={"result": "positive"},
            headers={"X-API-Key": server["lab_key"]},
        ).json()["code"]
    uploaded = _run("report", "--dir", a, "--code", code, "--onset", met.date().isoformat())
    assert uploaded["keys"] >= 2
    server["clock"].offset = 3600  # the next hourly publish run
    publish(server["ctx"])

    synced = _run("sync", "--dir", b)
    assert synced["downloaded"]["key_packages"] >= 1
    assert synced["new_notification"] is True
    assert synced["risk"]["level"] == "high"
    assert synced["risk"]["date"] == met.date().isoformat()
    status = _run("status", "--dir", b)
    assert status["risk"]["level"] == "high" and len(status["notifications"]) == 1
    assert _run("sync", "--dir", b)["downloaded"]["key_packages"] == 0
    assert _run("status", "--dir", a)["reported"]["keys"] == uploaded["keys"]


def test_checkin_and_bad_input(server: dict[str, Any], tmp_path: Path) -> None:
    phone = str(tmp_path / "p")
    _run("init", "--dir", phone, "--no-pin")
    url = build_qr_url(
        encode_qr_payload(
            TraceLocation(
                description="Bakery",
                address="Main Street 1",
                type=LocationType.PERMANENT_RETAIL,
                cryptographic_seed=bytes(16),
                default_check_in_length_minutes=20,
            )
        )
    )
    made = _run("checkin", url, "--dir", phone)
    start = dt.datetime.fromisoformat(made["start"])
    assert dt.datetime.fromisoformat(made["end"]) - start == dt.timedelta(minutes=20)
    assert _run("status", "--dir", phone)["check_ins"] == 1

    bad = runner.invoke(app, ["device", "checkin", "https://example.org/x", "--dir", phone])
    assert isinstance(bad.exception, QRCodeFormatError)
    for args in (
        ["observe", "--dir", phone, "--rpi", "zz", "--aem", "00", "--rssi", "-60"],
        ["observe", "--dir", phone, "--rpi", "00" * 16, "--aem", "00" * 4, "--rssi", "-300"],
        ["report", "--dir", phone],
        ["status", "--dir", str(tmp_path / "nobody")],
        ["checkin", url, "--dir", phone, "--start", "yesterday"],
    ):
        result = runner.invoke(app, ["device", *args])
        assert isinstance(result.exception, BadInput), (args, result.output)
    # A choice outside the list is a usage error (exit 2) before anything runs.
    sneezing = ["device", "report", "--dir", phone, "--code", "x", "--symptoms", "sneezing"]
    assert runner.invoke(app, sneezing).exit_code == 2


def test_a_backend_refusal_is_one_line_and_exit_2(server: dict[str, Any], tmp_path: Path) -> None:
    phone = tmp_path / "p"
    _run("init", "--dir", str(phone), "--no-pin")
    result = runner.invoke(app, ["device", "report", "--dir", str(phone), "--code", "0" * 10])
    assert isinstance(result.exception, BadInput)
    assert "answered 4" in str(result.exception)

    cli = subprocess.run(
        [sys.executable, "-c", "from tracewarn.cli import main; main()", "device", "status",
         "--dir", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert cli.returncode == 2
    assert cli.stderr.count("\n") == 1 and "no phone in" in cli.stderr
