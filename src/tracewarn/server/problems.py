"""RFC 9457 problem details for every error, and fixed-size padded JSON responses.

Every error leaves as `application/problem+json` with `type`, `title`, `status` and `detail`.
Device-facing bodies (success and problem alike) are padded to one size, so a network observer
cannot tell a real upload or verification step from a fake one by its length.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracewarn.protocol.errors import ProtocolError

__all__ = [
    "PROBLEM_TYPE_PREFIX",
    "Problem",
    "install_problem_handlers",
    "padded_body",
    "padded_json",
    "parse_body",
    "problem_bytes",
]

PROBLEM_TYPE_PREFIX = "urn:tracewarn:problem:"
_log = logging.getLogger("tracewarn.server")
_STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "too-many-requests",
}


class Problem(Exception):  # noqa: N818 - a problem document, not a programming error
    """An error that becomes a problem+json response with a 4xx status."""

    def __init__(
        self, status: int, slug: str, detail: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}


def padded_json(
    payload: dict[str, Any],
    *,
    size: int,
    status: int = 200,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """`payload` as JSON padded with a `padding` member to exactly `size` bytes when it fits."""
    body = padded_body(payload, size=size)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


_M = TypeVar("_M", bound=BaseModel)


def parse_body(model: type[_M], raw: bytes) -> _M:
    """`raw` JSON validated as `model`; a 422 problem like FastAPI's own, for routes that
    authenticate before they read the body."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]  # a ValidationError always has at least one
        where = ".".join(["body", *(str(p) for p in first.get("loc", ()))])
        raise Problem(422, "invalid-request", f"{where}: {first.get('msg', 'invalid')}") from None


def padded_body(payload: dict[str, Any], *, size: int) -> bytes:
    body = json.dumps({**payload, "padding": ""}, separators=(",", ":")).encode()
    if len(body) < size:
        body = json.dumps(
            {**payload, "padding": "0" * (size - len(body))}, separators=(",", ":")
        ).encode()
    return body


def _payload(status: int, slug: str, detail: str) -> dict[str, Any]:
    from http import HTTPStatus

    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"type": PROBLEM_TYPE_PREFIX + slug, "title": title, "status": status, "detail": detail}


def problem_bytes(status: int, slug: str, detail: str, *, size: int) -> bytes:
    """A padded problem+json body, for code that answers below FastAPI (the request guard)."""
    return padded_body(_payload(status, slug, detail), size=size)


def _problem(
    request: Request, status: int, slug: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    payload = _payload(status, slug, detail)
    size = getattr(getattr(request.app.state, "ctx", None), "settings", None)
    target = size.response_size_bytes if size is not None else 0
    return padded_json(
        payload, size=target, status=status, media_type="application/problem+json", headers=headers
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every exception type to a problem body; unknown errors stay 500 but never leak."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return _problem(request, exc.status, exc.slug, exc.detail, exc.headers)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        slug = _STATUS_SLUGS.get(exc.status_code, "error")
        return _problem(request, exc.status_code, slug, str(exc.detail), dict(exc.headers or {}))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        detail = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        return _problem(request, 422, "invalid-request", detail)

    async def on_protocol(request: Request, exc: Exception) -> Response:
        return _problem(request, 400, "invalid-payload", str(exc))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Log the type only: messages can echo request content, and nothing about clients is kept.
        _log.error("internal error: %s", type(exc).__name__)
        return _problem(request, 500, "internal-error", "internal error")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ProtocolError, on_protocol)
    app.add_exception_handler(Exception, on_unexpected)
