"""The reliability suite (issue 11): each failure class with its exact repro, plus fuzzing.

CI runs a few hundred cases per class; `TRACEWARN_RELIABILITY_FULL=1` multiplies them (see
docs/reliability.md). Fuzz loops run on SQLite (fast); the repros run on PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.server.conftest import T0, Server, make_server, payload_with_keys, server

__all__ = ["T0", "AsgiResult", "Server", "call_asgi", "cases", "payload_with_keys"]

FULL = os.environ.get("TRACEWARN_RELIABILITY_FULL") == "1"
_ = (make_server, server)  # fixtures re-exported for the tests in this folder


def cases(ci: int, full: int) -> int:
    """How many fuzz cases to run: `ci` normally, `full` with TRACEWARN_RELIABILITY_FULL=1."""
    return full if FULL else ci


@pytest.fixture
def fuzz_server(make_server: Any, database_url: str) -> Server:
    """A server for fuzz loops: SQLite only (the repro tests cover PostgreSQL), generous limits."""
    if not database_url.startswith("sqlite"):
        pytest.skip("fuzz loops run on SQLite; the repros run on both databases")
    srv: Server = make_server(rate_limit_per_client=10**9, rate_limit_global=10**9)
    return srv


@dataclass
class AsgiResult:
    status: int
    body: bytes
    received_bytes: int = 0
    receive_calls: int = 0
    headers: dict[bytes, bytes] = field(default_factory=dict)


def call_asgi(
    app: Any,
    method: str,
    path: str,
    *,
    chunks: Iterator[bytes] | list[bytes] = (),  # type: ignore[assignment]
    headers: list[tuple[bytes, bytes]] | None = None,
    disconnect_after: int | None = None,
    client: tuple[str, int] = ("192.0.2.1", 1234),
) -> AsgiResult:
    """Drive the app with a raw ASGI request whose body arrives in `chunks`, counting how much
    of the body the app pulled (a body limit must stop pulling early)."""
    source = iter(chunks)
    result = AsgiResult(status=0, body=b"")
    done = False

    async def receive() -> dict[str, Any]:
        nonlocal done
        result.receive_calls += 1
        if disconnect_after is not None and result.receive_calls > disconnect_after:
            return {"type": "http.disconnect"}
        if done:
            await asyncio.sleep(3600)  # a real server waits here until the client goes
        chunk = next(source, None)
        if chunk is None:
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        result.received_bytes += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = dict(message.get("headers", []))
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": b"",
        "root_path": "",
        "headers": headers or [],
        "client": client,
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=60))
    return result
