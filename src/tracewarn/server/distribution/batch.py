"""Moving staged uploads into the published tables: large, shuffled batches that forget order.

Theory of operation (docs/privacy.md, "Storage order"). An upload commits as one staging row
(`submission.staging`); until the publisher moves it, that row is the one place where the
upload's keys sit together. `move_staged` moves every committed staging row at once, but only
when at least `min_uploads_per_batch` are waiting: it unpacks them, shuffles all their keys and
all their reports together, inserts them in that order with random ids into tables without
rowid, and deletes the staging rows, in ONE transaction. So on PostgreSQL every moved row shares
one `xmin` and the heap order is the shuffle; on SQLite the rows sit in key order (random bytes)
and, with `secure_delete` on, the deleted staging rows are overwritten; the WAL is then
checkpointed and truncated, so it no longer holds one transaction per upload.

Which package a key or report lands in is decided by what is not published yet, never by a time
taken at upload: a row gets a release hour no earlier than the publisher's watermark (the first
hour not packaged yet, `PublicationState`), so an upload that committed late, after its hour
was packaged, goes into the next package instead of being skipped (issue 11, item 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracewarn.server.context import ServerContext
from tracewarn.server.distribution._random import shuffle
from tracewarn.server.models import CheckInReport, PublicationState, StagedUpload
from tracewarn.server.submission.service import distribution_hour, insert_keys
from tracewarn.server.submission.staging import unpack_upload

__all__ = ["BatchReport", "forget_history", "get_state", "move_staged", "set_state"]

WATERMARK = "watermark"
PENDING_CHECKIN_UPLOADS = "pending_checkin_uploads"


@dataclass
class BatchReport:
    uploads: int = 0
    keys: int = 0
    reports: int = 0
    checkpoint: str = ""


def get_state(conn: Connection, name: str) -> int | None:
    value = conn.execute(
        sa.select(PublicationState.value).where(PublicationState.slot == name)
    ).scalar()
    return None if value is None else int(value)


def set_state(conn: Connection, name: str, value: int) -> None:
    updated = conn.execute(
        sa.update(PublicationState).where(PublicationState.slot == name).values(value=value)
    )
    if updated.rowcount == 0:
        conn.execute(sa.insert(PublicationState).values(slot=name, value=value))


def move_staged(ctx: ServerContext) -> BatchReport:
    """Move all staged uploads in one shuffled transaction, if at least a batch is waiting.

    Runs under the publisher's lock. Rows staged while it runs are not seen by its SELECT and
    are not deleted (deletion is by id): they wait for the next batch.
    """
    s = ctx.settings
    out = BatchReport()
    with ctx.engine.begin() as conn:
        staged = conn.execute(
            sa.select(StagedUpload.id, StagedUpload.hour, StagedUpload.payload)
        ).all()
        if not staged or len(staged) < s.min_uploads_per_batch:
            return out
        watermark = get_state(conn, WATERMARK)
        floor = watermark if watermark is not None else min(int(r.hour) for r in staged)
        keys: list[dict[str, object]] = []
        reports: list[dict[str, object]] = []
        with_reports = 0
        for row in staged:
            upload = unpack_upload(bytes(row.payload))
            lower = max(int(row.hour), floor)
            for k in upload.keys:
                if k.transmission_risk_level < s.min_published_trl:
                    continue  # never published, so never stored
                release = distribution_hour(
                    k.rolling_start_interval_number,
                    k.rolling_period,
                    submission_hour=lower,
                    expiry_policy_minutes=s.expiry_policy_minutes,
                )
                if release - lower > s.days_to_publish * 24:
                    continue
                keys.append(
                    {
                        "key_data": k.key_data,
                        "submission_type": upload.submission_type,
                        "rolling_start_interval_number": k.rolling_start_interval_number,
                        "rolling_period": k.rolling_period,
                        "transmission_risk_level": k.transmission_risk_level,
                        "release_hour": release,
                        "package_hour": None,
                        "consent_to_federation": upload.consent_to_federation,
                        "origin_country": upload.origin,
                        "visited_countries": upload.visited_countries,
                        "is_padding": False,
                    }
                )
            with_reports += bool(upload.reports)
            reports += [
                {
                    "location_hash": r.location_id_hash,
                    "iv": r.iv,
                    "record": r.encrypted_check_in_record,
                    "mac": r.mac,
                }
                for r in upload.reports
            ]
        shuffle(keys, ctx.random_bytes)
        shuffle(reports, ctx.random_bytes)
        insert_keys(conn, keys)
        if reports:
            # Reports are released at the floor: they have no validity to wait for, and a common
            # release hour keeps the upload counter below true for every pending report.
            conn.execute(
                sa.insert(CheckInReport),
                [
                    {
                        "id": ctx.random_bytes(16),
                        "location_id_hash": r["location_hash"],
                        "iv": r["iv"],
                        "encrypted_check_in_record": r["record"],
                        "mac": r["mac"],
                        "region": s.home_region,
                        "release_hour": floor,
                        "package_hour": None,
                    }
                    for r in reports
                ],
            )
            pending = get_state(conn, PENDING_CHECKIN_UPLOADS) or 0
            set_state(conn, PENDING_CHECKIN_UPLOADS, pending + with_reports)
        conn.execute(
            sa.delete(StagedUpload).where(StagedUpload.id == sa.bindparam("sid")),
            [{"sid": row.id} for row in staged],
        )
        out = BatchReport(len(staged), len(keys), len(reports))
    out.checkpoint = forget_history(ctx)
    return out


def forget_history(ctx: ServerContext) -> str:
    """Checkpoint and truncate SQLite's WAL; vacuum the staging table on PostgreSQL."""
    if ctx.engine.dialect.name == "sqlite":
        # On the raw connection: SQLAlchemy would wrap it in BEGIN IMMEDIATE (db.py), and a
        # checkpoint cannot run inside a transaction.
        raw = ctx.engine.raw_connection()
        try:
            cursor = raw.cursor()
            row = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        # (busy, log frames, checkpointed frames): busy = a reader kept part of the WAL alive.
        return "truncated" if row is not None and row[0] == 0 else "busy"
    if ctx.engine.dialect.name == "postgresql":
        # Dead staging tuples hold whole uploads until vacuumed: reclaim them now.
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM staged_upload")
        return "vacuumed"
    return ""  # pragma: no cover
