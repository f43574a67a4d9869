"""Real and fake (`cwa-fake: 1`) requests answered alike: same status, size and timing.

A fake waits the duration of a recent real request of the same endpoint (`FakeTiming`) and does
no database work. Doing the real request's database round trip with a random secret was tried:
the fake's latency then became the longer of two draws and a flow classifier told fakes apart
(tests/privacy); what an observer can measure is the timing, so the timing is what is matched. The `cwa-fake` header itself is visible to whoever runs the server, by CWA's
design: fakes hide uploads from observers of the encrypted traffic, not from the server's
operator (docs/privacy.md, "Fake uploads").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from tracewarn.server.context import ServerContext
from tracewarn.server.problems import padded_json

__all__ = ["answer", "answer_async", "is_fake"]


def is_fake(request: Request) -> bool:
    return request.headers.get("cwa-fake", "0").strip() not in ("", "0")


def answer(
    ctx: ServerContext,
    request: Request,
    *,
    family: str,
    status: int,
    real: Callable[[], dict[str, Any]],
    fake: Callable[[], dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> Response:
    """Run `real` and time it, or sleep like a real request and return `fake`'s payload.

    Rate limits count fakes too, so a 429 cannot tell them apart either. Nothing is stored for
    a fake: `fake` only builds a payload of the same shape.
    """
    ctx.rate_limit(request)
    size = ctx.settings.response_size_bytes
    if is_fake(request):
        ctx.sleep(ctx.timing(family).delay())
        return padded_json(fake(), size=size, status=status, headers=headers)
    started = time.perf_counter()
    payload = real()
    ctx.timing(family).record(time.perf_counter() - started)
    return padded_json(payload, size=size, status=status, headers=headers)


async def answer_async(
    ctx: ServerContext,
    request: Request,
    *,
    family: str,
    status: int,
    real: Callable[[], Awaitable[dict[str, Any]]],
    fake: Callable[[], dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> Response:
    """`answer` for a `real` that is awaited on the event loop; fakes sleep without a thread."""
    ctx.rate_limit(request)
    size = ctx.settings.response_size_bytes
    if is_fake(request):
        await asyncio.sleep(ctx.timing(family).delay())
        return padded_json(fake(), size=size, status=status, headers=headers)
    started = time.perf_counter()
    payload = await real()
    ctx.timing(family).record(time.perf_counter() - started)
    return padded_json(payload, size=size, status=status, headers=headers)
