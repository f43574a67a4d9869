"""What every request handler needs, built once per app: settings, database, clock, secrets."""

from __future__ import annotations

import math
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
    """Delay for fake requests: Poisson around the moving mean of real durations (CWA's rule).

    The mean starts at 10 ms and follows the last 10 real requests of the same endpoint family.
    """

    def __init__(self, window: int = 10, initial_seconds: float = 0.010) -> None:
        self._samples: deque[float] = deque([initial_seconds], maxlen=window)
        self._lock = threading.Lock()

    def record(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(seconds)

    def delay(self) -> float:
        with self._lock:
            mean_ms = 1000.0 * sum(self._samples) / len(self._samples)
        return _poisson(mean_ms) / 1000.0


def _poisson(mean: float) -> int:
    # Knuth's method in log space for small means; normal approximation above, bounded either way.
    if mean <= 0:
        return 0
    if mean > 50:
        u1, u2 = _uniform(), _uniform()
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)
        return max(0, round(mean + z * math.sqrt(mean)))
    limit, k, product = math.exp(-mean), 0, _uniform()
    while product > limit and k < 1000:
        k += 1
        product *= _uniform()
    return k


def _uniform() -> float:
    return (int.from_bytes(os.urandom(7), "big") + 1) / (2**56 + 1)


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
