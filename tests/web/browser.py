"""Browser tests' plumbing: Debian's Chromium through Playwright, and a live backend on loopback.

Playwright's own browser download is not used: the tests launch `/usr/bin/chromium` (Debian's
`chromium` package; `.ci/run` installs it) by its path, or `TRACEWARN_CHROMIUM`. Without it
they skip, saying how to enable them. `TRACEWARN_WEB_SCREENSHOTS=DIR` saves each page's
screenshot there (docs/web.md shows them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tracewarn.server import Settings, create_app
from tracewarn.server.context import ServerContext
from tracewarn.server.models import Base

CHROMIUM = Path(os.environ.get("TRACEWARN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = os.environ.get("TRACEWARN_WEB_SCREENSHOTS")


def launch_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM}: `apt-get install chromium` (Debian's "
            "package; .ci/run installs it) or set TRACEWARN_CHROMIUM to a Chromium binary"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need playwright: pip install -e '.[test]'"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def table_rows(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for before/after comparisons."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


@dataclass
class LiveServer:
    url: str
    ctx: ServerContext
    log_path: Path
    data_dir: Path

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        return table_rows(self.ctx.engine)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")


@contextlib.contextmanager
def live_server(data_dir: Path) -> Iterator[LiveServer]:
    """The real app under uvicorn on a free loopback port, logging like `tracewarn serve` does
    (no access log) but at INFO, into a file the privacy test reads."""
    import uvicorn

    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'tracewarn.db'}",
        publish_interval_seconds=0,
        # One case is enough to publish (the thresholds exist for crowds, docs/privacy.md).
        min_uploads_per_batch=1,
        min_keys_to_publish=1,
        min_uploads_to_publish_checkins=1,
        rate_limit_per_client=10_000,
    )
    app = create_app(settings)
    ctx: ServerContext = app.state.ctx
    log_path = data_dir / "server.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    loggers = [
        logging.getLogger(n) for n in ("tracewarn", "uvicorn", "uvicorn.error", "uvicorn.access")
    ]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="info", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        if not server.started:
            raise RuntimeError("the test server did not start")
        # `localhost`: Chromium treats it as a secure context that may set Secure cookies.
        yield LiveServer(f"http://localhost:{port}", ctx, log_path, data_dir)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()
        ctx.engine.dispose()
