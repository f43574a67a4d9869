"""Sliding-window rate limits, per client and global, shared by every worker, storing no address.

Theory of operation. A window of `W` seconds is cut into `PARTS` sub-windows ("slots"); a
request counts in its slot, and a check sums the last `PARTS` slots, so the limit holds over
any `W`-second span up to one slot's worth (at most `limit * (1 + 1/PARTS)` requests in any
`W` seconds, where a clock-minute counter allowed `2 * limit` across a boundary).

A client is counted under `tag = HMAC(k_e, scope || address)[:16]`, where `k_e` is the key of
the window epoch `e` the slot belongs to. The database limiter derives `k_e` from the server
secret (every worker and host agrees on it, so limits are shared); the memory limiter draws a
random base key per process. Keys change every window, so a tag links requests only within one
window, and rows are deleted as soon as their slot leaves the window: nothing outlives it. The
global count is kept per process under a random shard id (no row contention between workers)
and summed over all shards.

Two back ends: `DatabaseRateLimiter` (the default: the server's own PostgreSQL or SQLite, one
short transaction per check) and `MemoryRateLimiter` (per process, for a single worker or
tests). Behind a reverse proxy every client shares the proxy's address, so the global limit is
what bounds brute force there.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tracewarn.server.models import RateLimitHit

__all__ = [
    "PARTS",
    "DatabaseRateLimiter",
    "MemoryRateLimiter",
    "RateLimiter",
    "client_tag",
]

PARTS = 10
_GLOBAL_SHARDS = 8
_REQUEST, _GLOBAL, _FAILURE = "request", "global", "failure"


class RateLimiter(Protocol):
    # True when a check does I/O: async callers run it in a thread.
    blocking: bool

    def allow(self, client: str | None) -> bool:
        """Count one request from `client`; False if it or everybody is over the limit."""
        ...

    def failure_allowed(self, client: str | None) -> bool:
        """False if `client` already failed authentication too often in the window."""
        ...

    def record_failure(self, client: str | None) -> None: ...


def client_tag(epoch_key: bytes, scope: str, client: str) -> bytes:
    """The 16-byte keyed hash a client is counted under; the address itself is never kept."""
    return hmac.new(epoch_key, f"{scope}\x00{client}".encode(), hashlib.sha256).digest()[:16]


class _Slots:
    """Slot arithmetic and per-epoch keys shared by both back ends."""

    def __init__(
        self, window_seconds: float, clock: Callable[[], float], epoch_key: Callable[[int], bytes]
    ) -> None:
        self.window = window_seconds
        self.clock = clock
        self._epoch_key = epoch_key
        self._keys: dict[int, bytes] = {}

    def current(self) -> int:
        if self.window <= 0:
            return 0
        return int(self.clock() * PARTS // self.window)

    def tags(self, scope: str, client: str, slot: int) -> tuple[bytes, bytes]:
        """(tag in the current epoch, tag in the previous one): the window spans both."""
        epoch = slot // PARTS
        return (
            client_tag(self._key(epoch), scope, client),
            client_tag(self._key(epoch - 1), scope, client),
        )

    def _key(self, epoch: int) -> bytes:
        key = self._keys.get(epoch)
        if key is None:
            # Only the two epochs a window can span are kept; older keys are forgotten.
            self._keys = {e: k for e, k in self._keys.items() if e >= epoch - 1}
            key = self._keys[epoch] = self._epoch_key(epoch)
        return key


class MemoryRateLimiter:
    """Per-process sliding windows (one worker, or tests); a random key per process."""

    blocking = False

    def __init__(
        self,
        *,
        per_client: int,
        global_limit: int,
        failures_per_client: int,
        window_seconds: float,
        clock: Callable[[], float],
    ) -> None:
        base = os.urandom(32)
        self._slots = _Slots(
            window_seconds,
            clock,
            lambda epoch: hmac.new(base, epoch.to_bytes(8, "big", signed=True), "sha256").digest(),
        )
        self._limits = {_REQUEST: per_client, _GLOBAL: global_limit, _FAILURE: failures_per_client}
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, bytes, int], int] = {}
        self._slot = -1

    def _prune(self, slot: int) -> None:
        if slot != self._slot:
            self._slot = slot
            self._hits = {k: v for k, v in self._hits.items() if k[2] > slot - PARTS}

    def _sum(self, scope: str, tags: tuple[bytes, ...], slot: int) -> int:
        return sum(
            v
            for (s, t, k), v in self._hits.items()
            if s == scope and t in tags and k > slot - PARTS
        )

    def _add(self, scope: str, tag: bytes, slot: int) -> None:
        self._hits[(scope, tag, slot)] = self._hits.get((scope, tag, slot), 0) + 1

    def allow(self, client: str | None) -> bool:
        with self._lock:
            slot = self._slots.current()
            self._prune(slot)
            self._add(_GLOBAL, b"", slot)
            if self._sum(_GLOBAL, (b"",), slot) > self._limits[_GLOBAL]:
                return False
            if client is None:
                return True
            tags = self._slots.tags(_REQUEST, client, slot)
            self._add(_REQUEST, tags[0], slot)
            return self._sum(_REQUEST, tags, slot) <= self._limits[_REQUEST]

    def failure_allowed(self, client: str | None) -> bool:
        if client is None:
            return True
        with self._lock:
            slot = self._slots.current()
            self._prune(slot)
            tags = self._slots.tags(_FAILURE, client, slot)
            return self._sum(_FAILURE, tags, slot) < self._limits[_FAILURE]

    def record_failure(self, client: str | None) -> None:
        if client is None:
            return
        with self._lock:
            slot = self._slots.current()
            self._add(_FAILURE, self._slots.tags(_FAILURE, client, slot)[0], slot)


# The counting statement on PostgreSQL. The CTE's upsert is not visible to the outer SELECT (one
# snapshot), so each sum adds this request's own hit. `set_config(..., true)` makes this
# transaction's commit asynchronous: the counter table is UNLOGGED (migration 0006) and dies with
# its window, so a check waits for no disk flush and leaves no WAL record of who was counted; a
# crash forgets at most one window's counts.
_PG_COUNT = """
WITH counted AS (
    INSERT INTO rate_limit_hit (scope, tag, slot, hits)
    VALUES {rows}
    ON CONFLICT (scope, tag, slot) DO UPDATE SET hits = rate_limit_hit.hits + 1
)
SELECT
    1 + coalesce(sum(hits) FILTER (WHERE scope = 'global'), 0),
    1 + coalesce(sum(hits) FILTER (WHERE scope = 'request' AND tag IN (:tag, :previous)), 0),
    set_config('synchronous_commit', 'off', true)
