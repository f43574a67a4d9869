"""HTTP routes of submission: `POST /version/v1/diagnosis-keys` and the host-warning variant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from google.protobuf.message import DecodeError
from starlette.concurrency import run_in_threadpool

from tracewarn.protocol.errors import SubmissionFormatError
from tracewarn.protocol.proto import submission_pb2
from tracewarn.server._fake import answer, answer_async
from tracewarn.server.context import ServerContext, get_context
from tracewarn.server.problems import Problem
from tracewarn.server.submission.schemas import SubmissionJSON, inline_schema, parse_json
from tracewarn.server.submission.service import redeem_and_store, redeem_and_store_async
from tracewarn.server.submission.validation import (
    SubmissionRules,
    ValidSubmission,
    validate_submission,
)
from tracewarn.server.verification.service import TanKind

__all__ = ["router"]

router = APIRouter(tags=["submission"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": inline_schema(SubmissionJSON)},
        },
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid payload"},
    403: {"description": "Invalid, used or expired TAN"},
    413: {"description": "Request too large"},
    415: {"description": "Unsupported content type"},
    429: {"description": "Rate limited"},
}
# The headers are read by hand rather than declared as FastAPI parameters: dependency solving
# and pydantic validation of three parameters took a third of an upload's CPU (docs/server.md,
# "Performance"). They stay documented in the OpenAPI document and are checked the same way
# (422 `invalid-request`, as FastAPI would answer).
_HEADERS = {
    "parameters": [
        {
            "name": "cwa-authorization",
            "in": "header",
            "required": False,
            "description": "the TAN",
            "schema": {"type": "string", "maxLength": 64},
        },
        {
            "name": "cwa-fake",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "enum": ["0", "1"]},
        },
    ]
}
_TAN_MAX = 64


def _tan_header(request: Request) -> str | None:
    headers = request.headers
    tan = headers.get("cwa-authorization")
    if tan is not None and len(tan) > _TAN_MAX:
        raise Problem(
            422,
            "invalid-request",
            f"header.cwa-authorization: String should have at most {_TAN_MAX} characters",
        )
    fake = headers.get("cwa-fake")
    if fake is not None and fake not in ("0", "1"):
        raise Problem(422, "invalid-request", "header.cwa-fake: Input should be '0' or '1'")
    return tan


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "payload-too-large", f"requests are limited to {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "payload-too-large", f"requests are limited to {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes, content_type: str) -> submission_pb2.SubmissionPayload:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/x-protobuf", "application/protobuf", "application/octet-stream"):
        try:
            return submission_pb2.SubmissionPayload.FromString(raw)
        except (DecodeError, ValueError, RuntimeError):
            raise SubmissionFormatError("body is not a SubmissionPayload protobuf") from None
    if media == "application/json":
        return parse_json(raw)
    raise Problem(415, "unsupported-media-type", "send application/x-protobuf or application/json")


def _rules(ctx: ServerContext) -> SubmissionRules:
    s = ctx.settings
    return SubmissionRules(
        max_keys=s.max_keys_per_submission,
        key_max_age_days=s.key_max_age_days,
        home_region=s.home_region,
        countries=tuple(s.countries),
        max_protected_reports=s.max_checkins_per_day * (s.key_max_age_days + 1),
    )


async def _submit(
    ctx: ServerContext, request: Request, tan: str | None, *, host_warning: bool
) -> Response:
    # A fake's body is read and thrown away so it costs the same bytes on the wire.
    raw = await _read_body(request, ctx.settings.max_request_bytes)
    kind = TanKind.HOST_WARNING if host_warning else TanKind.SUBMISSION

    def checked() -> ValidSubmission:
        payload = _parse(raw, request.headers.get("content-type", ""))
        return validate_submission(
            payload, now=ctx.now(), rules=_rules(ctx), host_warning=host_warning
        )

    if ctx.engine.dialect.name == "postgresql":
        # The whole upload on the event loop (async driver, one statement): see service.py.
        async def real_async() -> dict[str, object]:
            valid = checked()
            if not await redeem_and_store_async(ctx, tan=tan, kind=kind, valid=valid):
                raise Problem(403, "tan-invalid", "the TAN is unknown, used or expired")
            return {"status": "accepted"}

        return await answer_async(
            ctx,
            request,
            family="submission",
            status=200,
            real=real_async,
            fake=lambda: {"status": "accepted"},
        )

    def real() -> dict[str, object]:
        if not redeem_and_store(ctx, tan=tan, kind=kind, valid=checked()):
            raise Problem(403, "tan-invalid", "the TAN is unknown, used or expired")
        return {"status": "accepted"}

    def run() -> Response:
        return answer(
            ctx,
            request,
            family="submission",
            status=200,
            real=real,
            fake=lambda: {"status": "accepted"},
        )

    return await run_in_threadpool(run)


@router.post(
    "/version/v1/diagnosis-keys", openapi_extra={**_BODY, **_HEADERS}, responses=_RESPONSES
)
async def diagnosis_keys(request: Request) -> Response:
    """Upload keys and encrypted check-in reports with a TAN (CWA `SubmissionPayload`)."""
    tan = _tan_header(request)
    return await _submit(get_context(request), request, tan, host_warning=False)


@router.post(
    "/version/v1/submission-on-behalf",
    openapi_extra={**_BODY, **_HEADERS},
    responses=_RESPONSES,
)
async def submission_on_behalf(request: Request) -> Response:
    """A venue host warns its own location with an event-teleTAN TAN (no keys, one location)."""
    tan = _tan_header(request)
    return await _submit(get_context(request), request, tan, host_warning=True)
