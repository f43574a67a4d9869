"""What every request handler needs, built once per app: settings, database, clock, secrets."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tracewarn.server._secrets import SecretBox
from tracewarn.server.guard import RATE_CHECKED
from tracewarn.server.problems import Problem
from tracewarn.server.ratelimit import RateLimiter
from tracewarn.server.settings import Settings

if TYPE_CHECKING:
    from tracewarn.server.distribution.blobstore import BlobStore

__all__ = ["Ctx", "FakeTiming", "ServerContext", "get_context"]


class FakeTiming:
    """Delay for fake requests: one of the last real durations of the same endpoint.

    CWA draws a Poisson delay around the moving mean of the last 10 real durations. A mean says
    nothing about the shape (real durations have a long tail a Poisson draw lacks), so here a
    fake takes the duration of a real request drawn at random from the last `window` ones:
    fake and real durations then follow the same distribution (tests/privacy measures it).
    Until real requests have been seen the delay is `initial_seconds`.
    """

    def __init__(self, window: int = 50, initial_seconds: float = 0.010) -> None:
        self._samples: deque[float] = deque([initial_seconds], maxlen=window)
        self._lock = threading.Lock()

    def record(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(seconds)

    def delay(self) -> float:
        with self._lock:
            samples = list(self._samples)
        return samples[int(_uniform() * len(samples)) % len(samples)]


def _uniform() -> float:
    return int.from_bytes(os.urandom(7), "big") / 2**56


@dataclass
class ServerContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    box: SecretBox
    clock: Callable[[], float]
    limiter: RateLimiter
    blobs: BlobStore
    random_bytes: Callable[[int], bytes] = os.urandom
    fake_timing: dict[str, FakeTiming] = field(default_factory=dict)

    def now(self) -> int:
        return int(self.clock())

    def timing(self, family: str) -> FakeTiming:
        return self.fake_timing.setdefault(family, FakeTiming())

    def rate_limit(self, request: Request) -> None:
        if request.scope.get(RATE_CHECKED):
            return  # the request guard counted it before the body was read
        host = request.client.host if request.client else None
        if not self.limiter.allow(host):
            raise Problem(
                429,
                "rate-limited",
                "too many requests; try again later",
                headers={"Retry-After": "60"},
            )

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def get_context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServerContext, Depends(get_context)]
