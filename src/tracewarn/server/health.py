"""`GET /healthz`: what a load balancer or an operator's monitor asks before sending traffic.

Three checks, each cheap: the database answers `SELECT 1`; every configured region has a live
signing key (without one, `publish` would have to create a key nobody pinned); and the last
publish run is recent. The answer is 200 when the first two pass and 503 otherwise; the publish
age is reported, not judged, because how stale is too stale depends on the schedule
(`TRACEWARN_PUBLISH_INTERVAL_SECONDS`, or an external cron running `tracewarn publish`). Nothing in
the answer concerns a client or an upload.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tracewarn.server.context import ServerContext
from tracewarn.server.distribution import layout

__all__ = ["LAST_PUBLISH_BLOB", "record_publish", "router"]

# Written by every publish run; outside `version/`, so the package routes never serve it.
LAST_PUBLISH_BLOB = "status/last-publish"

router = APIRouter()


def record_publish(ctx: ServerContext, *, published_up_to: int) -> None:
    """Note that a publish run finished now (real clock) for `published_up_to` (its `now`)."""
    layout.write_json(
        ctx.blobs, LAST_PUBLISH_BLOB, {"ranAt": ctx.now(), "publishedUpTo": published_up_to}
    )


@router.get(
    "/healthz",
    tags=["operations"],
    summary="Health: database reachable, signing keys present, age of the last publish run",
    responses={503: {"description": "The database is unreachable or a region has no signing key"}},
)
def healthz(request: Request) -> JSONResponse:
    ctx: ServerContext = request.app.state.ctx
    body: dict[str, Any] = {"database": _database(ctx), "signingKeys": _signing_keys(ctx)}
    body["lastPublish"] = _last_publish(ctx)
    healthy = body["database"] == "ok" and all(body["signingKeys"].values())
    body = {"status": "ok" if healthy else "fail", **body}
    return JSONResponse(body, status_code=200 if healthy else 503)


def _database(ctx: ServerContext) -> str:
    try:
        with ctx.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


def _signing_keys(ctx: ServerContext) -> dict[str, bool]:
    from tracewarn.server.models import SigningKey

    try:
        with ctx.sessions() as session:
            live = set(
                session.scalars(
                    sa.select(SigningKey.region).where(SigningKey.retired_at.is_(None)).distinct()
                )
            )
    except sa.exc.SQLAlchemyError:
        live = set()
    return {region: region in live for region in ctx.settings.regions}


def _last_publish(ctx: ServerContext) -> dict[str, Any] | None:
    try:
        record = layout.read_json(ctx.blobs, LAST_PUBLISH_BLOB)
    except Exception:  # an unreadable record is reported as none, never as a 500
        return None
    if not isinstance(record, dict) or not isinstance(record.get("ranAt"), int):
        return None
    return {"ranAt": record["ranAt"], "ageSeconds": max(0, ctx.now() - record["ranAt"])}
