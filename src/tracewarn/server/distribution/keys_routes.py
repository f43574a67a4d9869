"""`GET /version/v1/signing-keys`: the public keys devices verify packages with."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tracewarn.server.context import Ctx
from tracewarn.server.distribution.signing import public_key_document

__all__ = ["router"]

router = APIRouter(tags=["distribution"])


@router.get("/version/v1/signing-keys")
def signing_keys(ctx: Ctx) -> JSONResponse:
    """Public signing keys per region: key id, version, SPKI PEM; retired keys keep their entry."""
    with ctx.sessions() as session:
        document = public_key_document(session)
    return JSONResponse(
        document, headers={"Cache-Control": f"public,max-age={ctx.settings.cache_max_age_seconds}"}
    )
