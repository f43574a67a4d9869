"""`tracewarn gateway serve` as docs/federation.md runs it: a real process on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-c", "from tracewarn.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gateway_serve_answers_and_refuses_unknown_clients(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEWARN_")}
    env["TRACEWARN_GATEWAY_DATA_DIR"] = str(tmp_path / "gw")
    subprocess.run([*CLI, "gateway", "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "gateway", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.options(f"{url}/diagnosiskeys", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None and response.status_code == 200
        assert "application/protobuf; version=1.0" in response.headers["Accept"]
        refused = httpx.get(f"{url}/diagnosiskeys/download/2026-12-01", timeout=5)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
    finally:
        server.terminate()
        server.wait(timeout=20)
