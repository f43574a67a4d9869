"""docs/device.md's walkthrough, run exactly as written (only the port is a free one).

The block between `<!-- walkthrough: begin -->` and `<!-- walkthrough: end -->` is handed to
bash unchanged except `8000` → a free port, in an empty directory, with this environment's
`tracewarn` first on PATH: a real `tracewarn serve`, the CLI for phones, lab and publisher.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "device.md"

pytestmark = pytest.mark.slow


def walkthrough() -> str:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- walkthrough: begin -->")[1].split("<!-- walkthrough: end -->")[0]
    return block.split("```sh\n", 1)[1].split("```", 1)[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _json_documents(text: str) -> list[object]:
    """Every top-level JSON object printed (the commands print indented JSON)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (start := text.find("{", at)) != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            at = start + 1
            continue
        found.append(value)
        at = end
    return found


def test_walkthrough_runs_as_written(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("the walkthrough uses curl; install it (apt-get install curl) to run this test")
    gnu_date = subprocess.run(["date", "-u", "-d", "tomorrow"], capture_output=True, check=False)
    if gnu_date.returncode != 0:
        pytest.skip("the walkthrough uses GNU date (-d); run this test on Linux")
    script = walkthrough()
    assert "8000" in script
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEWARN_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script.replace("8000", str(_free_port()))],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the backend it starts is in the same group: stopped below
    )
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    assert proc.returncode == 0, err.decode()[-2000:]
    documents = [d for d in _json_documents(out.decode()) if isinstance(d, dict)]
    report = next(d for d in documents if "first_keys_published_after" in d)
    assert report["keys"] >= 1 and report["last_key_published_after"]
    waiting = [d["waiting"] for d in documents if "waiting" in d]
    assert waiting[1]["pendingKeys"] >= 1 and waiting[1]["firstReleaseAfter"]
    syncs = [d["risk"] for d in documents if "risk" in d and "downloaded" in d]
    assert [s["level"] for s in syncs] == ["none", "high"]
    assert syncs[-1]["source"] == "proximity"
    assert "tracewarn serve: http://127.0.0.1:" in out.decode()
