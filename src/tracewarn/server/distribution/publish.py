"""`publish`: cut hourly and daily signed key packages and hourly trace warning packages.

Theory of operation (CWA server [docs/specifications.md#cwa-server], GAEN reference key server [docs/specifications.md#gaen-server]; docs/privacy.md):

- First the staged uploads move into the published tables in one shuffled batch (`batch.py`),
  then every hour from the watermark to the last complete hour is assigned its keys and
  reports, thresholds and padding included, in one transaction (`assign.py`). A row's package
  hour is set there, so publication follows what is not published yet, never a time taken at
  upload, and the content of every package is in the database before any file is written: a
  re-run after a crash writes the same files again.
- A key belongs to the hour `package_hour`; it is released not before its expiry + 120 min and
  an hour is packaged only once it is over, so no package carries a key early. Keys are sorted
  by their bytes in the export; check-in reports are shuffled in every warning package.
- The daily package is the union of its hours, so it repeats the hourly padding instead of
  revealing which keys were real.
- Files are written first, indexes last, each through the BlobStore's atomic put: a reader (or
  a crash at any instant) sees an index naming only complete files. What the indexes already
  name is what is done; everything else is redone on the next run, so no key is lost.
- One publisher at a time: a database advisory lock (PostgreSQL) or a file lock (SQLite).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracewarn.protocol.gaen import (
    BatchNumbering,
    ExportKey,
    ExportSigner,
    write_export_files,
    write_signed_zip,
)
from tracewarn.protocol.presence.report import ProtectedReport
from tracewarn.protocol.presence.warning import encode_trace_warning_package
from tracewarn.server.context import ServerContext
from tracewarn.server.db import cross_process_lock
from tracewarn.server.distribution import layout
from tracewarn.server.distribution._random import shuffle
from tracewarn.server.distribution.assign import assign_packages
from tracewarn.server.distribution.batch import forget_history, move_staged
from tracewarn.server.distribution.blobstore import FilesystemBlobStore
from tracewarn.server.distribution.routes import blob_name
from tracewarn.server.distribution.signing import active_signers, public_key_document
from tracewarn.server.federation.publishing import publishes_in
from tracewarn.server.health import record_publish
from tracewarn.server.models import CheckInReport, DiagnosisKey
from tracewarn.server.settings import Settings

__all__ = ["PublishReport", "cdn_encoding", "publish"]

_log = logging.getLogger("tracewarn.server.publish")
# transmission-risk-encoding.yaml: TRL -> (ENF report type, DSOS 1 or 2) on the CDN (CWA risk calculation v2 [docs/specifications.md#cwa-risk]).
_REPORT_TYPE_FOR_TRL = {1: 4, 2: 4, 3: 3, 4: 3, 5: 2, 6: 2, 7: 1, 8: 1}


@dataclass
class PublishReport:
    """What one run wrote; `skipped` when another publisher held the lock."""

    skipped: bool = False
    hourly: list[str] = field(default_factory=list)
    daily: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    padding_keys: int = 0
    batch_uploads: int = 0


def cdn_encoding(trl: int) -> tuple[int, int]:
    """(report_type, days_since_onset) carrying `trl` losslessly to ENF v2 receivers (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""
    return _REPORT_TYPE_FOR_TRL[trl], 1 if trl % 2 else 2


def publish(ctx: ServerContext, *, now: int | None = None) -> PublishReport:
    """Publish every complete hour and day not yet in the indexes, for every region."""
    now = ctx.now() if now is None else now
    with cross_process_lock(ctx.engine, "publish", ctx.settings.data_dir) as got:
        if not got:
            return PublishReport(skipped=True)
        if isinstance(ctx.blobs, FilesystemBlobStore):
            ctx.blobs.remove_temporaries()
        report = PublishReport()
        moved = move_staged(ctx)
        report.batch_uploads = moved.uploads
        assigned = assign_packages(ctx, current_hour=now // 3600)
        report.padding_keys = assigned.padding_keys
        for region in ctx.settings.published_regions:
            # Devices pin the signing keys before the first package exists (which, with the
            # thresholds, can take a while): make sure every region has one from the first run.
            _signers(ctx, region)
            _publish_keys(ctx, region, now, report)
            _publish_warnings(ctx, region, now, report)
        layout.write_json(ctx.blobs, layout.country_index(), ctx.settings.published_regions)
        with ctx.sessions() as session:
            layout.write_json(ctx.blobs, "version/v1/signing-keys", public_key_document(session))
        record_publish(ctx, published_up_to=now)  # for /healthz's "last publish age"
        # Again at the end: assigning packages wrote to the WAL after the batch's checkpoint.
        forget_history(ctx)
        return report


def _signers(ctx: ServerContext, region: str) -> list[ExportSigner]:
    with ctx.sessions.begin() as session:
        return [
            ExportSigner(s.private_key, s.key_id, s.key_version)
            for s in active_signers(session, ctx, region=region)
        ]


def _in_region(row: DiagnosisKey, region: str, settings: Settings) -> bool:
    return publishes_in(
        region,
        origin=row.origin_country,
        visited=row.visited_countries,
        consent=row.consent_to_federation,
        is_padding=row.is_padding,
        home=settings.home_region,
        eur=settings.federation_eur_package,
    )


def _rows(
    session: Session, ctx: ServerContext, region: str, first_hour: int, end_hour: int
) -> list[DiagnosisKey]:
    query = sa.select(DiagnosisKey).where(
        DiagnosisKey.package_hour >= first_hour, DiagnosisKey.package_hour < end_hour
    )
    return [r for r in session.scalars(query).all() if _in_region(r, region, ctx.settings)]


def _hours_with_keys(
    session: Session, ctx: ServerContext, region: str, first_hour: int, end_hour: int
) -> list[int]:
    """Hours in [first_hour, end_hour) whose package for `region` holds keys."""
    s = ctx.settings
    query = (
        sa.select(DiagnosisKey.package_hour)
        .distinct()
        .where(DiagnosisKey.package_hour >= first_hour, DiagnosisKey.package_hour < end_hour)
    )
    if region != s.home_region and region != s.federation_eur_package:
        # Padding rows carry their own region as origin; real rows go by origin, consent and
        # visits (`publishes_in`), confirmed exactly on the rows below (`contains` is a
        # substring test).
        query = query.where(
            sa.or_(
                DiagnosisKey.origin_country == region,
                DiagnosisKey.visited_countries.contains(region),
            )
        )
    hours = {int(h) for h in session.scalars(query) if h is not None}
    # Other regions' keys may be in an hour without belonging to this region's package; the
    # check reads four columns, not whole rows (an hour can hold a national day of keys).
    return sorted(h for h in hours if _has_rows(session, ctx, region, h))


def _has_rows(session: Session, ctx: ServerContext, region: str, hour: int) -> bool:
    s = ctx.settings
    rows = session.execute(
        sa.select(
            DiagnosisKey.origin_country,
            DiagnosisKey.visited_countries,
            DiagnosisKey.consent_to_federation,
            DiagnosisKey.is_padding,
        ).where(DiagnosisKey.package_hour == hour)
    )
    return any(
        publishes_in(
            region,
            origin=origin,
            visited=visited,
            consent=consent,
            is_padding=padding,
            home=s.home_region,
            eur=s.federation_eur_package,
        )
        for origin, visited, consent, padding in rows
    )


def _export_key(row: DiagnosisKey) -> ExportKey:
    report_type, dsos = cdn_encoding(row.transmission_risk_level)
    return ExportKey(
        row.key_data,
        row.rolling_start_interval_number,
        row.rolling_period,
        row.transmission_risk_level,
        report_type,
        dsos,
    )


def _publish_keys(ctx: ServerContext, region: str, now: int, report: PublishReport) -> None:
    s = ctx.settings
    current_hour = now // 3600
    first_hour = current_hour - s.retention_days * 24
    with ctx.sessions() as session:
        hours = _hours_with_keys(session, ctx, region, first_hour, current_hour)
    if layout.read_json(ctx.blobs, layout.date_index(region)) is None:
        # Devices start from the date index, so it exists (empty) from the first run on.
        layout.write_json(ctx.blobs, layout.date_index(region), [])
    if not hours:
        return
    signers = _signers(ctx, region)
    by_day: dict[str, list[int]] = defaultdict(list)
    for hour in hours:
        by_day[layout.day_of(hour)].append(hour)
    dates = set(layout.read_json(ctx.blobs, layout.date_index(region)) or [])
    for day, day_hours in sorted(by_day.items()):
        published = set(layout.read_json(ctx.blobs, layout.hour_index(region, day)) or [])
        for hour in day_hours:
            if hour % 24 in published:
                continue
            with ctx.sessions() as session:
                rows = _rows(session, ctx, region, hour, hour + 1)
            _write_package(
                ctx,
                layout.hourly_path(region, hour),
                rows,
                region,
                hour * 3600,
                (hour + 1) * 3600,
                signers,
            )
            published.add(hour % 24)
            layout.write_json(ctx.blobs, layout.hour_index(region, day), sorted(published))
            report.hourly.append(layout.hourly_path(region, hour))
        day_start = day_hours[0] - day_hours[0] % 24
        if day not in dates and day_start + 24 <= current_hour:
            with ctx.sessions() as session:
                rows = _rows(session, ctx, region, day_start, day_start + 24)
            _write_package(
                ctx,
                layout.daily_path(region, day),
                rows,
                region,
                day_start * 3600,
                (day_start + 24) * 3600,
                signers,
            )
            dates.add(day)
            layout.write_json(ctx.blobs, layout.date_index(region), sorted(dates))
            report.daily.append(layout.daily_path(region, day))


def _write_package(
    ctx: ServerContext,
    path: str,
    rows: list[DiagnosisKey],
    region: str,
    start: int,
    end: int,
    signers: list[ExportSigner],
) -> None:
    files = write_export_files(
        [_export_key(r) for r in rows],
        region=region,
        start_timestamp=start,
        end_timestamp=end,
        signers=signers,
        max_keys_per_file=ctx.settings.max_keys_per_file,
        batch_numbering=BatchNumbering.ONE_PER_FILE,
    )
    if len(files) > 1:
        # One URL per hour and day (CWA layout): over-full periods are a configuration error,
        # and the keys stay in the database for the next run rather than being dropped.
        raise RuntimeError(f"{path}: {len(rows)} keys exceed max_keys_per_file")
    ctx.blobs.put(blob_name(path), files[0], content_type="application/zip")


def _publish_warnings(ctx: ServerContext, region: str, now: int, report: PublishReport) -> None:
    current_hour = now // 3600
    first_hour = current_hour - ctx.settings.retention_days * 24
    with ctx.sessions() as session:
        rows = session.scalars(
            sa.select(CheckInReport).where(
                CheckInReport.region == region,
                CheckInReport.package_hour >= first_hour,
                CheckInReport.package_hour < current_hour,
            )
        ).all()
    index = layout.read_json(ctx.blobs, layout.twp_index(region)) or {}
    latest = index.get("latest")
    by_hour: dict[int, list[ProtectedReport]] = defaultdict(list)
    for r in rows:
        assert r.package_hour is not None
        by_hour[r.package_hour].append(
            ProtectedReport(r.location_id_hash, r.iv, r.encrypted_check_in_record, r.mac)
        )
    if not by_hour and latest is None:
        return
    oldest = max(first_hour, min(by_hour)) if latest is None else max(first_hour, index["oldest"])
    start = oldest if latest is None else latest + 1
    if start >= current_hour:
        return
    signers = _signers(ctx, region)
    # Devices fetch every hour from oldest to latest, so empty hours get (empty) packages too.
    for hour in range(start, current_hour):
        # A random order in every package: the order of a person's reports would chain their
        # visits (docs/privacy.md, "Check-in packages").
        reports = shuffle(by_hour.get(hour, []), ctx.random_bytes)
        export_bin = encode_trace_warning_package(hour, region, reports)
        data = write_signed_zip(export_bin, signers)
        ctx.blobs.put(
            blob_name(layout.twp_path(region, hour)), data, content_type="application/zip"
        )
        report.warnings.append(layout.twp_path(region, hour))
    layout.write_json(
        ctx.blobs, layout.twp_index(region), {"oldest": oldest, "latest": current_hour - 1}
    )
