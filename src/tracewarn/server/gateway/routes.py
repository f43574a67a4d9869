"""The gateway's HTTP API, EFGS paths and statuses (EU Federation Gateway Service [docs/specifications.md#efgs]).

Every error is an RFC 9457 problem document whose status is the EFGS status for that case; the
upload's partial-conflict answer stays EFGS's 207 map, because members act on its indices.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response

from tracewarn.protocol.federation import encode_batch, encode_batch_json
from tracewarn.server.gateway import batching, callbacks
from tracewarn.server.gateway.certificates import Member, authenticate
from tracewarn.server.gateway.context import GatewayContext
from tracewarn.server.gateway.upload import FORMAT_VERSION, parse_content_type, process_upload
from tracewarn.server.problems import Problem

__all__ = ["router"]

router = APIRouter(prefix="/diagnosiskeys", tags=["federation"])
_MEDIA = {"protobuf": "application/protobuf", "json": "application/json"}


def _ctx(request: Request) -> GatewayContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, GatewayContext)
    return ctx


def _member(
    request: Request,
    x_ssl_client_sha256: Annotated[str | None, Header()] = None,
    x_ssl_client_dn: Annotated[str | None, Header()] = None,
) -> Member:
    ctx = _ctx(request)
    with ctx.sessions() as session:
        return authenticate(
            session,
            ctx.anchor,
            thumbprint_header=x_ssl_client_sha256,
            dn_header=x_ssl_client_dn,
            now=ctx.now(),
        )


Ctx = Annotated[GatewayContext, Depends(_ctx)]
Caller = Annotated[Member, Depends(_member)]


async def _body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "payload-too-large", f"at most {limit} bytes per upload")
        chunks.append(chunk)
    return b"".join(chunks)


@router.options("")
def options() -> Response:
    accept = f"application/json; version={FORMAT_VERSION}, application/protobuf; version={FORMAT_VERSION}"
    return Response(status_code=200, headers={"Accept": accept, "Allow": "POST,GET,OPTIONS"})


@router.post("/upload", status_code=201, responses={207: {}, 400: {}, 403: {}, 409: {}, 413: {}})
async def upload(
    request: Request,
    ctx: Ctx,
    member: Caller,
    content_type: Annotated[str | None, Header()] = None,
    batch_tag: Annotated[str | None, Header(alias="batchTag")] = None,
    batch_signature: Annotated[str | None, Header(alias="batchSignature")] = None,
) -> Response:
    """Store a signed batch of the caller's keys (all or nothing)."""
    body = await _body(request, ctx.settings.max_upload_bytes)
    from starlette.concurrency import run_in_threadpool

    outcome = await run_in_threadpool(
        process_upload,
        ctx,
        member,
        content_type=content_type,
        batch_tag=batch_tag,
        batch_signature=batch_signature,
        body=body,
    )
    if outcome.status == 207:
        return Response(json.dumps(outcome.report), status_code=207, media_type="application/json")
    return Response(status_code=201, headers={"batchTag": outcome.batch_tag})


@router.get("/download/{date}", responses={400: {}, 403: {}, 404: {}, 410: {}, 415: {}})
def download(
    date: str,
    ctx: Ctx,
    member: Caller,
    accept: Annotated[str | None, Header()] = None,
    batch_tag: Annotated[str | None, Header(alias="batchTag")] = None,
) -> Response:
    """One download batch: other members' keys; follow `nextBatchTag` until `null`."""
    kind = parse_content_type(accept, for_request=False)
    served = batching.download(ctx, country=member.country, date=date, tag=batch_tag)
    body = encode_batch(served.keys) if kind == "protobuf" else encode_batch_json(served.keys)
    return Response(
        body,
        media_type=f"{_MEDIA[kind]}; version={FORMAT_VERSION}",
        headers={"batchTag": served.tag, "nextBatchTag": served.next_tag or "null"},
    )


@router.get("/audit/download/{date}/{tag}", responses={403: {}, 404: {}, 410: {}})
def audit(date: str, tag: str, ctx: Ctx, member: Caller) -> Response:
    """Per upload in the batch: uploader, certificates, operator signatures, amount, signature."""
    entries = batching.audit(ctx, date=date, tag=tag)
    return Response(json.dumps(entries), media_type="application/json")


@router.get("/callback")
def list_callbacks(ctx: Ctx, member: Caller) -> list[dict[str, str]]:
    return callbacks.list_subscriptions(ctx, member.country)


@router.put("/callback/{callback_id}", responses={400: {}, 403: {}})
def put_callback(callback_id: str, url: str, ctx: Ctx, member: Caller) -> Response:
    callbacks.subscribe(ctx, member.country, callback_id, url)
    return Response(status_code=200)


@router.delete("/callback/{callback_id}", responses={403: {}, 404: {}})
def delete_callback(callback_id: str, ctx: Ctx, member: Caller) -> Response:
    callbacks.delete_subscription(ctx, member.country, callback_id)
    return Response(status_code=200)
