"""`POST /diagnosiskeys/upload`: the EFGS upload checks, in EFGS order, then one transaction.

EU Federation Gateway Service [docs/specifications.md#efgs] (EFGS `UploadController`, `DiagnosisKeyBatchValidator`): content type,
every key valid (one bad key rejects the batch: dropping it would break the signature), size,
tag, signature, origin; then all keys are stored or none. Additions (EU Federation Gateway Service [docs/specifications.md#efgs], replay):
- the same signed batch under a new tag is a replay (409): the signature's hash is remembered for
  the whole key-validity window, beyond key retention;
- re-sending exactly the stored batch (same member, tag and signature) answers 201 again without
  storing anything: a member whose 201 was lost can retry safely (idempotent re-upload).
Payload hashes are 64 hex digits, zero-padded (EFGS drops leading zeros, a known flaw).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracewarn.protocol.errors import FederationFormatError, InvalidSignature
from tracewarn.protocol.federation import (
    TRL_NOT_PROVIDED,
    FederationKey,
    canonical_record,
    certificate_thumbprint,
    parse_batch,
    parse_batch_json,
    validate_country,
    verify_batch,
)
from tracewarn.server.gateway.certificates import Member, trusted_certificates
from tracewarn.server.gateway.context import GatewayContext
from tracewarn.server.gateway.models import GatewayKey, UploadBatch
from tracewarn.server.problems import Problem

__all__ = ["FORMAT_VERSION", "UploadOutcome", "keys_of", "parse_content_type", "process_upload"]

FORMAT_VERSION = "1.0"
_TAG = re.compile(r"[A-Za-z0-9+/=_.:-]{1,100}")


@dataclass
class UploadOutcome:
    status: int
    batch_tag: str
    report: dict[str, list[int]] = field(default_factory=dict)


def parse_content_type(value: str | None, *, for_request: bool) -> str:
    """`protobuf` or `json` from `application/...; version=1.0` (EFGS `ProtobufConverter`)."""
    wrong_version = 406 if for_request else 415
    missing = 400 if for_request else 415
    if not value:
        raise Problem(missing, _slug(missing), "a content type with version=1.0 is required")
    media, *params = (p.strip() for p in value.split(";"))
    kinds = {"application/protobuf": "protobuf", "application/x-protobuf": "protobuf"}
    kinds["application/json"] = "json"
    if media.lower() not in kinds:
        raise Problem(missing, _slug(missing), f"unsupported media type {media}")
    versions = [p.split("=", 1)[1].strip() for p in params if p.lower().startswith("version=")]
    if not versions:
        raise Problem(missing, _slug(missing), "the media type needs a version parameter")
    if versions[0] != FORMAT_VERSION:
        raise Problem(wrong_version, _slug(wrong_version), f"version must be {FORMAT_VERSION}")
    return kinds[media.lower()]


def _slug(status: int) -> str:
    return {400: "bad-request", 406: "not-acceptable", 415: "unsupported-media-type"}[status]


def _validate_key(index: int, key: FederationKey, now: int, max_age_days: int) -> None:
    where = f"Validation of diagnosis key failed: keys[{index}]"
    if len(key.key_data) != 16:
        raise Problem(400, "invalid-key", f"{where}: keyData must be 16 bytes")
    today = now - now % 86400
    oldest = (today - max_age_days * 86400) // 600
    if not oldest <= key.rolling_start_interval_number <= now // 600 + 1:
        raise Problem(400, "invalid-key", f"{where}: rollingStartIntervalNumber out of range")
    if not 1 <= key.rolling_period <= 144:
        raise Problem(400, "invalid-key", f"{where}: rollingPeriod must be 1..144")
    trl = key.transmission_risk_level
    if not (0 <= trl <= 8 or trl == TRL_NOT_PROVIDED):
        raise Problem(400, "invalid-key", f"{where}: transmissionRiskLevel must be 0..8")
    try:
        validate_country(key.origin)
        for code in key.visited_countries:
            validate_country(code)
    except FederationFormatError as exc:
        raise Problem(400, "invalid-key", f"{where}: {exc}") from None


def _payload_hash(key: FederationKey) -> str:
    return hashlib.sha256(canonical_record(key)).hexdigest()


def process_upload(
    ctx: GatewayContext,
    member: Member,
    *,
    content_type: str | None,
    batch_tag: str | None,
    batch_signature: str | None,
    body: bytes,
) -> UploadOutcome:
    """Check and store one upload; raises `Problem` with the EFGS status on refusal."""
    s = ctx.settings
    kind = parse_content_type(content_type, for_request=True)
    if not batch_tag or not _TAG.fullmatch(batch_tag):
        raise Problem(400, "bad-request", "batchTag header missing or malformed")
    if not batch_signature:
        raise Problem(400, "invalid-signature", "batchSignature header missing")
    if len(body) > s.max_upload_bytes:
        raise Problem(413, "payload-too-large", f"at most {s.max_upload_bytes} bytes per upload")
    try:
        keys = parse_batch(body) if kind == "protobuf" else parse_batch_json(body)
    except FederationFormatError as exc:
        raise Problem(400, "bad-request", str(exc)) from None
    # Counted before per-key validation so an oversized batch costs no per-key work.
    if len(keys) > s.max_upload_keys:
        raise Problem(413, "payload-too-large", f"at most {s.max_upload_keys} keys per upload")
    if not keys:
        raise Problem(400, "bad-request", "a batch needs at least one key")
    now = ctx.now()
    for index, key in enumerate(keys):
        _validate_key(index, key, now, s.key_max_age_days)
    signature_hash = hashlib.sha256(batch_signature.strip().encode()).digest()
    hashes = [_payload_hash(k) for k in keys]
    with ctx.sessions.begin() as session:
        previous = session.scalars(
            sa.select(UploadBatch).where(
                sa.or_(
                    UploadBatch.batch_tag == batch_tag,
                    UploadBatch.signature_hash == signature_hash,
                )
            )
        ).first()
        if previous is not None:
            if (
                previous.batch_tag == batch_tag
                and previous.signature_hash == signature_hash
                and previous.country == member.country
                and previous.amount == len(keys)
                and not previous.keys_deleted
                and _stored_hashes(session, previous.id) == sorted(hashes)
            ):
                return UploadOutcome(201, batch_tag)
            if previous.batch_tag == batch_tag:
                raise Problem(409, "conflict", f"batchTag {batch_tag} was already used")
            raise Problem(409, "replay", "this signed batch was already uploaded")
        signing = trusted_certificates(session, ctx.anchor, country=member.country, kind="SIGNING")
        try:
            signer = verify_batch(
                keys,
                batch_signature,
                now=dt.datetime.fromtimestamp(now, dt.UTC),
                trusted_thumbprints={r.thumbprint for r in signing},
            )
        except InvalidSignature as exc:
            raise Problem(400, "invalid-signature", f"Invalid signature: {exc}") from None
        if any(k.origin != member.country for k in keys):
            raise Problem(400, "bad-request", "every key's origin must be the uploader's country")
        existing = set(
            session.scalars(
                sa.select(GatewayKey.payload_hash).where(GatewayKey.payload_hash.in_(set(hashes)))
            )
        )
        if existing or len(set(hashes)) < len(hashes):
            report: dict[str, list[int]] = {"201": [], "409": [], "500": []}
            seen: set[str] = set()
            for i, h in enumerate(hashes):
                report["409" if h in existing or h in seen else "201"].append(i)
                seen.add(h)
            return UploadOutcome(207, batch_tag, report)
        upload = UploadBatch(
            batch_tag=batch_tag,
            country=member.country,
            uploaded_at=now,
            uploader_thumbprint=member.thumbprint,
            signing_thumbprint=certificate_thumbprint(signer.certificate),
            batch_signature=batch_signature.strip(),
            signature_hash=signature_hash,
            amount=len(keys),
            format_version=FORMAT_VERSION,
            keys_deleted=False,
        )
        session.add(upload)
        try:
            session.flush()
            session.execute(
                sa.insert(GatewayKey),
                [
                    _row(upload.id, i, k, h)
                    for i, (k, h) in enumerate(zip(keys, hashes, strict=True))
                ],
            )
        except IntegrityError:
            # A concurrent upload stored the tag or a record first: nothing of ours is kept.
            raise Problem(
                409, "conflict", "a concurrent upload used this tag or these keys"
            ) from None
    return UploadOutcome(201, batch_tag)


def _stored_hashes(session: Session, upload_id: int) -> list[str]:
    return sorted(
        session.scalars(
            sa.select(GatewayKey.payload_hash).where(GatewayKey.upload_batch_id == upload_id)
        )
    )


def _row(upload_id: int, position: int, key: FederationKey, payload_hash: str) -> dict[str, object]:
    return {
        "upload_batch_id": upload_id,
        "position": position,
        "key_data": key.key_data,
        "rolling_start_interval_number": key.rolling_start_interval_number,
        "rolling_period": key.rolling_period,
        "transmission_risk_level": key.transmission_risk_level,
        "visited_countries": ",".join(key.visited_countries),
        "origin": key.origin,
        "report_type": key.report_type,
        "days_since_onset_of_symptoms": key.days_since_onset_of_symptoms,
        "payload_hash": payload_hash,
    }


def keys_of(rows: list[GatewayKey]) -> list[FederationKey]:
    return [
        FederationKey(
            key_data=r.key_data,
            rolling_start_interval_number=r.rolling_start_interval_number,
            rolling_period=r.rolling_period,
            transmission_risk_level=r.transmission_risk_level,
            visited_countries=tuple(r.visited_countries.split(",")) if r.visited_countries else (),
            origin=r.origin,
            report_type=r.report_type,
            days_since_onset_of_symptoms=r.days_since_onset_of_symptoms,
        )
        for r in rows
    ]
