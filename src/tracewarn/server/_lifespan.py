"""A FastAPI lifespan that runs an app's scheduled jobs in one background thread.

The backend (publish, cleanup, federation) and the federation gateway (batching, callbacks,
retention) both schedule their jobs this way; the thread stops with the app.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

__all__ = ["scheduled_lifespan"]


def scheduled_lifespan(
    schedule: Callable[[threading.Event], None] | None,
    *,
    name: str,
    on_exit: Callable[[], None],
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """`schedule(stop)` runs in a daemon thread until `stop` is set at shutdown (None: no
    thread); `on_exit` runs after it has ended (e.g. disposing of the engine)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if schedule is not None:
            thread = threading.Thread(target=schedule, args=(stop,), name=name, daemon=True)
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=30)
            on_exit()

    return lifespan
