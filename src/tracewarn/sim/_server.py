"""The demo's backend: the real FastAPI app on SQLite in a directory, on a manual clock.

Either on a free loopback port with uvicorn in a thread (what `tracewarn demo` does, so devices
talk real HTTP) or in-process through `asgi_client` (tests). Uvicorn's access log is off: it
would record the client's IP address, which the backend must never keep.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tracewarn.device import ManualClock

__all__ = ["DemoBackend", "demo_backend", "serve_loopback"]

_STARTUP_TIMEOUT_S = 20.0


@dataclass
class DemoBackend:
    client: httpx.Client
    lab_key: str
    publish: Callable[[int], Any]
    app: Any
    url: str


@contextlib.contextmanager
def demo_backend(
    data_dir: Path,
    clock: ManualClock,
    *,
    loopback: bool = True,
    log_path: Path | None = None,
    **overrides: Any,
) -> Iterator[DemoBackend]:
    """The backend on `data_dir`; `overrides` are extra `Settings` (the federation demo's)."""
    from tracewarn.server.app import create_app
    from tracewarn.server.distribution.publish import publish
    from tracewarn.server.settings import Settings
    from tracewarn.server.verification import service

    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'tracewarn.db'}",
        # Every simulated phone shares 127.0.0.1, so per-client limits would throttle the town.
        rate_limit_per_client=10**7,
        rate_limit_global=10**8,
        publish_interval_seconds=0,
        # A demo town has a case or two, never the 10 uploads a batch and the 140 keys a
        # package wait for in production (docs/privacy.md, "Thresholds"): publish each one.
        min_uploads_per_batch=1,
        min_keys_to_publish=1,
        min_uploads_to_publish_checkins=1,
        **overrides,
    )
    app = create_app(settings, clock=lambda: clock.now().timestamp())
    ctx = app.state.ctx
    with ctx.sessions.begin() as session:
        lab_key = service.create_api_key(session, ctx, kind="lab", label="demo lab")
    with contextlib.ExitStack() as stack:
        if log_path is not None:
            stack.enter_context(_capture_logs(log_path))
        if loopback:
            url = stack.enter_context(serve_loopback(app))
            client = stack.enter_context(httpx.Client(base_url=url, timeout=30.0))
        else:
            from tracewarn.server.testing import asgi_client

            url = "http://127.0.0.1"
            client = stack.enter_context(asgi_client(app, base_url=url))
        try:
            yield DemoBackend(client, lab_key, lambda now: publish(ctx, now=now), app, url)
        finally:
            ctx.engine.dispose()


@contextlib.contextmanager
def serve_loopback(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    # Accepted sockets inherit this; without it every keep-alive response waits ~40 ms for
    # Nagle + delayed ACK (uvicorn sets it itself only for sockets it creates).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="tracewarn-demo-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
        raise RuntimeError("the demo server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def _capture_logs(path: Path) -> Iterator[None]:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(name) for name in ("tracewarn", "uvicorn", "uvicorn.error")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    try:
        yield
    finally:
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()
