"""`tracewarn server ...` admin commands and the publish scheduler inside `serve`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracewarn.cli import app
from tracewarn.server import Settings, create_app
from tracewarn.server.app import _schedule
from tracewarn.server.distribution import layout

CLI = [sys.executable, "-c", "from tracewarn.cli import main; main()"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "TRACEWARN_DATA_DIR": str(tmp_path / "data"),
        "TRACEWARN_SERVER_SECRET": "cli-test-secret-0123456789",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_admin_commands(env: dict[str, str]) -> None:
    runner = CliRunner()
    key = runner.invoke(app, ["server", "create-api-key", "--kind", "lab", "--label", "Lab A"])
    assert key.exit_code == 0 and key.stdout.strip().startswith("tw_")
    created = runner.invoke(app, ["server", "signing-key", "create", "--key-id", "262"])
    assert created.exit_code == 0 and json.loads(created.stdout)["keyVersion"] == "v1"
    rotated = runner.invoke(app, ["server", "signing-key", "rotate"])
    assert (
        json.loads(rotated.stdout)["keyVersion"] == "v2"
        and json.loads(rotated.stdout)["keyId"] == "262"
    )
    assert runner.invoke(app, ["server", "signing-key", "retire", "v1"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["server", "signing-key", "list"]).stdout)
    assert [(k["keyVersion"], k["retiredAt"] is None) for k in listed["keys"]] == [
        ("v1", False),
        ("v2", True),
    ]
    published = json.loads(runner.invoke(app, ["publish"]).stdout)
    assert published["skipped"] is False
    assert json.loads(runner.invoke(app, ["server", "cleanup"]).stdout)["keys"] == 0
    document = json.loads(runner.invoke(app, ["server", "openapi"]).stdout)
    assert "/version/v1/diagnosis-keys" in document["paths"]
    revoked = runner.invoke(app, ["server", "revoke-api-key", key.stdout.strip()])
    assert revoked.exit_code == 0


def test_bad_admin_input_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    import os

    full = {**os.environ, **env}
    subprocess.run(
        [*CLI, "server", "signing-key", "create"],
        env=full,
        capture_output=True,
        check=True,
        timeout=60,
    )
    result = subprocess.run(
        [*CLI, "server", "signing-key", "retire", "v1"],
        env=full,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and result.stderr.startswith(
        b"tracewarn: error:"
    )
    bad = subprocess.run(
        [*CLI, "server", "create-api-key", "--kind", "admin", "--label", "x"],
        env=full,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2


def test_scheduler_publishes_in_the_background(tmp_path: Path) -> None:
    application = create_app(Settings(data_dir=tmp_path / "data", publish_interval_seconds=0.05))
    ctx = application.state.ctx
    stop = threading.Event()
    thread = threading.Thread(target=_schedule, args=(ctx, stop), daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if layout.read_json(ctx.blobs, layout.country_index()) == ["DE"]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the scheduler never published")
    finally:
        stop.set()
        thread.join(timeout=30)
        ctx.engine.dispose()
    assert not thread.is_alive()
