"""The outermost request guard: body limits while streaming, rate limits before parsing, no traces.

A pure ASGI middleware (no `BaseHTTPMiddleware`, which buffers and re-raises) that sits inside
Starlette's `ServerErrorMiddleware` and in front of everything else:

* **Body limits.** Every request has a limit by path (uploads `max_request_bytes`, every other
  endpoint `max_json_request_bytes`). A declared `Content-Length` over it is answered 413 before
  one body byte is read; a chunked or lying body is counted as it streams in and the request is
  cut off with 413 as soon as it passes the limit. So no endpoint ever holds more than its limit
  of one request in memory, with or without credentials.
* **Rate limits before parsing.** Device-facing POSTs are counted (see `ratelimit.py`) before the
  route reads or parses the body; over the limit they get 429 without it being read.
* **Path segments** under `/version/` are checked against the names the publisher writes (at
  most 64 characters each, no dots in front) before any route can reach the blob store: 404.
* **No tracebacks, no request data in logs.** A client that disconnects mid-body is logged as one
  line without any detail; any other unexpected error as one line with its type only, answered
  with a 500 problem if the response has not started. Nothing is re-raised, so uvicorn never
  prints a traceback (which would carry exception messages with paths or request content).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import ClientDisconnect

from tracewarn.server.problems import problem_bytes

__all__ = ["RATE_LIMITED_PATHS", "SUBMISSION_PATHS", "RequestGuard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = logging.getLogger("tracewarn.server")

SUBMISSION_PATHS = frozenset({"/version/v1/diagnosis-keys", "/version/v1/submission-on-behalf"})
# Endpoints devices call with cwa-fake: every request (real or fake) counts, before parsing.
RATE_LIMITED_PATHS = SUBMISSION_PATHS | {
    "/version/v1/registrationToken",
    "/version/v1/testresult",
    "/version/v1/tan",
    # Web forms that rate limit themselves (web/): counted here, off the event loop.
    "/venue",
    "/login",
}
RATE_CHECKED = "tracewarn.rate_checked"


class _BodyTooLarge(Exception):  # noqa: N818 - internal signal, never leaves this module
    pass


class RequestGuard:
    """Wraps the app; `limit_for(path)` is the body limit, `rate_limit(scope)` False when over."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit_for: Callable[[str], int],
        rate_limit: Callable[[Scope], Awaitable[bool]],
        response_size: int,
    ) -> None:
        self.app = app
        self._limit_for = limit_for
        self._rate_limit = rate_limit
        self._size = response_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path.startswith("/version/") and not _published_path_ok(path):
            # Checked before any route can turn it into a file name (ENAMETOOLONG was a 500).
            await self._problem(send, 404, "not-found", "nothing is published at this path")
            return
        limit = self._limit_for(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._problem(send, 413, "payload-too-large", _too_large(limit))
            return
        if scope.get("method") == "POST" and path in RATE_LIMITED_PATHS:
            if not await self._rate_limit(scope):
                await self._problem(
                    send,
                    429,
                    "rate-limited",
                    "too many requests; try again later",
                    retry_after=True,
                )
                return
            scope[RATE_CHECKED] = True

        received = 0
        started = over = False
        body_pending = (declared or 0) > 0 or _has_header(scope, b"transfer-encoding")

        async def limited_receive() -> Message:
            nonlocal received, over, body_pending
            message = await receive()
            if message["type"] == "http.request":
                body_pending = bool(message.get("more_body", False))
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if over:
                # Frameworks turn any error while reading the body into their own 400; the
                # answer to an over-long body is 413 whatever the route made of it.
                if not started:
                    started = True
                    await self._problem(send, 413, "payload-too-large", _too_large(limit))
                return
            if message["type"] == "http.response.start":
                started = True
                if body_pending:
                    # Answered without reading the body (no API key, rate limited): close the
                    # connection, or the server would read and discard all of it to reuse it.
                    headers = [*message.get("headers", []), (b"connection", b"close")]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._problem(send, 413, "payload-too-large", _too_large(limit))
        except ClientDisconnect:
            # Routine on mobile networks; nothing about the client or request is worth keeping.
            _log.warning("client disconnected before the request body was complete")
        except Exception as exc:
            # The type only: messages can echo paths or request content.
            _log.error("internal error: %s", type(exc).__name__)
            if not started:
                await self._problem(send, 500, "internal-error", "internal error")

    async def _problem(
        self, send: Send, status: int, slug: str, detail: str, *, retry_after: bool = False
    ) -> None:
        body = problem_bytes(status, slug, detail, size=self._size)
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            # The unread rest of the body is not drained: the connection is not reused.
            (b"connection", b"close"),
        ]
        if retry_after:
            headers.append((b"retry-after", b"60"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# Every name the API and the publisher use (`v1`, `diagnosis-keys`, `DE`, `2026-11-27`, `10`,
# `index`, `signing-keys`) fits this; anything else cannot name a published file.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_PATH_LENGTH = 300


def _published_path_ok(path: str) -> bool:
    if len(path) > MAX_PATH_LENGTH:
        return False
    parts = path.removeprefix("/version/").removesuffix("/").split("/")
    return all(_SEGMENT.fullmatch(part) for part in parts)


def _has_header(scope: Scope, wanted: bytes) -> bool:
    return any(name == wanted for name, _ in scope.get("headers", ()))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _too_large(limit: int) -> str:
    return f"requests to this endpoint are limited to {limit} bytes"
