"""Download batches, the download and audit views, and retention (EU Federation Gateway Service [docs/specifications.md#efgs]).

A batching run groups upload batches that have no download batch yet, oldest first, into download
batches of at most `max_download_batch_keys` keys; an upload is never split and one download batch
holds one format version. Tags are `yyyyMMdd-N`, N restarting at 1 each UTC day, and each batch
is linked from its predecessor (across midnight too). Unlike EFGS, keys are served in (upload,
position) order, so an audit entry's `amount` always slices exactly its upload's keys even when
two uploads were stored concurrently (the caveat of EU Federation Gateway Service [docs/specifications.md#efgs]).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracewarn.protocol.federation import FederationKey
from tracewarn.server.db import cross_process_lock
from tracewarn.server.gateway.context import GatewayContext
from tracewarn.server.gateway.models import (
    CallbackTask,
    DownloadBatch,
    GatewayKey,
    MemberCertificate,
    Subscription,
    UploadBatch,
)
from tracewarn.server.gateway.upload import keys_of
from tracewarn.server.problems import Problem

__all__ = [
    "ServedBatch",
    "audit",
    "cleanup",
    "download",
    "make_download_batches",
    "parse_date",
]


def _day(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


def parse_date(value: str) -> int:
    """`yyyy-MM-dd` as the unix time of its 00:00 UTC."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Problem(400, "bad-request", "date must be yyyy-MM-dd") from None
    if len(value) != 10:
        raise Problem(400, "bad-request", "date must be yyyy-MM-dd")
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def make_download_batches(ctx: GatewayContext) -> list[str]:
    """Group pending uploads into download batches; returns the new tags (oldest first)."""
    with cross_process_lock(ctx.engine, "gateway-batching", ctx.settings.data_dir) as got:
        if not got:
            return []
        created: list[str] = []
        while True:
            with ctx.sessions.begin() as session:
                tag = _one_batch(session, ctx)
            if tag is None:
                return created
            created.append(tag)


def _one_batch(session: Session, ctx: GatewayContext) -> str | None:
    pending = session.scalars(
        sa.select(UploadBatch)
        .where(UploadBatch.download_batch_id.is_(None), UploadBatch.keys_deleted.is_(False))
        .order_by(UploadBatch.id)
        .limit(ctx.settings.max_download_batch_keys)
    ).all()
    if not pending:
        return None
    chosen: list[UploadBatch] = []
    total = 0
    for upload in pending:
        if upload.format_version != pending[0].format_version:
            break
        if chosen and total + upload.amount > ctx.settings.max_download_batch_keys:
            break
        chosen.append(upload)
        total += upload.amount
    now = ctx.now()
    day = _day(now)
    count = session.scalar(
        sa.select(sa.func.count()).select_from(DownloadBatch).where(DownloadBatch.day == day)
    )
    tag = f"{day.replace('-', '')}-{int(count or 0) + 1}"
    previous = session.scalars(
        sa.select(DownloadBatch).order_by(DownloadBatch.id.desc()).limit(1)
    ).first()
    batch = DownloadBatch(tag=tag, day=day, created_at=now, next_tag=None)
    session.add(batch)
    session.flush()
    if previous is not None:
        previous.next_tag = tag
    for upload in chosen:
        upload.download_batch_id = batch.id
    for sub in session.scalars(sa.select(Subscription)):
        session.add(
            CallbackTask(subscription_id=sub.id, batch_tag=tag, day=day, retries=0, not_before=now)
        )
    return tag


@dataclass(frozen=True)
class ServedBatch:
    tag: str
    next_tag: str | None
    keys: list[FederationKey]


def _find(session: Session, ctx: GatewayContext, date: str, tag: str | None) -> DownloadBatch:
    start = parse_date(date)
    now = ctx.now()
    if start < now - now % 86400 - ctx.settings.max_age_days * 86400:
        raise Problem(410, "gone", f"{date} is older than {ctx.settings.max_age_days} days")
    if tag is None:
        batch = session.scalars(
            sa.select(DownloadBatch)
            .where(DownloadBatch.created_at >= start)
            .order_by(DownloadBatch.id)
            .limit(1)
        ).first()
        if batch is None:
            raise Problem(404, "not-found", f"no batch since {date}")
        return batch
    batch = session.scalars(sa.select(DownloadBatch).where(DownloadBatch.tag == tag)).first()
    if batch is None:
        raise Problem(404, "not-found", f"unknown batch {tag}")
    return batch