FROM rate_limit_hit
WHERE scope IN ('global', 'request') AND slot > :low
"""
_PG_COUNT_GLOBAL = sa.text(_PG_COUNT.format(rows="('global', :shard, :slot, 1)"))
_PG_COUNT_BOTH = sa.text(
    _PG_COUNT.format(rows="('global', :shard, :slot, 1), ('request', :tag, :slot, 1)")
)


class DatabaseRateLimiter:
    """Sliding windows in the `rate_limit_hit` table, shared by all workers and hosts."""

    blocking = True

    def __init__(
        self,
        engine: Engine,
        *,
        epoch_key: Callable[[int], bytes],
        per_client: int,
        global_limit: int,
        failures_per_client: int,
        window_seconds: float,
        clock: Callable[[], float],
    ) -> None:
        self._engine = engine
        self._slots = _Slots(window_seconds, clock, epoch_key)
        self._limits = {_REQUEST: per_client, _GLOBAL: global_limit, _FAILURE: failures_per_client}
        # This process's global-count rows: several random shards, so concurrent checks (of this
        # worker's threads, and of other workers) rarely wait for one another's row lock.
        self._shards = [os.urandom(16) for _ in range(_GLOBAL_SHARDS)]
        self._pruned = -1
        self._lock = threading.Lock()

    def _upsert(self, rows: list[dict[str, object]]) -> sa.Executable:
        if self._engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(RateLimitHit).values(rows)
            return pg.on_conflict_do_update(
                index_elements=["scope", "tag", "slot"], set_={"hits": RateLimitHit.hits + 1}
            )
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(RateLimitHit).values(rows)
        return lite.on_conflict_do_update(
            index_elements=["scope", "tag", "slot"], set_={"hits": RateLimitHit.hits + 1}
        )

    def _maybe_prune(self, conn: sa.Connection, slot: int) -> None:
        # Once per slot per process: rows whose slot left the window go at once.
        with self._lock:
            if slot == self._pruned:
                return
            self._pruned = slot
        conn.execute(sa.delete(RateLimitHit).where(RateLimitHit.slot <= slot - PARTS))

    def _sums(
        self, conn: sa.Connection, slot: int, wanted: list[tuple[str, tuple[bytes, ...]]]
    ) -> dict[str, int]:
        # One round trip for every scope: a filtered sum per scope over the window's rows.
        columns = []
        for scope, tags in wanted:
            condition = RateLimitHit.scope == scope
            if tags:
                condition = sa.and_(condition, RateLimitHit.tag.in_(tags))
            hits = sa.case((condition, RateLimitHit.hits), else_=0)
            columns.append(sa.func.coalesce(sa.func.sum(hits), 0))
        query = sa.select(*columns).where(
            RateLimitHit.scope.in_([scope for scope, _ in wanted]), RateLimitHit.slot > slot - PARTS
        )
        row = conn.execute(query).one()
        return {scope: int(value) for (scope, _), value in zip(wanted, row, strict=True)}

    def allow(self, client: str | None) -> bool:
        slot = self._slots.current()
        if self._engine.dialect.name == "postgresql":
            return self._allow_postgresql(client, slot)
        rows: list[dict[str, object]] = [
            {"scope": _GLOBAL, "tag": secrets.choice(self._shards), "slot": slot, "hits": 1}
        ]
        wanted: list[tuple[str, tuple[bytes, ...]]] = [(_GLOBAL, ())]
        if client is not None:
            tags = self._slots.tags(_REQUEST, client, slot)
            rows.append({"scope": _REQUEST, "tag": tags[0], "slot": slot, "hits": 1})
            wanted.append((_REQUEST, tags))
        with self._engine.begin() as conn:
            self._maybe_prune(conn, slot)
            conn.execute(self._upsert(rows))
            sums = self._sums(conn, slot, wanted)
        return all(count <= self._limits[scope] for scope, count in sums.items())

    def _allow_postgresql(self, client: str | None, slot: int) -> bool:
        # Every device request passes here, so on PostgreSQL the count and the check are one
        # statement (one round trip, a plain-text query with nothing to compile per call).
        shard = secrets.choice(self._shards)
        if client is None:
            tag = previous = shard  # the request-scope sum is then unused
        else:
            tag, previous = self._slots.tags(_REQUEST, client, slot)
        params = {
            "shard": shard,
            "tag": tag,
            "previous": previous,
            "slot": slot,
            "low": slot - PARTS,
        }
        with self._engine.connect() as conn:
            self._maybe_prune(conn, slot)
            statement = _PG_COUNT_GLOBAL if client is None else _PG_COUNT_BOTH
            total, own, _ = conn.execute(statement, params).one()
            conn.commit()
        if total > self._limits[_GLOBAL]:
            return False
        return client is None or own <= self._limits[_REQUEST]

    def _relax_durability(self, conn: sa.Connection) -> None:
        # A counter that dies with its window need not wait for a disk flush: on PostgreSQL the
        # table is UNLOGGED (migration 0006) and its commits asynchronous, so a check costs no
        # fsync and leaves no WAL record of who was counted. A crash forgets the window's counts,
        # which only errs towards letting a client through for at most one window.
        if self._engine.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))

    def failure_allowed(self, client: str | None) -> bool:
        if client is None:
            return True
        slot = self._slots.current()
        tags = self._slots.tags(_FAILURE, client, slot)
        with self._engine.connect() as conn:
            count = self._sums(conn, slot, [(_FAILURE, tags)])[_FAILURE]
        return count < self._limits[_FAILURE]

    def record_failure(self, client: str | None) -> None:
        if client is None:
            return
        slot = self._slots.current()
        tag = self._slots.tags(_FAILURE, client, slot)[0]
        with self._engine.begin() as conn:
            self._relax_durability(conn)
            conn.execute(self._upsert([{"scope": _FAILURE, "tag": tag, "slot": slot, "hits": 1}]))
