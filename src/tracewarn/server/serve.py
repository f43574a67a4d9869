"""Running the app under uvicorn without logging anything about clients.

`access_log=False` removes the per-request line (client address, path, status);
`proxy_headers=False` keeps uvicorn from reading `X-Forwarded-For`, so not even the proxied
address reaches the app; the `Server` header is dropped. The app itself logs no request data.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tracewarn.server.app import create_app
from tracewarn.server.settings import Settings

__all__ = ["served_app", "uvicorn_options"]


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
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 10,
    }
