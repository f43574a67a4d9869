"""Download job: other regions' batches are fetched, verified, validated and stored for publishing.

EU Federation Gateway Service [docs/specifications.md#efgs] (CWA download service; the Finnish backend's audit check):

1. Walk the gateway's batch chain from the last batch imported here (or from the oldest date the
   gateway still serves), following `nextBatchTag`. Polling is the primary path; a gateway
   callback only makes the next run come sooner.
2. Verify every batch before trusting any key: the audit lists each upload in the batch with the
   uploader's signing certificate, the operator's signature over it and the original batch
   signature. Each upload's slice of keys must carry a valid signature by a certificate the
   trust anchor vouched for, whose country is every key's origin. A slice that fails is dropped
   whole; a batch whose audit does not add up to its keys is not imported at all.
3. Validate every key as local uploads are validated: 16 bytes, start at UTC midnight, rolling
   period 1..144, within the retention window, and (as CWA) only CONFIRMED_TEST or
   CONFIRMED_CLINICAL_DIAGNOSIS; the sender's TRL is ignored and re-derived from the days since
   onset, which is required.
4. Store the keys (without federation consent, so they are never re-uploaded) and the batch's
   row in ONE transaction, de-duplicated by key data: a kill at any moment leaves the batch either
   fully imported or not at all, and a re-run can neither lose nor duplicate a key. The keys get a
   release hour not before the current one, and the publisher assigns them to a package
   not cut yet, exactly as it does local keys.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tracewarn.protocol.errors import ProtocolError
from tracewarn.protocol.federation import (
    FederationKey,
    ReportType,
    certificate_thumbprint,
    load_certificate,
    validate_country,
    verify_batch,
    verify_operator_signature,
)
from tracewarn.protocol.proto import submission_pb2
from tracewarn.server.context import ServerContext
from tracewarn.server.federation.client import DownloadedBatch, GatewayClient, GatewayError
from tracewarn.server.federation.member import MemberCredentials
from tracewarn.server.models import FederationBatch
from tracewarn.server.submission.service import distribution_hour, insert_keys
from tracewarn.server.submission.validation import DSOS_MAX, DSOS_MIN, trl_from_dsos

__all__ = ["ImportReport", "import_batches"]

_log = logging.getLogger("tracewarn.server.federation")
PCR = submission_pb2.SubmissionPayload.SUBMISSION_TYPE_PCR_TEST
ACCEPTED_REPORT_TYPES = frozenset(
    {ReportType.CONFIRMED_TEST, ReportType.CONFIRMED_CLINICAL_DIAGNOSIS}
)
GATEWAY_WINDOW_DAYS = 2
MAX_BATCHES_PER_RUN = 10_000


@dataclass
class ImportReport:
    batches: list[str] = field(default_factory=list)
    keys_imported: int = 0
    keys_rejected: int = 0
    failed: list[str] = field(default_factory=list)


class _AuditMismatchError(Exception):
    """The audit cannot be matched to the batch: none of its keys can be verified."""


def _day_of_tag(tag: str, fallback: str) -> str:
    head = tag.split("-", 1)[0]
    if len(head) == 8 and head.isdigit():
        return f"{head[:4]}-{head[4:6]}-{head[6:]}"
    return fallback


def _verified_slices(
    batch: DownloadedBatch,
    entries: list[dict[str, Any]],
    credentials: MemberCredentials,
    home: str,
    now: int,
) -> tuple[list[FederationKey], int]:
    """Keys whose upload's signature checks out, and how many were dropped."""
    others = [e for e in entries if e.get("country") != home]
    if sum(int(e.get("amount", 0)) for e in others) != len(batch.keys):
        raise _AuditMismatchError(f"audit of {batch.tag} does not add up to its keys")
    good: list[FederationKey] = []
    dropped = 0
    offset = 0
    when = dt.datetime.fromtimestamp(now, dt.UTC)
    for entry in others:
        part = batch.keys[offset : offset + int(entry["amount"])]
        offset += len(part)
        try:
            pem = str(entry["signingCertificate"])
            verify_operator_signature(
                pem, str(entry["signingCertificateOperatorSignature"]), credentials.anchor
            )
            thumbprint = certificate_thumbprint(load_certificate(pem))
            if thumbprint != entry.get("uploaderSigningThumbprint"):
                raise ProtocolError("audit names another signing certificate")
            verify_batch(
                part, str(entry["batchSignature"]), now=when, trusted_thumbprints={thumbprint}
            )
        except (ProtocolError, KeyError, TypeError) as exc:
            _log.warning("dropped %d keys of %s: %s", len(part), batch.tag, exc)
            dropped += len(part)
            continue
        good.extend(part)
    return good, dropped


