"""The FastAPI application: `create_app(settings)`; migrations run before it serves anything."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from tracewarn import __version__
from tracewarn.server._lifespan import scheduled_lifespan
from tracewarn.server._secrets import SecretBox, load_server_secret
from tracewarn.server.context import ServerContext
from tracewarn.server.db import make_engine, make_sessionmaker, upgrade_database
from tracewarn.server.distribution.blobstore import BlobStore, blob_store_from_settings
from tracewarn.server.guard import SUBMISSION_PATHS, RequestGuard
from tracewarn.server.problems import install_problem_handlers
from tracewarn.server.ratelimit import DatabaseRateLimiter, MemoryRateLimiter, RateLimiter
from tracewarn.server.settings import Settings
from tracewarn.server.startup import check_blob_store, database_errors, prepare_data_dir

__all__ = ["build_context", "create_app"]

_log = logging.getLogger("tracewarn.server")


def build_context(
    settings: Settings | None = None,
    *,
    clock: Callable[[], float] | None = None,
    blobs: BlobStore | None = None,
    random_bytes: Callable[[int], bytes] | None = None,
    migrate: bool = True,
) -> ServerContext:
    """Everything a request or a job needs; runs `alembic upgrade head` unless `migrate` is off."""
    settings = settings or Settings()
    prepare_data_dir(settings)
    if blobs is None:
        check_blob_store(settings)
    with database_errors(settings):
        engine = make_engine(settings.resolved_database_url)
        if migrate:
            upgrade_database(engine, settings.data_dir)
    real_clock = clock or time.time
    box = SecretBox(load_server_secret(settings))
    return ServerContext(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        box=box,
        clock=real_clock,
        limiter=_limiter(settings, engine, box, real_clock),
        blobs=blobs or blob_store_from_settings(settings),
        random_bytes=random_bytes or os.urandom,
    )


def _limiter(
    settings: Settings, engine: Engine, box: SecretBox, clock: Callable[[], float]
) -> RateLimiter:
    per_client, global_limit = settings.rate_limit_per_client, settings.rate_limit_global
    failures, window = settings.rate_limit_failures_per_client, settings.rate_limit_window_seconds
    if settings.rate_limit_backend == "memory":
        return MemoryRateLimiter(
            per_client=per_client,
            global_limit=global_limit,
            failures_per_client=failures,
            window_seconds=window,
            clock=clock,
        )
    return DatabaseRateLimiter(
        engine,
        # Derived from the server secret so every worker and host uses the same key per window.
        epoch_key=lambda epoch: box.mac("rate-limit-epoch", str(epoch)),
        per_client=per_client,
        global_limit=global_limit,
        failures_per_client=failures,
        window_seconds=window,
        clock=clock,
    )


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], float] | None = None,
    blobs: BlobStore | None = None,
    random_bytes: Callable[[int], bytes] | None = None,
    scheduler: bool = False,
) -> FastAPI:
    """The health-authority backend. `scheduler=True` (as `tracewarn serve` does) publishes and
    cleans up in a background thread every `publish_interval_seconds`."""
    ctx = build_context(settings, clock=clock, blobs=blobs, random_bytes=random_bytes)

    lifespan = scheduled_lifespan(
        functools.partial(_schedule, ctx)
        if scheduler and ctx.settings.publish_interval_seconds > 0
        else None,
        name="tracewarn-publisher",
        on_exit=ctx.engine.dispose,
    )

    # No Swagger UI or ReDoc: FastAPI's pages load their scripts, styles and favicon from public
    # CDNs, so an operator's browser opening them would call out of the health authority's site.
    # The OpenAPI document stays at /openapi.json (and `tracewarn server openapi`).
    app = FastAPI(
        title="tracewarn health-authority backend",
        version=__version__,
        summary="Verification, submission and signed distribution for GAEN/CWA-compatible apps.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_problem_handlers(app)
    _install_guard(app, ctx)
    from tracewarn.server.distribution.routes import router as distribution_router
    from tracewarn.server.submission.routes import router as submission_router
    from tracewarn.server.verification.routes import router as verification_router

    app.include_router(verification_router)
    app.include_router(submission_router)
    from tracewarn.server.distribution.keys_routes import router as keys_router

    app.include_router(keys_router)
    app.include_router(distribution_router)
    from tracewarn.server.health import router as health_router

    app.include_router(health_router)
    from tracewarn.web.routes import mount_web

    mount_web(app)  # /portal, /venue and the check-in page /c (tracewarn.web)
    return app


def _install_guard(app: FastAPI, ctx: ServerContext) -> None:
    settings = ctx.settings

    def limit_for(path: str) -> int:
        if path in SUBMISSION_PATHS:
            return settings.max_request_bytes
        return settings.max_json_request_bytes

    async def rate_limit(scope: MutableMapping[str, Any]) -> bool:
        client = scope.get("client")
        host = client[0] if client else None
        if ctx.limiter.blocking:
            return await run_in_threadpool(ctx.limiter.allow, host)
        return ctx.limiter.allow(host)

    app.add_middleware(
        RequestGuard,
        limit_for=limit_for,
        rate_limit=rate_limit,
        response_size=settings.response_size_bytes,
    )


def _schedule(ctx: ServerContext, stop: threading.Event) -> None:
    from tracewarn.server.distribution.publish import publish
    from tracewarn.server.retention import cleanup

    while not stop.wait(ctx.settings.publish_interval_seconds):
        try:
            publish(ctx)
            cleanup(ctx)
        except Exception as exc:  # the next round retries; a failed round must not end the thread
            _log.error("scheduled publish failed: %s", type(exc).__name__)
        if ctx.settings.federation_gateway_url:
            from tracewarn.server.federation.jobs import federate

            try:
                federate(ctx)
            except Exception as exc:  # as above: retried next round
                _log.error("scheduled federation failed: %s", type(exc).__name__)
