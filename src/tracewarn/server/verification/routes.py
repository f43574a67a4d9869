"""HTTP routes of verification: lab results, teleTANs, registration tokens, test results, TANs."""

# ruff: noqa: N815 - JSON field names are the wire names of the CWA protocol

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tracewarn.protocol.verification import UUID_RANDOM_BYTES, make_uuid4
from tracewarn.server._fake import answer
from tracewarn.server.context import Ctx, ServerContext
from tracewarn.server.problems import Problem, padded_json, parse_body
from tracewarn.server.verification import service

__all__ = ["router"]

router = APIRouter(tags=["verification"])
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid or used code"},
    403: {"description": "Unknown or expired token"},
    429: {"description": "Rate limited"},
}
FakeHeader = Annotated[
    Literal["0", "1"] | None,
    Header(alias="cwa-fake", description="1 = fake request: same answer shape, nothing stored"),
]


class _Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    request_padding: str | None = Field(default=None, alias="requestPadding", max_length=4096)


class LabResultRequest(_Body):
    result: Literal["pending", "positive", "negative", "invalid"]
    test_type: Literal["pcr", "rat"] = Field(default="pcr", alias="testType")
    code: str | None = Field(default=None, max_length=64, description="an earlier code to update")


class LabResultResponse(BaseModel):
    code: str
    testResult: int
    expiresAt: int


class TeleTanResponse(BaseModel):
    teleTan: str
    type: Literal["TEST", "EVENT"]
    expiresAt: int


class RegistrationTokenRequest(_Body):
    key_type: Literal["GUID", "TELETAN"] = Field(alias="keyType")
    key: str = Field(max_length=64)
    key_dob: str | None = Field(
        default=None,
        alias="keyDob",
        max_length=64,
        description="accepted for CWA compatibility and ignored",
    )


class TokenRequest(_Body):
    registration_token: str = Field(alias="registrationToken", max_length=64)


class RegistrationTokenResponse(BaseModel):
    registrationToken: str
    padding: str


class TestResultResponse(BaseModel):
    testResult: int
    padding: str


TestResultResponse.__test__ = False  # type: ignore[attr-defined]


class TanResponse(BaseModel):
    tan: str
    padding: str


@router.post(
    "/version/v1/lab/results",
    status_code=201,
    response_model=LabResultResponse,
    responses={
        401: {"description": "Bad API key"},
        404: {"description": "Unknown code"},
        429: {"description": "Too many failed API-key checks"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": LabResultRequest.model_json_schema()}},
        }
    },
)
async def lab_result(
    ctx: Ctx,
    request: Request,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
) -> Response:
    """A lab reports a result; the answer carries the test GUID to hand to the person (once).

    The API key is checked before the body is read or parsed (an unauthenticated client costs
    no parsing), and failed checks are rate limited per client.
    """
    await run_in_threadpool(_authenticate, ctx, request, x_api_key, "lab")
    body = parse_body(LabResultRequest, await request.body())

    def report() -> tuple[str, int, int]:
        with ctx.sessions.begin() as session:
            code, value, expires = service.report_lab_result(
                session, ctx, test_type=body.test_type, result=body.result, code=body.code
            )
        return code, int(value), expires

    code, value, expires = await run_in_threadpool(report)
    payload = {"code": code, "testResult": value, "expiresAt": expires}
    return padded_json(payload, size=0, status=200 if body.code else 201)


def _authenticate(ctx: ServerContext, request: Request, api_key: str | None, kind: str) -> None:
    host = request.client.host if request.client else None
    if not ctx.limiter.failure_allowed(host):
        raise Problem(
            429,
            "rate-limited",
            "too many failed API-key checks; try again later",
            headers={"Retry-After": "60"},
        )
    try:
        with ctx.sessions.begin() as session:
            service.authenticate_api_key(session, ctx, api_key=api_key, kind=kind)
    except Problem:
        ctx.limiter.record_failure(host)
        raise


@router.post(
    "/version/v1/tan/teletan",
    status_code=201,
    response_model=TeleTanResponse,
    responses={401: {"description": "Bad API key"}, 429: {"description": "Hourly quota used"}},
)
def teletan(
    ctx: Ctx,
    request: Request,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
    teletan_type: Annotated[
        Literal["TEST", "EVENT"] | None, Header(alias="X-CWA-TELETAN-TYPE")
    ] = None,
) -> Response:
    """A hotline creates a teleTAN; `X-CWA-TELETAN-TYPE: EVENT` makes a host-warning teleTAN."""
    _authenticate(ctx, request, x_api_key, "hotline")
    with ctx.sessions.begin() as session:
        value, expires = service.create_teletan(session, ctx, event=teletan_type == "EVENT")
    return padded_json(
        {"teleTan": value, "type": teletan_type or "TEST", "expiresAt": expires}, size=0, status=201
    )


@router.post(
    "/version/v1/registrationToken",
    status_code=201,
    response_model=RegistrationTokenResponse,
    responses=_PROBLEMS,
)
def registration_token(
    ctx: Ctx, request: Request, body: RegistrationTokenRequest, fake: FakeHeader = None
) -> Response:
    """Exchange SHA-256(test GUID) or a teleTAN for a registration token (CWA verification API)."""

    def real() -> dict[str, object]:
        with ctx.sessions.begin() as session:
            return {
                "registrationToken": service.register(
                    session, ctx, key_type=body.key_type, key=body.key
                )
            }

    return answer(
        ctx,
        request,
        family="registration",
        status=201,
        real=real,
        fake=lambda: {"registrationToken": make_uuid4(ctx.random_bytes(UUID_RANDOM_BYTES))},
    )


@router.post("/version/v1/testresult", response_model=TestResultResponse, responses=_PROBLEMS)
def test_result(
    ctx: Ctx, request: Request, body: TokenRequest, fake: FakeHeader = None
) -> Response:
    """Poll the test result behind a registration token (CWA result codes 0-9)."""

    def real() -> dict[str, object]:
        with ctx.sessions.begin() as session:
            return {
                "testResult": int(
                    service.test_result_of(session, ctx, token=body.registration_token)
                )
            }

    return answer(
        ctx,
        request,
        family="testresult",
        status=200,
        real=real,
        fake=lambda: {"testResult": 0},
    )


test_result.__test__ = False  # type: ignore[attr-defined]


@router.post("/version/v1/tan", status_code=201, response_model=TanResponse, responses=_PROBLEMS)
def tan(ctx: Ctx, request: Request, body: TokenRequest, fake: FakeHeader = None) -> Response:
    """Get the single-use TAN for a positive registration."""

    def real() -> dict[str, object]:
        with ctx.sessions.begin() as session:
            return {"tan": service.issue_tan(session, ctx, token=body.registration_token)}

    return answer(
        ctx,
        request,
        family="tan",
        status=201,
        real=real,
        fake=lambda: {"tan": make_uuid4(ctx.random_bytes(UUID_RANDOM_BYTES))},
    )