def _row(key: FederationKey, ctx: ServerContext, now: int) -> dict[str, object] | None:
    """The stored row for a valid key, or None (local upload rules, CWA's federation filter)."""
    if key.report_type not in ACCEPTED_REPORT_TYPES or len(key.key_data) != 16:
        return None
    rsin, period = key.rolling_start_interval_number, key.rolling_period
    if rsin <= 0 or rsin % 144 or not 1 <= period <= 144:
        return None
    if not DSOS_MIN <= key.days_since_onset_of_symptoms <= DSOS_MAX:
        return None
    current = now // 600
    if rsin + period <= current - ctx.settings.key_max_age_days * 144 or rsin > current:
        return None
    try:
        validate_country(key.origin)
        visited = [validate_country(c) for c in key.visited_countries]
    except ProtocolError:
        return None
    hour = now // 3600
    return {
        "key_data": key.key_data,
        "submission_type": PCR,
        "rolling_start_interval_number": rsin,
        "rolling_period": period,
        "transmission_risk_level": trl_from_dsos(key.days_since_onset_of_symptoms),
        # Pending: the publisher assigns it to an hour not packaged yet, as local keys.
        "release_hour": distribution_hour(
            rsin,
            period,
            submission_hour=hour,
            expiry_policy_minutes=ctx.settings.expiry_policy_minutes,
        ),
        "package_hour": None,
        "consent_to_federation": False,
        "origin_country": key.origin,
        "visited_countries": ",".join(dict.fromkeys(visited or [key.origin])),
        "is_padding": False,
    }


def _store(
    ctx: ServerContext,
    batch: DownloadedBatch,
    day: str,
    rows: list[dict[str, object]],
    rejected: int,
    status: str,
    now: int,
) -> None:
    with ctx.sessions.begin() as session:
        insert_keys(session, rows)
        session.add(
            FederationBatch(
                batch_tag=batch.tag,
                day=day,
                status=status,
                keys_imported=len(rows),
                keys_rejected=rejected,
                next_tag=batch.next_tag,
                processed_at=now,
            )
        )


def _process(
    ctx: ServerContext,
    client: GatewayClient,
    credentials: MemberCredentials,
    batch: DownloadedBatch,
    day: str,
    now: int,
    report: ImportReport,
) -> None:
    home = ctx.settings.home_region
    if batch.keys:
        entries = client.audit(day, batch.tag)
        try:
            good, dropped = _verified_slices(batch, entries, credentials, home, now)
        except _AuditMismatchError as exc:
            _log.warning("batch rejected: %s", exc)
            _store(ctx, batch, day, [], len(batch.keys), "rejected", now)
            report.batches.append(batch.tag)
            report.keys_rejected += len(batch.keys)
            return
    else:
        good, dropped = [], 0
    rows = []
    for key in good:
        row = _row(key, ctx, now)
        if row is None:
            dropped += 1
        else:
            rows.append(row)
    _store(ctx, batch, day, rows, dropped, "processed_with_error" if dropped else "processed", now)
    report.batches.append(batch.tag)
    report.keys_imported += len(rows)
    report.keys_rejected += dropped


def import_batches(
    ctx: ServerContext,
    client: GatewayClient,
    credentials: MemberCredentials,
    *,
    now: int | None = None,
) -> ImportReport:
    """Import every batch not imported yet (see the module docstring)."""
    now = ctx.now() if now is None else now
    report = ImportReport()
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    oldest = (today - dt.timedelta(days=GATEWAY_WINDOW_DAYS)).isoformat()
    with ctx.sessions() as session:
        done = {
            str(row[0]): str(row[1])
            for row in session.execute(sa.select(FederationBatch.batch_tag, FederationBatch.day))
        }
    recent = sorted(
        (
            (d, int(t.rsplit("-", 1)[1]) if t.rsplit("-", 1)[-1].isdigit() else 0, t)
            for t, d in done.items()
            if d >= oldest
        ),
    )
    if recent:
        day, _, tag = recent[-1]
        current: DownloadedBatch | None = client.download(day, tag)
    else:
        day = oldest
        current = client.download(oldest)
    for _ in range(MAX_BATCHES_PER_RUN):
        if current is None:
            break
        day = _day_of_tag(current.tag, day)
        if current.tag not in done:
            try:
                _process(ctx, client, credentials, current, day, now, report)
            except GatewayError as exc:
                # Not imported; retried on the next run (the chain restarts before it).
                _log.warning("batch %s not imported: %s", current.tag, exc)
                report.failed.append(current.tag)
                break
            done[current.tag] = day
        if current.next_tag is None:
            break
        current = client.download(day, current.next_tag)
    return report
