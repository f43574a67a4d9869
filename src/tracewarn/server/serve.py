"""Running the app under uvicorn without logging anything about clients.

`access_log=False` removes the per-request line (client address, path, status);
`proxy_headers=False` keeps uvicorn from reading `X-Forwarded-For`, so not even the proxied
address reaches the app; the `Server` header is dropped. The app itself logs no request data.
"""

from __future__ import annotations

import errno
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from tracewarn.server.app import create_app
from tracewarn.server.settings import Settings

__all__ = ["PortInUse", "run", "served_app", "uvicorn_options"]


class PortInUse(Exception):  # noqa: N818 - reads as what it is in `except PortInUse`
    """The address `tracewarn serve` was asked to listen on is taken (or not this host's)."""


def served_app() -> FastAPI:
    """The app as `tracewarn serve` runs it (uvicorn factory): settings from the environment,
    publish and cleanup scheduled in the background."""
    return create_app(Settings(), scheduler=True)


def uvicorn_options(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    return {
        "host": host or settings.host,
        "port": port if port is not None else settings.port,
        "workers": workers or settings.workers,
        "factory": True,
        # No websocket endpoints exist; don't let uvicorn accept upgrades.
        "ws": "none",
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 10,
    }


def run(options: dict[str, Any], *, announce: Callable[[int], None] | None = None) -> None:
    """Serve with `options` (see `uvicorn_options`); several workers share one listening socket.

    The sockets are bound here before any worker starts, so a port in use is a `PortInUse`
    error (the CLI's one line, exit 2) rather than a log line from inside uvicorn, and
    `announce(port)` is called once they listen (the port is known even for port 0).

    With more than one worker the sockets are bound here and inherited by forked workers. Uvicorn's
    own multi-worker mode measured ~44 ms per request on loopback against ~4 ms for the same
    app in one process (small responses stalled by delayed ACKs); a socket created here with
    IPPROTO_TCP keeps asyncio's TCP_NODELAY on every accepted connection. Each worker gets its
    own SO_REUSEPORT socket, so the kernel spreads connections evenly: with one shared socket
    whichever worker woke first took most keep-alive connections (a 3:1 split measured under
    load), leaving one process saturated and the other idle.
    """
    import uvicorn

    options = dict(options)
    workers = int(options.pop("workers", 1))
    host, port = options.pop("host"), int(options.pop("port"))
    _check_free(host, port)
    if workers > 1 and sys.platform != "linux":
        if announce is not None:
            announce(port)
        uvicorn.run(
            "tracewarn.server.serve:served_app", host=host, port=port, workers=workers, **options
        )
        return
    socks = _listening_sockets(host, port, workers)
    if announce is not None:
        announce(socks[0].getsockname()[1])
    if workers <= 1:
        try:
            config = uvicorn.Config("tracewarn.server.serve:served_app", **options)
            uvicorn.Server(config).run(sockets=socks)
        finally:
            socks[0].close()
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    procs = [context.Process(target=_worker, args=(sock, options), daemon=True) for sock in socks]
    for proc in procs:
        proc.start()
    try:
        while not stopping:
            time.sleep(0.2)
            for index, proc in enumerate(procs):
                if not proc.is_alive() and not stopping:
                    # A crashed worker is replaced so the service keeps its capacity.
                    # It takes over the dead one's socket and the connections queued on it.
                    procs[index] = context.Process(
                        target=_worker, args=(socks[index], options), daemon=True
                    )
                    procs[index].start()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=15)
            if proc.is_alive():
                proc.kill()
        for sock in socks:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_free(host: str, port: int) -> None:
    """Raise `PortInUse` unless `host:port` can be bound by a new, unshared socket.

    The serving sockets use SO_REUSEPORT, which would silently join another server of the same
    user on that port; this probe does not, so a second `tracewarn serve` on a taken port fails.
    """
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} on {host} is in use; stop what listens there or choose "
                    "another with --port"
                ) from None
            raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets listening on one address; port 0 picks a free port shared by all."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Linux lets only processes of the same user join a SO_REUSEPORT group.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(2048)
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks


def _worker(sock: socket.socket, options: dict[str, Any]) -> None:
    import uvicorn

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    config = uvicorn.Config("tracewarn.server.serve:served_app", **options)
    uvicorn.Server(config).run(sockets=[sock])
