"""What the admin page shows: publication status, signing keys and counts per day.

Everything here is an aggregate or public already: counts per UTC day of lab results, teleTANs,
keys and check-in reports released for publication (padding excluded), uploads still staged, what the CDN indexes name, and the public
halves of the signing keys. No row is shown, so nothing can be tied to a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tracewarn.server.context import ServerContext
from tracewarn.server.distribution import layout
from tracewarn.server.models import (
    CheckInReport,
    DiagnosisKey,
    SigningKey,
    StagedUpload,
    TeleTan,
    TestCode,
)

__all__ = ["AdminOverview", "admin_overview"]

_DAYS_SHOWN = 14


@dataclass
class AdminOverview:
    regions: list[dict[str, Any]] = field(default_factory=list)
    signing_keys: list[dict[str, Any]] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)
    staged_uploads: int = 0


def _day(unix_seconds: int) -> str:
    return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).date().isoformat()


def _time(unix_seconds: int | None) -> str:
    if unix_seconds is None:
        return ""
    return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _counts_by_day(conn: sa.Connection, day_expr: Any, *where: Any) -> dict[int, int]:
    query = sa.select(day_expr, sa.func.count()).where(*where).group_by(day_expr)
    return {int(day): int(count) for day, count in conn.execute(query)}


def admin_overview(ctx: ServerContext) -> AdminOverview:
    """Everything the admin page lists, read in one connection."""
    overview = AdminOverview()
    today = ctx.now() // 86400
    first = today - _DAYS_SHOWN + 1
    with ctx.engine.connect() as conn:
        results = _counts_by_day(
            conn, TestCode.created_at / 86400, TestCode.created_at >= first * 86400
        )
        teletans = _counts_by_day(
            conn, TeleTan.created_at / 86400, TeleTan.created_at >= first * 86400
        )
        # Keys and reports count on the day a batch released them (uploads have no time).
        keys = _counts_by_day(
            conn,
            DiagnosisKey.release_hour / 24,
            DiagnosisKey.release_hour >= first * 24,
            DiagnosisKey.is_padding.is_(False),
        )
        reports = _counts_by_day(
            conn, CheckInReport.release_hour / 24, CheckInReport.release_hour >= first * 24
        )
        overview.staged_uploads = int(
            conn.scalar(sa.select(sa.func.count()).select_from(StagedUpload)) or 0
        )
        keys_rows = conn.execute(
            sa.select(SigningKey).order_by(SigningKey.region, SigningKey.id)
        ).all()
    for day in range(today, first - 1, -1):
        overview.days.append(
            {
                "date": _day(day * 86400),
                "lab_results": results.get(day, 0),
                "teletans": teletans.get(day, 0),
                "released_keys": keys.get(day, 0),
                "checkin_reports": reports.get(day, 0),
            }
        )
    for row in keys_rows:
        overview.signing_keys.append(
            {
                "region": row.region,
                "key_id": row.key_id,
                "key_version": row.key_version,
                "created": _time(row.created_at),
                "retired": _time(row.retired_at),
                "public_key_pem": row.public_key_pem,
            }
        )
    for region in ctx.settings.regions:
        dates = layout.read_json(ctx.blobs, layout.date_index(region)) or []
        twp = layout.read_json(ctx.blobs, layout.twp_index(region)) or {}
        latest_hour = twp.get("latest")
        overview.regions.append(
            {
                "region": region,
                "daily_packages": len(dates),
                "latest_day": dates[-1] if dates else "none yet",
                "latest_warning_hour": _time(latest_hour * 3600) if latest_hour else "none yet",
            }
        )
    return overview
