"""`/c`: the check-in page a poster's QR URL opens, and `/c/warnings`, for any phone's browser.

The place travels in the URL's fragment (`/c?v=1#<payload>`), which browsers never send, so the
server answers every visitor with the same static page and cannot tell which place was scanned.
The page decodes the code, stores the check-in in the browser's IndexedDB only, checks out
automatically, and matches the published check-in warning packages in the browser with
WebCrypto. These handlers set no cookie, read no parameter and log nothing.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from tracewarn.server.context import Ctx
from tracewarn.web._pages import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/c")
def checkin_page(ctx: Ctx) -> Response:
    return render("checkin.html", title="Check in", region=ctx.settings.home_region)


@router.get("/c/warnings")
def warnings_page(ctx: Ctx) -> Response:
    return render("warnings.html", title="Warnings", region=ctx.settings.home_region)
