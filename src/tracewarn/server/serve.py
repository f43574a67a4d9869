"""Running the app under uvicorn without logging anything about clients.

`access_log=False` removes the per-request line (client address, path, status);
`proxy_headers=False` keeps uvicorn from reading `X-Forwarded-For`, so not even the proxied
address reaches the app; the `Server` header is dropped. The app itself logs no request data.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from typing import Any

from fastapi import FastAPI

from tracewarn.server.app import create_app
from tracewarn.server.settings import Settings

__all__ = ["run", "served_app", "uvicorn_options"]


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


def run(options: dict[str, Any]) -> None:
    """Serve with `options` (see `uvicorn_options`); several workers share one listening socket.

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
    if workers <= 1 or sys.platform != "linux":
        uvicorn.run("tracewarn.server.serve:served_app", workers=workers, **options)
        return
    import multiprocessing

    host, port = options.pop("host"), options.pop("port")
    socks = _listening_sockets(host, int(port), workers)
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
