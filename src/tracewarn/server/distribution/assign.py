"""Deciding which package carries which pending key and report: thresholds and padding.

Theory of operation (docs/privacy.md, "Publication"). Every hour from the watermark (the first
hour not packaged yet) to the last complete hour is considered once, in one transaction that
also moves the watermark, so a package's content is fixed before any file is written:

- Keys: an hour gets a package only when at least `min_keys_to_publish` real keys are pending
  (released by then and not yet packaged); otherwise they wait and merge into a later hour
  (CWA's shifting policy). As one upload has at most 15 keys, 140 keys come from at least 10
  uploads. Each region's package is then padded up to `min_keys_per_package` with random keys
  whose fields are drawn from keys published earlier (a population-wide distribution, public
  already), never from the hour's own keys, so padding tells nothing about this hour's uploads.
- Check-in reports: released to a package only when they come from at least
  `min_uploads_to_publish_checkins` uploads (a counter kept by the batch move, since no row says
  which upload it came from); otherwise the hour's warning package is empty and they wait.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracewarn.protocol.gaen.keys import EKROLLING_PERIOD
from tracewarn.server.context import ServerContext
from tracewarn.server.distribution._random import randbelow
from tracewarn.server.distribution.batch import (
    PENDING_CHECKIN_UPLOADS,
    WATERMARK,
    get_state,
    set_state,
)
from tracewarn.server.federation.publishing import publishes_in
from tracewarn.server.models import CheckInReport, DiagnosisKey
from tracewarn.server.submission.service import distribution_hour, insert_keys

__all__ = ["AssignReport", "assign_packages"]


@dataclass
class AssignReport:
    key_hours: list[int] = field(default_factory=list)
    warning_hours: list[int] = field(default_factory=list)
    padding_keys: int = 0


@dataclass(frozen=True, slots=True)
class _Shape:
    """What padding copies from a published key: its age on its package day and its fields."""

    age_days: int
    rolling_period: int
    trl: int
    submission_type: int


def assign_packages(ctx: ServerContext, *, current_hour: int) -> AssignReport:
    """Assign pending keys and reports to the hours in [watermark, current_hour)."""
    s = ctx.settings
    out = AssignReport()
    with ctx.engine.begin() as conn:
        watermark = get_state(conn, WATERMARK)
        if watermark is None:
            watermark = _first_pending_hour(conn, current_hour)
        watermark = max(watermark, current_hour - s.retention_days * 24)
        pending = sorted(
            int(h)
            for h in conn.execute(
                sa.select(DiagnosisKey.release_hour).where(
                    DiagnosisKey.package_hour.is_(None), DiagnosisKey.is_padding.is_(False)
                )
            ).scalars()
        )
        checkin_uploads = get_state(conn, PENDING_CHECKIN_UPLOADS) or 0
        done = 0  # pending keys (sorted by release) already assigned
        for hour in range(watermark, current_hour):
            released = done
            while released < len(pending) and pending[released] <= hour:
                released += 1
            if released - done >= s.min_keys_to_publish:
                conn.execute(
                    sa.update(DiagnosisKey)
                    .where(
                        DiagnosisKey.package_hour.is_(None),
                        DiagnosisKey.is_padding.is_(False),
                        DiagnosisKey.release_hour <= hour,
                    )
                    .values(package_hour=hour)
                )
                done = released
                out.key_hours.append(hour)
                out.padding_keys += _pad_hour(conn, ctx, hour)
            if checkin_uploads and checkin_uploads >= s.min_uploads_to_publish_checkins:
                conn.execute(
                    sa.update(CheckInReport)
                    .where(CheckInReport.package_hour.is_(None), CheckInReport.release_hour <= hour)
                    .values(package_hour=hour)
                )
                checkin_uploads = 0
                set_state(conn, PENDING_CHECKIN_UPLOADS, 0)
                out.warning_hours.append(hour)
        set_state(conn, WATERMARK, max(watermark, current_hour))
    return out


def _first_pending_hour(conn: Connection, current_hour: int) -> int:
    first = [
        conn.execute(
            sa.select(sa.func.min(DiagnosisKey.release_hour)).where(
                DiagnosisKey.package_hour.is_(None)
            )
        ).scalar(),
        conn.execute(
            sa.select(sa.func.min(CheckInReport.release_hour)).where(
                CheckInReport.package_hour.is_(None)
            )
        ).scalar(),
    ]
    return min([int(h) for h in first if h is not None], default=current_hour)


def _pad_hour(conn: Connection, ctx: ServerContext, hour: int) -> int:
    """Pad every region's package of `hour` that has real keys up to `min_keys_per_package`."""
    s = ctx.settings
    rows = conn.execute(
        sa.select(
            DiagnosisKey.consent_to_federation,
            DiagnosisKey.visited_countries,
            DiagnosisKey.origin_country,
        ).where(DiagnosisKey.package_hour == hour, DiagnosisKey.is_padding.is_(False))
    ).all()
    shapes: list[_Shape] | None = None
    added = 0
    for region in s.published_regions:
        real = sum(
            1
            for consent, visited, origin in rows
            if publishes_in(
                region,
                origin=origin,
                visited=visited,
                consent=consent,
                is_padding=False,
                home=s.home_region,
                eur=s.federation_eur_package,
            )
        )
        missing = s.min_keys_per_package - real
        if real == 0 or missing <= 0:
            continue
        if shapes is None:
            shapes = _population(conn, ctx, hour)
        insert_keys(conn, _padding(ctx, region, hour, missing, shapes))
        added += missing
    return added


