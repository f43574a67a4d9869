"""PostgreSQL upload in one statement: consume the TAN and stage the upload atomically.

Data-modifying CTEs run as one statement, so the TAN delete and the staging insert commit or
fail together; the insert selects from the DELETE's RETURNING, so nothing is stored unless this very
statement consumed the TAN (a racing upload with the same TAN waits on the row lock, then finds
it gone and inserts nothing). The statement runs in autocommit mode: PostgreSQL commits it (and,
with `synchronous_commit` on, flushes the WAL) before it answers, so a 2xx follows a durable
commit.

The request handler awaits it on psycopg's async connection, so an upload needs no worker
thread: handing each request to the thread pool and back left both worker processes half
idle under load (GIL hand-offs between the event loop and the threads), see docs/server.md,
"Performance". Connections are pooled per event loop, because tests run several loops.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = ["redeem_and_store_pg", "redeem_and_store_pg_async"]


# The upload is staged as one packed row (staging.py); the INSERT selects from the DELETE's
# RETURNING, so nothing is staged unless this very statement consumed the TAN.
_SQL = """
WITH t AS (
    DELETE FROM tan
    WHERE tan_hmac = %(tan_hmac)b AND kind = %(kind)s AND expires_at > %(now)s
    RETURNING 1 AS ok
), s AS (
    INSERT INTO staged_upload (id, hour, payload)
    SELECT %(id)b, %(hour)s, %(payload)b
    WHERE EXISTS (SELECT 1 FROM t)
)
SELECT count(*) FROM t
"""


def redeem_and_store_pg(engine: Engine, params: dict[str, Any]) -> bool:
    """Run the upload statement with `params`; True when the TAN was consumed (and data stored).

    Uses the pooled psycopg connection directly: the statement is fixed, so SQLAlchemy's
    compilation and result machinery would only add CPU to the hot path.
    """
    pooled = engine.raw_connection()
    try:
        driver: Any = pooled.driver_connection
        # The pool hands out idle connections (reset by rollback on return), so autocommit can
        # be switched here; it is switched back before the connection returns to the pool.
        driver.autocommit = True
        try:
            with driver.cursor() as cursor:
                cursor.execute(_SQL, params)
                row = cursor.fetchone()
        finally:
            driver.autocommit = False
    finally:
        pooled.close()
    return bool(row and row[0] == 1)


async def redeem_and_store_pg_async(
    engine: Engine, params: dict[str, Any], *, connections: int
) -> bool:
    """`redeem_and_store_pg` on an async connection from the engine's per-loop pool of at most
    `connections`; further uploads wait for a free one in this process."""
    pool = _pool_for(engine, connections)
    conn = await pool.acquire()
    ok = False
    try:
        cursor = conn.cursor()
        try:
            await cursor.execute(_SQL, params)
            row = await cursor.fetchone()
        finally:
            await cursor.close()
        ok = True
    finally:
        pool.release(conn, reusable=ok)
    return bool(row and row[0] == 1)


class _LoopPool:
    """Autocommit connections for one event loop, at most `size` at a time."""

    def __init__(self, connect_kwargs: dict[str, Any], size: int) -> None:
        self._kwargs = connect_kwargs
        self._free: deque[psycopg.AsyncConnection[Any]] = deque()
        self._all: set[psycopg.AsyncConnection[Any]] = set()
        self._slots = asyncio.Semaphore(size)

    async def acquire(self) -> psycopg.AsyncConnection[Any]:
        await self._slots.acquire()
        try:
            while self._free:
                conn = self._free.popleft()
                if not conn.closed:
                    return conn
                self._all.discard(conn)
            conn = await psycopg.AsyncConnection.connect(autocommit=True, **self._kwargs)
            self._all.add(conn)
            return conn
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: psycopg.AsyncConnection[Any], *, reusable: bool) -> None:
        # A connection whose statement failed may be mid-protocol; drop it rather than reuse.
        if reusable and not conn.closed:
            self._free.append(conn)
        else:
            self._all.discard(conn)
            conn.pgconn.finish()
        self._slots.release()

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        # Synchronous on purpose: the engine is disposed from whatever thread or loop ends the app.
        for conn in self._all:
            conn.pgconn.finish()
        self._all.clear()
        self._free.clear()


_pools: weakref.WeakKeyDictionary[Engine, weakref.WeakKeyDictionary[Any, _LoopPool]] = (
    weakref.WeakKeyDictionary()
)


def _pool_for(engine: Engine, size: int) -> _LoopPool:
    loop = asyncio.get_running_loop()
    per_loop = _pools.get(engine)
    if per_loop is None:
        per_loop = _pools[engine] = weakref.WeakKeyDictionary()
        event.listen(engine, "engine_disposed", _close_pools)
    pool = per_loop.get(loop)
    if pool is None:
        _args, kwargs = engine.dialect.create_connect_args(engine.url)
        pool = per_loop[loop] = _LoopPool(dict(kwargs), size)
    return pool


def _close_pools(engine: Engine) -> None:
    for pool in list(_pools.get(engine, {}).values()):
        pool.close()
