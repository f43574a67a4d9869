"""A plain sync `httpx.Client` talking to the app in-process, without ports.

`httpx.ASGITransport` is async-only (httpx 0.28) and starlette's TestClient now warns that it is
deprecated, so this runs the async transport on an event loop in a daemon thread (a forgotten
`close()` therefore cannot keep the interpreter from exiting). Devices, the demo
and tests use it exactly like a client pointed at a real server.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

__all__ = ["SyncASGITransport", "asgi_client"]


class SyncASGITransport(httpx.BaseTransport):
    """Runs each request through `httpx.ASGITransport(app)` on a private event-loop thread."""

    def __init__(self, app: Any, *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self._transport = httpx.ASGITransport(app=app, client=client)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="asgi-client", daemon=True
        )
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def run() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self._transport.handle_async_request(forwarded)
            content = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
            return response.status_code, response.headers.raw, content

        status, headers, content = asyncio.run_coroutine_threadsafe(run(), self._loop).result()
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def asgi_client(
    app: Any, *, base_url: str = "http://127.0.0.1", client: tuple[str, int] = ("127.0.0.1", 123)
) -> httpx.Client:
    """An `httpx.Client` for `app` (`client` is the address the app sees); close it (or use
    `with`) to stop its event loop thread."""
    return httpx.Client(transport=SyncASGITransport(app, client=client), base_url=base_url)