def download(ctx: GatewayContext, *, country: str, date: str, tag: str | None) -> ServedBatch:
    """The batch for (date, tag) minus the caller's own keys (EU Federation Gateway Service [docs/specifications.md#efgs])."""
    with ctx.sessions() as session:
        batch = _find(session, ctx, date, tag)
        if batch.created_at < parse_date(date):
            raise Problem(400, "bad-request", f"batch {batch.tag} is older than {date}")
        rows = session.scalars(
            sa.select(GatewayKey)
            .join(UploadBatch, GatewayKey.upload_batch_id == UploadBatch.id)
            .where(UploadBatch.download_batch_id == batch.id, UploadBatch.country != country)
            .order_by(UploadBatch.id, GatewayKey.position)
        ).all()
        return ServedBatch(batch.tag, batch.next_tag, keys_of(list(rows)))


def audit(ctx: GatewayContext, *, date: str, tag: str) -> list[dict[str, Any]]:
    """One entry per upload in the batch, own uploads included, in upload order (EU Federation Gateway Service [docs/specifications.md#efgs])."""
    with ctx.sessions() as session:
        batch = _find(session, ctx, date, tag)
        if batch.day != date:
            raise Problem(404, "not-found", f"batch {tag} was not created on {date}")
        uploads = session.scalars(
            sa.select(UploadBatch)
            .where(UploadBatch.download_batch_id == batch.id, UploadBatch.keys_deleted.is_(False))
            .order_by(UploadBatch.id)
        ).all()
        if not uploads:
            raise Problem(404, "not-found", f"batch {tag} holds no keys any more")
        entries = []
        for upload in uploads:
            auth = _certificate(session, upload.uploader_thumbprint, "AUTHENTICATION")
            signing = _certificate(session, upload.signing_thumbprint, "SIGNING")
            entries.append(
                {
                    "country": upload.country,
                    "uploadedTime": dt.datetime.fromtimestamp(upload.uploaded_at, dt.UTC)
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "uploaderThumbprint": upload.uploader_thumbprint,
                    "uploaderCertificate": auth.certificate_pem if auth else None,
                    "uploaderOperatorSignature": auth.operator_signature if auth else None,
                    "uploaderSigningThumbprint": upload.signing_thumbprint,
                    "signingCertificate": signing.certificate_pem if signing else None,
                    "signingCertificateOperatorSignature": signing.operator_signature
                    if signing
                    else None,
                    "amount": upload.amount,
                    "batchSignature": upload.batch_signature,
                }
            )
        return entries


def _certificate(session: Session, thumbprint: str, kind: str) -> MemberCertificate | None:
    return session.scalars(
        sa.select(MemberCertificate).where(
            MemberCertificate.thumbprint == thumbprint, MemberCertificate.kind == kind
        )
    ).first()


def cleanup(ctx: GatewayContext) -> dict[str, int]:
    """Delete keys of uploads older than today 00:00 - max_age_days; forget uploads and
    download batches after the replay window (EU Federation Gateway Service [docs/specifications.md#efgs])."""
    now = ctx.now()
    key_cutoff = now - now % 86400 - ctx.settings.max_age_days * 86400
    replay_cutoff = now - ctx.settings.replay_window_days * 86400
    with ctx.sessions.begin() as session:
        old = sa.select(UploadBatch.id).where(
            UploadBatch.uploaded_at < key_cutoff, UploadBatch.keys_deleted.is_(False)
        )
        deleted = session.execute(
            sa.delete(GatewayKey).where(GatewayKey.upload_batch_id.in_(old))
        ).rowcount  # type: ignore[attr-defined]
        session.execute(
            sa.update(UploadBatch)
            .where(UploadBatch.uploaded_at < key_cutoff)
            .values(keys_deleted=True)
        )
        forgotten = session.execute(
            sa.delete(UploadBatch).where(UploadBatch.uploaded_at < replay_cutoff)
        ).rowcount  # type: ignore[attr-defined]
        session.execute(
            sa.delete(DownloadBatch).where(
                DownloadBatch.created_at < replay_cutoff,
                ~sa.exists().where(UploadBatch.download_batch_id == DownloadBatch.id),
            )
        )
    return {"keys_deleted": int(deleted or 0), "uploads_forgotten": int(forgotten or 0)}
