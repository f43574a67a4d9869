"""Upload job: this region's consenting users' keys leave for the gateway in signed batches.

Corona-Warn-App upload service (EU Federation Gateway Service [docs/specifications.md#efgs]), with these rules:

- Only keys of local PCR-verified uploads with consent to federation leave (CWA shares no
  rapid-test or self-report keys), never keys that came from the gateway (no re-federation) and
  never padding. A key leaves only once it is published here (its hour's package exists), so the
  gateway never learns a key earlier than anyone downloading this region's packages.
- Nothing leaves while fewer than `federation_min_batch_keys` (140) keys are pending. The pending
  keys are shuffled with fresh randomness and split into batches of near-equal size, at most
  `federation_max_batch_keys` (4,000), so no batch is small and no batch follows upload order:
  the gateway cannot tell which keys came from one phone.
- Visited regions are sent sorted, so a re-sent key has the same record (and payload hash).
- 201: the batch's keys are marked sent. 207: keys the gateway already has ("409") are marked
  sent; the others stay pending and go in a later batch under a new tag. Anything else stops
  the run with every remaining key pending. A crash after the gateway stored a batch but
  before the marks were written re-sends those keys, which the gateway answers with 207/409.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from tracewarn.protocol.federation import FederationKey, ReportType, sign_batch
from tracewarn.protocol.proto import submission_pb2
from tracewarn.server.context import ServerContext
from tracewarn.server.distribution import layout
from tracewarn.server.federation.client import GatewayClient
from tracewarn.server.federation.member import MemberCredentials
from tracewarn.server.models import DiagnosisKey, FederationSent
from tracewarn.server.submission.validation import dsos_from_trl

__all__ = ["UploadReport", "upload_pending_keys"]

PCR = submission_pb2.SubmissionPayload.SUBMISSION_TYPE_PCR_TEST


@dataclass
class UploadReport:
    pending: int = 0
    batches: list[str] = field(default_factory=list)
    keys_sent: int = 0
    already_there: int = 0


@dataclass(frozen=True, slots=True)
class _Pending:
    # Plain values, not ORM objects: a national day can be a million keys.
    key_data: bytes
    submission_type: int
    rolling_start_interval_number: int
    rolling_period: int
    transmission_risk_level: int
    visited_countries: str
    package_hour: int


def _pending(ctx: ServerContext, now: int) -> list[_Pending]:
    s = ctx.settings
    current_hour = now // 3600
    oldest_interval = (now - now % 86400) // 600 - 15 * 144  # the gateway's age limit
    sent = sa.select(FederationSent.key_data).where(
        FederationSent.key_data == DiagnosisKey.key_data,
        FederationSent.submission_type == DiagnosisKey.submission_type,
    )
    with ctx.sessions() as session:
        rows = session.execute(
            sa.select(
                DiagnosisKey.key_data,
                DiagnosisKey.submission_type,
                DiagnosisKey.rolling_start_interval_number,
                DiagnosisKey.rolling_period,
                DiagnosisKey.transmission_risk_level,
                DiagnosisKey.visited_countries,
                DiagnosisKey.package_hour,
            ).where(
                DiagnosisKey.consent_to_federation.is_(True),
                DiagnosisKey.is_padding.is_(False),
                DiagnosisKey.origin_country == s.home_region,
                DiagnosisKey.submission_type == PCR,
                DiagnosisKey.rolling_start_interval_number >= oldest_interval,
                ~sa.exists(sent),
            )
        ).all()
    # Published = assigned to an hour whose package exists (the hour index names it).
    indexes: dict[str, set[int]] = {}
    out = []
    for key_data, kind, rsin, period, trl, visited, hour in rows:
        if hour is None or hour >= current_hour:
            continue
        day = layout.day_of(hour)
        if day not in indexes:
            indexes[day] = set(
                layout.read_json(ctx.blobs, layout.hour_index(s.home_region, day)) or []
            )
        if hour % 24 in indexes[day]:
            out.append(_Pending(key_data, kind, rsin, period, trl, visited, hour))
    return out


def _federation_key(row: _Pending, origin: str) -> FederationKey:
    return FederationKey(
        key_data=row.key_data,
        rolling_start_interval_number=row.rolling_start_interval_number,
        rolling_period=row.rolling_period,
        transmission_risk_level=row.transmission_risk_level,
        visited_countries=tuple(sorted(set(row.visited_countries.split(",")) | {origin})),
        origin=origin,
        report_type=ReportType.CONFIRMED_TEST,
        # The backend keeps no days since onset (only the TRL derived from it): CWA's encoded
        # DSOS for the TRL, which receivers map back to the same TRL (`trl_from_dsos`).
        days_since_onset_of_symptoms=dsos_from_trl(row.transmission_risk_level),
    )


def _shuffled(ctx: ServerContext, rows: list[_Pending]) -> list[_Pending]:
    # Sort by fresh random 64-bit tags: a uniform shuffle that uses the context's randomness.
    noise = ctx.random_bytes(8 * len(rows))
    order = sorted(range(len(rows)), key=lambda i: noise[8 * i : 8 * i + 8])
    return [rows[i] for i in order]


def _split(n: int, maximum: int) -> list[int]:
    count = -(-n // maximum)
    return [n // count + (1 if i < n % count else 0) for i in range(count)]


def upload_pending_keys(
    ctx: ServerContext,
    client: GatewayClient,
    credentials: MemberCredentials,
    *,
    now: int | None = None,
) -> UploadReport:
    """Send every pending key in signed batches (see the module docstring)."""
    now = ctx.now() if now is None else now
    s = ctx.settings
    rows = _pending(ctx, now)
    report = UploadReport(pending=len(rows))
    if len(rows) < s.federation_min_batch_keys:
        return report
    rows = _shuffled(ctx, rows)
    day = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y%m%d")
    start = 0
    for size in _split(len(rows), s.federation_max_batch_keys):
        batch = rows[start : start + size]
        start += size
        keys = [_federation_key(r, s.home_region) for r in batch]
        tag = f"{s.home_region}-{day}-{ctx.random_bytes(6).hex()}"
        signature = sign_batch(
            keys, key=credentials.signing_key, certificate=credentials.signing_certificate
        )
        answer = client.upload(keys, tag=tag, signature=signature)
        if answer.status == 201:
            done = list(range(len(batch)))
            report.batches.append(tag)
            report.keys_sent += len(batch)
        else:
            done = answer.report.get("409", [])
            report.already_there += len(done)
        with ctx.sessions.begin() as session:
            if done:
                session.execute(
                    sa.insert(FederationSent),
                    [
                        {
                            "key_data": batch[i].key_data,
                            "submission_type": batch[i].submission_type,
                            "batch_tag": tag,
                            "sent_hour": now // 3600,
                        }
                        for i in done
                    ],
                )
    return report
