"""The two things a device must never take from the environment implicitly: time and randomness.

A device reads the time only through a `Clock` and draws bytes only through a `Randomness`, so
tests and the demo run on a simulated calendar with reproducible keys, while `tracewarn device`
uses the wall clock and the operating system's CSPRNG.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Protocol

__all__ = [
    "Clock",
    "ManualClock",
    "Randomness",
    "SeededRandomness",
    "SystemClock",
    "SystemRandomness",
]


class Clock(Protocol):
    """Source of the current moment (timezone-aware, UTC)."""

    def now(self) -> dt.datetime: ...


class Randomness(Protocol):
    """Source of random bytes for keys, nonces, padding and fake-traffic timing."""

    def token_bytes(self, n: int) -> bytes: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that moves only when told to; the simulator's and the tests' calendar."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware moments")
        self._now = moment.astimezone(dt.UTC)

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def sleep(self, seconds: float) -> None:
        """Waiting on a manual clock moves it on; nothing really sleeps."""
        self._now += dt.timedelta(seconds=seconds)


class SystemRandomness:
    """The operating system's CSPRNG: the only source a real device may use."""

    def token_bytes(self, n: int) -> bytes:
        return os.urandom(n)


class SeededRandomness:
    """Deterministic bytes from (seed, name): SHA-256 in counter mode.

    For the simulator and tests only. Anyone who knows the seed can recompute every key, which is
    exactly what a reproducible demo wants and what a real device must never do.
    """

    def __init__(self, seed: int, name: str) -> None:
        self._prefix = hashlib.sha256(f"tracewarn-sim|{seed}|{name}".encode()).digest()
        self._counter = 0
        self._buffer = b""

    def token_bytes(self, n: int) -> bytes:
        if n < 0:
            raise ValueError("n must be non-negative")
        while len(self._buffer) < n:
            block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            self._buffer += block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out
