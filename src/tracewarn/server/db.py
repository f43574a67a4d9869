"""Engine, sessions, migrations and the cross-process lock.

SQLite gets WAL and a busy timeout so the publisher and request workers can share the file;
PostgreSQL is reached through psycopg 3 (`postgresql+psycopg://`). Migrations run at start-up
under a lock, because two workers starting together would both try to create the tables.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["cross_process_lock", "make_engine", "make_sessionmaker", "upgrade_database"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_LOCK_IDS = {
    "migrate": 0x7472_0001,
    "publish": 0x7472_0002,
    "gateway-migrate": 0x7472_0011,
    "gateway-batching": 0x7472_0012,
    "federation": 0x7472_0013,
}


def make_engine(url: str) -> Engine:
    """An engine for `url`; a plain `postgresql://` URL is routed to psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # No pre-ping: it costs a round trip per request; stale connections are recycled instead.
    return sa.create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Deleted rows (redeemed TANs, moved staging rows) are overwritten with zeros, not left in
    # free pages where a copy of the file would still show them (docs/privacy.md).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: sa.Connection) -> None:
    # Take the write lock at BEGIN: a deferred transaction that reads, then writes after another
    # writer committed fails at once with SQLITE_BUSY (no busy wait), which would surface as a
    # 500 when two devices redeem codes at the same moment. SQLite has one writer anyway.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def cross_process_lock(engine: Engine, name: str, lock_dir: Path) -> Iterator[bool]:
    """Hold a named lock across processes; yields False (without blocking) if another holds it.

    PostgreSQL: a session advisory lock, so workers on other hosts are covered too. SQLite: an
    flock on a file beside the data, since only one host can share a SQLite file anyway.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = bool(
                conn.execute(
                    sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_IDS[name]}
                ).scalar()
            )
            try:
                yield got
            finally:
                if got:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_IDS[name]})
                conn.commit()
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def upgrade_database(
    engine: Engine,
    lock_dir: Path,
    *,
    migrations_dir: Path = MIGRATIONS_DIR,
    lock_name: str = "migrate",
) -> None:
    """Run `alembic upgrade head` on `engine`, waiting for another process doing the same.

    The backend's chain by default; the federation gateway passes its own chain and lock.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    for _ in range(600):
        with cross_process_lock(engine, lock_name, lock_dir) as got:
            if got:
                with engine.begin() as conn:
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                return
        import time

        time.sleep(0.1)
    raise TimeoutError("another process held the migration lock for a minute")
