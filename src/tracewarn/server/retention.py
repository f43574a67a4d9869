"""Retention: delete keys, reports, codes, tokens and packages older than 14 days.

Database rows go by their own clocks (release hour for keys and reports, creation and expiry for
codes and tokens). Published files go index-first: an index is rewritten without the old
entries before those files are deleted, so no index ever names a deleted file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from tracewarn.server.context import ServerContext
from tracewarn.server.distribution import layout
from tracewarn.server.distribution.routes import blob_name
from tracewarn.server.models import (
    CheckInReport,
    DiagnosisKey,
    FederationBatch,
    FederationSent,
    RegistrationToken,
    Tan,
    TeleTan,
    TestCode,
)

__all__ = ["CleanupReport", "cleanup"]


@dataclass
class CleanupReport:
    keys: int = 0
    reports: int = 0
    codes: int = 0
    teletans: int = 0
    tokens: int = 0
    tans: int = 0
    files: int = 0


def _count(result: sa.Result[object]) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


def cleanup(ctx: ServerContext, *, now: int | None = None) -> CleanupReport:
    """Apply `retention_days` (default 14) to the database and the published files."""
    now = ctx.now() if now is None else now
    cutoff = now - ctx.settings.retention_days * 86400
    cutoff_hour = cutoff // 3600
    out = CleanupReport()
    with ctx.sessions.begin() as session:
        out.keys = _count(
            session.execute(sa.delete(DiagnosisKey).where(DiagnosisKey.release_hour < cutoff_hour))
        )
        # A key was sent no earlier than released, so these marks name deleted keys only; the
        # import job resumes from batches of the last two days, so older rows are not needed.
        session.execute(sa.delete(FederationSent).where(FederationSent.sent_hour < cutoff_hour))
        session.execute(sa.delete(FederationBatch).where(FederationBatch.processed_at < cutoff))
        out.reports = _count(
            session.execute(
                sa.delete(CheckInReport).where(CheckInReport.release_hour < cutoff_hour)
            )
        )
        # A code lives as long as the registration tokens that poll its result (14 days).
        out.codes = _count(session.execute(sa.delete(TestCode).where(TestCode.created_at < cutoff)))
        out.teletans = _count(
            session.execute(
                sa.delete(TeleTan).where(
                    sa.or_(TeleTan.expires_at <= now, TeleTan.created_at < cutoff)
                )
            )
        )
        out.tokens = _count(
            session.execute(
                sa.delete(RegistrationToken).where(
                    sa.or_(
                        RegistrationToken.expires_at <= now, RegistrationToken.created_at < cutoff
                    )
                )
            )
        )
        out.tans = _count(
            session.execute(
                sa.delete(Tan).where(sa.or_(Tan.expires_at <= now, Tan.created_at < cutoff))
            )
        )
    for region in ctx.settings.published_regions:
        out.files += _cleanup_keys(ctx, region, cutoff_hour)
        out.files += _cleanup_warnings(ctx, region, cutoff_hour)
    return out


def _cleanup_keys(ctx: ServerContext, region: str, cutoff_hour: int) -> int:
    cutoff_day = layout.day_of(cutoff_hour)
    dates = layout.read_json(ctx.blobs, layout.date_index(region)) or []
    keep = [d for d in dates if d >= cutoff_day]
    if keep != dates:
        layout.write_json(ctx.blobs, layout.date_index(region), keep)
    deleted = 0
    prefix = blob_name(layout.date_index(region)).removesuffix("/index") + "/"
    old_days = sorted({name[len(prefix) :].split("/", 1)[0] for name in ctx.blobs.list(prefix)})
    for day in old_days:
        if not _is_day(day) or day >= cutoff_day:
            continue
        hour_index = blob_name(layout.hour_index(region, day))
        ctx.blobs.delete(hour_index)
        for name in ctx.blobs.list(prefix + day + "/"):
            ctx.blobs.delete(name)
            deleted += 1
    return deleted


def _is_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _cleanup_warnings(ctx: ServerContext, region: str, cutoff_hour: int) -> int:
    index = layout.read_json(ctx.blobs, layout.twp_index(region))
    if not index:
        return 0
    # When everything is old, the newest (empty or not) package stays so the index stays valid.
    oldest = min(max(index["oldest"], cutoff_hour), index["latest"])
    if oldest != index["oldest"]:
        layout.write_json(
            ctx.blobs, layout.twp_index(region), {"oldest": oldest, "latest": index["latest"]}
        )
    deleted = 0
    prefix = blob_name(layout.twp_index(region)).removesuffix("/index") + "/"
    for name in ctx.blobs.list(prefix):
        hour_text = name[len(prefix) :].split("/", 1)[0]
        if hour_text.isdigit() and int(hour_text) < oldest:
            ctx.blobs.delete(name)
            deleted += 1
    return deleted
