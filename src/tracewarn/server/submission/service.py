"""Storing a validated submission: keys held back until expired, reports by upload hour.

The upload time is kept only as the hour (CWA's `submission_timestamp`), and a key still valid
at upload gets a `distribution_hour` after its expiry plus the expiry policy (120 min), so no
package can carry it earlier (cwa-risk-and-checkins.md §4.3, gaen.md §4.4).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracewarn.server.context import ServerContext
from tracewarn.server.models import CheckInReport, DiagnosisKey
from tracewarn.server.submission.validation import AcceptedKey, ValidSubmission

__all__ = ["distribution_hour", "insert_keys", "store_submission"]


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
