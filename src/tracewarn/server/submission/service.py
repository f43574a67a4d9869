"""Storing a validated submission: the TAN consumed and the upload staged, in one transaction.

The upload lands in the staging area (`staging.py`) as one row; the publisher moves staged
uploads in shuffled batches into the published tables (`distribution.batch`), where a key still
valid at upload gets a release hour after its expiry plus the expiry policy (120 min), so no
package can carry it earlier (CWA server [docs/specifications.md#cwa-server], GAEN reference key server [docs/specifications.md#gaen-server]).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracewarn.protocol.verification import is_uuid4
from tracewarn.server.context import ServerContext
from tracewarn.server.models import DiagnosisKey, StagedUpload
from tracewarn.server.submission._pg import redeem_and_store_pg, redeem_and_store_pg_async
from tracewarn.server.submission.staging import pack_upload
from tracewarn.server.submission.validation import ValidSubmission
from tracewarn.server.verification.service import TanKind, redeem_tan

__all__ = [
    "distribution_hour",
    "insert_keys",
    "redeem_and_store",
    "redeem_and_store_async",
    "store_submission",
]


def distribution_hour(
    rolling_start_interval_number: int,
    rolling_period: int,
    *,
    submission_hour: int,
    expiry_policy_minutes: int,
) -> int:
    """First hour whose package may carry a key: ceil((expiry + policy) / 1 h), not before upload."""
    release = (rolling_start_interval_number + rolling_period) * 600 + expiry_policy_minutes * 60
    return max(submission_hour, -(-release // 3600))


def insert_keys(session: Session | Connection, rows: list[dict[str, object]]) -> None:
    """Insert key rows, skipping a key already stored with the same submission type (CWA PK)."""
    if not rows:
        return
    dialect = (
        session.dialect.name if isinstance(session, Connection) else session.get_bind().dialect.name
    )
    table = DiagnosisKey.__table__
    assert isinstance(table, sa.Table)
    # executemany with a cached statement: psycopg 3 pipelines it, and a multi-row VALUES
    # statement measured three times slower because SQLAlchemy recompiles it for every size.
    if dialect == "postgresql":
        session.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        session.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - only the two supported databases
        session.execute(sa.insert(table), rows)


def store_submission(
    session: Session | Connection, ctx: ServerContext, valid: ValidSubmission
) -> None:
    """Stage `valid`: one row, random id, the upload hour only as a lower bound (staging.py)."""
    session.execute(
        sa.insert(StagedUpload),
        {"id": ctx.random_bytes(16), "hour": ctx.now() // 3600, "payload": pack_upload(valid)},
    )


def redeem_and_store(
    ctx: ServerContext, *, tan: str | None, kind: TanKind, valid: ValidSubmission
) -> bool:
    """Consume `tan` and store `valid` in one transaction; False (nothing stored) if the TAN is
    unknown, used, expired or of another kind. Durable once this returns True."""
    if not tan:
        return False
    if ctx.engine.dialect.name != "postgresql":
        with ctx.engine.begin() as conn:
            if not redeem_tan(conn, ctx, tan=tan, kind=kind):
                return False
            store_submission(conn, ctx, valid)
        return True
    if not is_uuid4(tan):
        return False
    return redeem_and_store_pg(ctx.engine, _pg_params(ctx, tan, kind, valid))


async def redeem_and_store_async(
    ctx: ServerContext, *, tan: str | None, kind: TanKind, valid: ValidSubmission
) -> bool:
    """`redeem_and_store` without a worker thread; PostgreSQL only (SQLite has no async driver
    here, so its callers use the sync function in a thread)."""
    if ctx.engine.dialect.name != "postgresql":
        raise ValueError("redeem_and_store_async needs PostgreSQL")
    if not tan or not is_uuid4(tan):
        return False
    return await redeem_and_store_pg_async(
        ctx.engine,
        _pg_params(ctx, tan, kind, valid),
        connections=ctx.settings.upload_db_connections,
    )


def _pg_params(
    ctx: ServerContext, tan: str, kind: TanKind, valid: ValidSubmission
) -> dict[str, object]:
    now = ctx.now()
    return {
        "tan_hmac": ctx.box.mac("tan", tan),
        "kind": kind.value,
        "now": now,
        "id": ctx.random_bytes(16),
        "hour": now // 3600,
        "payload": pack_upload(valid),
    }
