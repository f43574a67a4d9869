"""Gateway tables: registered member certificates, uploads, their keys, download batches, callbacks.

What the gateway keeps is what members already publish (the keys' fields), plus who uploaded
which batch (country and certificate thumbprints, which the audit API must show). No IP address,
no request metadata, no member-side identifier of a user or an upload is stored.
Times are integer unix seconds, as in the backend's tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "CallbackTask",
    "DownloadBatch",
    "GatewayBase",
    "GatewayKey",
    "MemberCertificate",
    "Subscription",
    "UploadBatch",
]

_Id = BigInteger().with_variant(Integer, "sqlite")


class GatewayBase(DeclarativeBase):
    pass


class MemberCertificate(GatewayBase):
    """EFGS `certificate`: one row per registered certificate, vouched for by the trust anchor."""

    __tablename__ = "member_certificate"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thumbprint: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_pem: Mapped[str] = mapped_column(Text)
    operator_signature: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("uq_member_certificate", "thumbprint", "kind", unique=True),)


class DownloadBatch(GatewayBase):
    """A download batch `yyyyMMdd-N`: whole upload batches, linked to the next one created."""

    __tablename__ = "download_batch"
    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    tag: Mapped[str] = mapped_column(String(32), unique=True)
    day: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[int] = mapped_column(BigInteger)
    next_tag: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_download_batch_created_at", "created_at"),)


class UploadBatch(GatewayBase):
    """One accepted upload. Kept (without its keys) for the replay window after key retention."""

    __tablename__ = "upload_batch"
    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    batch_tag: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(3))
    uploaded_at: Mapped[int] = mapped_column(BigInteger)
    uploader_thumbprint: Mapped[str] = mapped_column(String(64))
    signing_thumbprint: Mapped[str] = mapped_column(String(64))
    batch_signature: Mapped[str] = mapped_column(Text)
    # SHA-256 of the signature: the same signed batch under another tag is a replay.
    signature_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    format_version: Mapped[str] = mapped_column(String(8))
    keys_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    download_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("download_batch.id"), nullable=True
    )

    __table_args__ = (
        Index("uq_upload_batch_tag", "batch_tag", unique=True),
        Index("ix_upload_batch_download", "download_batch_id"),
    )


class GatewayKey(GatewayBase):
    """One diagnosis key, exactly the fields of the wire schema, in upload order."""

    __tablename__ = "gateway_key"
    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    upload_batch_id: Mapped[int] = mapped_column(ForeignKey("upload_batch.id"))
    position: Mapped[int] = mapped_column(Integer)
    key_data: Mapped[bytes] = mapped_column(LargeBinary(16))
    rolling_start_interval_number: Mapped[int] = mapped_column(BigInteger)
    rolling_period: Mapped[int] = mapped_column(Integer)
    transmission_risk_level: Mapped[int] = mapped_column(BigInteger)
    visited_countries: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(3))
    report_type: Mapped[int] = mapped_column(Integer)
    days_since_onset_of_symptoms: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the canonical record (64 hex digits): the same record is stored once.
    payload_hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_gateway_key_upload", "upload_batch_id", "position"),)


class Subscription(GatewayBase):
    """A member's callback URL (EFGS `callback_subscription`)."""

    __tablename__ = "callback_subscription"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    callback_id: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(3))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("uq_subscription", "country", "callback_id", unique=True),)


class CallbackTask(GatewayBase):
    """One pending notification "batch X exists" for one subscription, delivered in order."""

    __tablename__ = "callback_task"
    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("callback_subscription.id", ondelete="CASCADE")
    )
    batch_tag: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))
    retries: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[int] = mapped_column(BigInteger)
