"""Mount the web pages on the backend: `/portal`, `/venue`, `/c` and their static files."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response

from tracewarn.server.problems import Problem
from tracewarn.web._pages import SECURITY_HEADERS, STATIC_DIR

__all__ = ["mount_web"]

_TYPES: Final = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
}
# The files are fixed at install time: read once, served from memory, nothing else reachable.
_FILES: Final = {
    path.name: (path.read_bytes(), _TYPES[path.suffix])
    for path in sorted(STATIC_DIR.iterdir())
    if path.suffix in _TYPES
}

static_router = APIRouter(include_in_schema=False)


@static_router.get("/web/static/{name}")
def static_file(name: str) -> Response:
    found = _FILES.get(name)
    if found is None:
        raise Problem(404, "not-found", "no such file")
    data, media_type = found
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=300"}
    return Response(data, media_type=media_type, headers=headers)


def mount_web(app: FastAPI) -> None:
    """Add the pages to `app` (called by `server.app.create_app`)."""
    from tracewarn.web.checkin import router as checkin_router
    from tracewarn.web.portal import router as portal_router
    from tracewarn.web.venue import router as venue_router

    app.include_router(static_router)
    app.include_router(portal_router)
    app.include_router(venue_router)
    app.include_router(checkin_router)
