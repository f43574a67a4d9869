"""`create_gateway_app`: the federation gateway as its own FastAPI app and database.

`scheduler=True` (what `tracewarn gateway serve` does) runs batching, callback delivery and
retention in a background thread every `batching_interval_seconds`.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

import httpx
from fastapi import FastAPI

from tracewarn import __version__
from tracewarn.server._lifespan import scheduled_lifespan
from tracewarn.server.gateway.context import GatewayContext, build_gateway_context
from tracewarn.server.gateway.settings import GatewaySettings
from tracewarn.server.guard import RequestGuard
from tracewarn.server.problems import install_problem_handlers

__all__ = ["create_gateway_app", "run_gateway_jobs", "served_gateway_app"]

_log = logging.getLogger("tracewarn.gateway")


def run_gateway_jobs(ctx: GatewayContext, client: httpx.Client | None = None) -> dict[str, int]:
    """One round: new download batches, due callbacks, retention."""
    from tracewarn.server.gateway.batching import cleanup, make_download_batches
    from tracewarn.server.gateway.callbacks import deliver_callbacks

    tags = make_download_batches(ctx)
    own = client is None
    client = client or httpx.Client()
    try:
        delivered = deliver_callbacks(ctx, client)
    finally:
        if own:
            client.close()
    return {"batches": len(tags), "callbacks": delivered, **cleanup(ctx)}


def create_gateway_app(
    settings: GatewaySettings | None = None,
    *,
    clock: Callable[[], float] | None = None,
    scheduler: bool = False,
) -> FastAPI:
    ctx = build_gateway_context(settings, clock=clock)

    lifespan = scheduled_lifespan(
        functools.partial(_schedule, ctx)
        if scheduler and ctx.settings.batching_interval_seconds > 0
        else None,
        name="tracewarn-gateway",
        on_exit=ctx.engine.dispose,
    )

    app = FastAPI(
        title="tracewarn federation gateway",
        version=__version__,
        summary="EFGS-compatible exchange of signed diagnosis key batches between regions.",
        lifespan=lifespan,
        # As the backend: FastAPI's documentation pages load scripts from public CDNs.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_problem_handlers(app)
    from tracewarn.server.gateway.routes import router

    app.include_router(router)
    _install_guard(app, ctx)
    return app


async def _members_are_not_rate_limited(_scope: MutableMapping[str, Any]) -> bool:
    # Every caller is a member authenticated by its TLS client certificate.
    return True


def _install_guard(app: FastAPI, ctx: GatewayContext) -> None:
    # The backend's request guard: every body bounded while it streams (batches up to the upload
    # limit, anything else 64 KiB), no tracebacks and no request data in the gateway's logs.
    upload_limit = ctx.settings.max_upload_bytes

    def limit_for(path: str) -> int:
        return upload_limit if path.startswith("/diagnosiskeys/upload") else 64 * 1024

    app.add_middleware(
        RequestGuard,
        limit_for=limit_for,
        rate_limit=_members_are_not_rate_limited,
        response_size=0,
    )


def _schedule(ctx: GatewayContext, stop: threading.Event) -> None:
    while not stop.wait(ctx.settings.batching_interval_seconds):
        try:
            run_gateway_jobs(ctx)
        except Exception as exc:  # the next round retries
            _log.error("gateway jobs failed: %s", type(exc).__name__)


def served_gateway_app() -> FastAPI:
    """The app as `tracewarn gateway serve` runs it (uvicorn factory; jobs scheduled)."""
    return create_gateway_app(GatewaySettings(), scheduler=True)
