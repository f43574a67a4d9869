"""In-memory rate limits, per client and global, that never store an address.

A client is counted under `HMAC(k, address)[:16]` where `k` is random, lives only in this
process's memory and is replaced whenever the window rolls over; the counters are dropped at
the same moment. So nothing persists, nothing survives a window, and even a memory dump maps a
counter back to an address only by guessing addresses for the current window. Limits are per
worker process; the global limit therefore scales with the number of workers (documented in
docs/server.md). Behind a reverse proxy every client shares the proxy's address, so the global
limit is what bounds brute force there.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(
        self,
        *,
        per_client: int,
        global_limit: int,
        window_seconds: float,
        clock: Callable[[], float],
    ) -> None:
        self._per_client = per_client
        self._global = global_limit
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._window_index = -1
        self._key = b""
        self._counts: dict[bytes, int] = {}
        self._total = 0

    def allow(self, client: str | None) -> bool:
        """Count one request from `client`; False if it or everybody is over the limit."""
        with self._lock:
            index = int(self._clock() // self._window) if self._window > 0 else 0
            if index != self._window_index:
                self._window_index = index
                self._key = os.urandom(32)
                self._counts = {}
                self._total = 0
            self._total += 1
            if self._total > self._global:
                return False
            if client is None:
                return True
            tag = hmac.new(self._key, client.encode(), hashlib.sha256).digest()[:16]
            count = self._counts.get(tag, 0) + 1
            self._counts[tag] = count
            return count <= self._per_client