def _population(conn: Connection, ctx: ServerContext, hour: int) -> list[_Shape]:
    """Shapes of the real keys published before `hour` within retention (already public)."""
    s = ctx.settings
    rows = conn.execute(
        sa.select(
            DiagnosisKey.rolling_start_interval_number,
            DiagnosisKey.rolling_period,
            DiagnosisKey.transmission_risk_level,
            DiagnosisKey.submission_type,
            DiagnosisKey.package_hour,
        ).where(
            DiagnosisKey.is_padding.is_(False),
            DiagnosisKey.package_hour < hour,
            DiagnosisKey.package_hour >= hour - s.retention_days * 24,
        )
    ).all()
    return [
        _Shape(p // 24 - rsin // EKROLLING_PERIOD, period, trl, kind)
        for rsin, period, trl, kind, p in rows
        if p is not None
    ]


def _prior(random_bytes: Callable[[int], bytes], min_trl: int) -> _Shape:
    # Before anything is published there is no population: a fixed, public prior (a key 1-14
    # days old, full day, a TRL the CDN would publish, a PCR-test upload).
    return _Shape(
        1 + randbelow(14, random_bytes), 144, min_trl + randbelow(9 - min_trl, random_bytes), 0
    )


def _padding(
    ctx: ServerContext, region: str, hour: int, count: int, shapes: Sequence[_Shape]
) -> list[dict[str, object]]:
    s = ctx.settings
    data = ctx.random_bytes(16 * count)
    out = []
    for i in range(count):
        shape = (
            shapes[randbelow(len(shapes), ctx.random_bytes)]
            if shapes
            else _prior(ctx.random_bytes, s.min_published_trl)
        )
        rsin = (hour // 24 - max(0, shape.age_days)) * EKROLLING_PERIOD
        for _ in range(15):  # never a key a real upload could not have released by `hour`
            if (
                distribution_hour(
                    rsin,
                    shape.rolling_period,
                    submission_hour=0,
                    expiry_policy_minutes=s.expiry_policy_minutes,
                )
                <= hour
            ):
                break
            rsin -= EKROLLING_PERIOD
        out.append(
            {
                "key_data": data[16 * i : 16 * i + 16],
                "submission_type": shape.submission_type,
                "rolling_start_interval_number": rsin,
                "rolling_period": shape.rolling_period,
                "transmission_risk_level": shape.trl,
                "release_hour": hour,
                "package_hour": hour,
                "consent_to_federation": False,
                "origin_country": region,
                "visited_countries": region,
                "is_padding": True,
            }
        )
    return out
