"""Storing a validated submission: keys held back until expired, reports by upload hour.

The upload time is kept only as the hour (CWA's `submission_timestamp`), and a key still valid
at upload gets a `distribution_hour` after its expiry plus the expiry policy (120 min), so no
package can carry it earlier (cwa-risk-and-checkins.md §4.3, gaen.md §4.4).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracewarn.protocol.verification import is_uuid4
from tracewarn.server.context import ServerContext
from tracewarn.server.models import CheckInReport, DiagnosisKey
from tracewarn.server.submission._pg import redeem_and_store_pg, redeem_and_store_pg_async
from tracewarn.server.submission.validation import AcceptedKey, ValidSubmission
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


def _key_row(
    key: AcceptedKey, valid: ValidSubmission, ctx: ServerContext, hour: int
) -> dict[str, object]:
    return {
        "key_data": key.key_data,
        "submission_type": valid.submission_type,
        "rolling_start_interval_number": key.rolling_start_interval_number,
        "rolling_period": key.rolling_period,
        "transmission_risk_level": key.transmission_risk_level,
        "days_since_onset_of_symptoms": key.days_since_onset_of_symptoms,
        "submission_hour": hour,
        "distribution_hour": distribution_hour(
            key.rolling_start_interval_number,
            key.rolling_period,
            submission_hour=hour,
            expiry_policy_minutes=ctx.settings.expiry_policy_minutes,
        ),
        "consent_to_federation": valid.consent_to_federation,
        "origin_country": valid.origin,
        "visited_countries": ",".join(valid.visited_countries),
        "is_padding": False,
    }


def store_submission(
    session: Session | Connection, ctx: ServerContext, valid: ValidSubmission
) -> None:
    hour = ctx.now() // 3600
    insert_keys(session, [_key_row(k, valid, ctx, hour) for k in valid.keys])
    if valid.reports:
        session.execute(
            sa.insert(CheckInReport),
            [
                {
                    "location_id_hash": r.location_id_hash,
                    "iv": r.iv,
                    "encrypted_check_in_record": r.encrypted_check_in_record,
                    "mac": r.mac,
                    "region": ctx.settings.home_region,
                    "submission_hour": hour,
                }
                for r in valid.reports
            ],
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
    hour = now // 3600
    policy = ctx.settings.expiry_policy_minutes
    keys, reports = valid.keys, valid.reports
    return {
        "tan_hmac": ctx.box.mac("tan", tan),
        "kind": kind.value,
        "now": now,
        "submission_type": valid.submission_type,
        "hour": hour,
        "consent": valid.consent_to_federation,
        "origin": valid.origin,
        "visited": ",".join(valid.visited_countries),
        "key_data": b"".join(k.key_data for k in keys),
        "rsin": _ints(k.rolling_start_interval_number for k in keys),
        "period": _ints(k.rolling_period for k in keys),
        "trl": _ints(k.transmission_risk_level for k in keys),
        "dsos": _ints(k.days_since_onset_of_symptoms for k in keys),
        "distribution_hour": _ints(
            distribution_hour(
                k.rolling_start_interval_number,
                k.rolling_period,
                submission_hour=hour,
                expiry_policy_minutes=policy,
            )
            for k in keys
        ),
        "region": ctx.settings.home_region,
        "reports": b"".join(
            r.location_id_hash + r.iv + r.encrypted_check_in_record + r.mac for r in reports
        ),
    }


def _ints(values: Iterable[int]) -> str:
    return ",".join(map(str, values))
