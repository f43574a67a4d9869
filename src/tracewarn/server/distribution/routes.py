"""Serving published files when no CDN sits in front: GET with Cache-Control and ETag."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from tracewarn.server.context import Ctx
from tracewarn.server.problems import Problem

__all__ = ["blob_name", "router"]

router = APIRouter(tags=["distribution"])


def blob_name(url_path: str) -> str:
    """Blob holding the resource at `url_path`: every resource is `<path>/index` (CWA layout),
    because a daily package's path is also the parent of its hour index."""
    return url_path.strip("/") + "/index"


@router.get(
    "/version/{path:path}",
    responses={
        200: {
            "content": {"application/zip": {}, "application/json": {}},
            "description": "A package or index",
        },
        304: {"description": "Not modified"},
        404: {"description": "Not published"},
    },
)
def published_file(
    ctx: Ctx,
    path: str,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
) -> Response:
    """A published package (zip) or index (JSON), as a CDN would serve it."""
    if len(path) > 300:
        raise Problem(404, "not-found", "nothing is published at this path")
    try:
        data = ctx.blobs.get(blob_name("version/" + path))
    except ValueError:
        data = None
    if data is None:
        raise Problem(404, "not-found", "nothing is published at this path")
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public,max-age={ctx.settings.cache_max_age_seconds}",
    }
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    media = "application/zip" if data.startswith(b"PK") else "application/json"
    return Response(data, media_type=media, headers=headers)
