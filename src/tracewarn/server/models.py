"""SQLAlchemy tables. Nothing here can name a person: no IP, device id, phone or location.

Times are integers, which keeps SQLite and PostgreSQL identical: unix seconds rounded to the hour
(`coarse_time`) for codes, tokens and TANs, hours since the epoch for keys and reports; never a
time precise enough to line up one request with another (docs/privacy.md). Schema changes go through
the Alembic migrations in `tracewarn/server/migrations`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKey",
    "Base",
    "CheckInReport",
    "DiagnosisKey",
    "FederationBatch",
    "FederationSent",
    "PublicationState",
    "RateLimitHit",
    "RegistrationToken",
    "SigningKey",
    "StagedUpload",
    "Tan",
    "TeleTan",
    "TestCode",
    "WebSession",
    "WebUser",
]


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    """A lab or hotline credential; only its HMAC is kept."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hmac: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The first characters of the key ("tw_" + 6 hex digits = 24 of its 192 random bits), so an
    # operator can tell keys apart in `server list-api-keys` and revoke one by what a lab reads
    # out; NULL for keys created before it was kept.
    key_prefix: Mapped[str | None] = mapped_column(String(16), nullable=True)


class TestCode(Base):
    """A lab result reachable by the HMAC of the hashed test GUID the lab handed out."""

    __tablename__ = "test_code"
    __test__ = False  # not a pytest class despite the name
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hmac: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    test_result: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    redeemed: Mapped[bool] = mapped_column(Boolean, default=False)


class TeleTan(Base):
    __tablename__ = "teletan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    teletan_hmac: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class RegistrationToken(Base):
    __tablename__ = "registration_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hmac: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    key_type: Mapped[str] = mapped_column(String(16))
    # Needed only until the TAN is issued (to check the result); cleared then, so no row links
    # a lab code to the token whose TAN uploaded keys (docs/privacy.md, "lab code to key").
    test_code_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tans_issued: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class Tan(Base):
    """A single-use upload authorisation; deleted when redeemed."""

    __tablename__ = "tan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tan_hmac: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class StagedUpload(Base):
    """An accepted upload waiting for the next batch move (`distribution.batch`).

    One row per upload, its keys and reports packed into `payload` (`submission.staging`), under
    a random primary key in a table without rowid, so neither the physical nor the key order
    follows arrival. `hour` is only a lower bound for the hour a key may be published in; which
    package really carries it is decided when the batch moves, by what is not published yet.
    """

    __tablename__ = "staged_upload"
    id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy's own attribute


class DiagnosisKey(Base):
    """A published (or to be published) key, or a padding key added at publish time.

    Rows arrive in shuffled batches; the table has no rowid (SQLite), so its order is the order
    of the random key bytes. Nothing here says which upload a key came from: no upload time
    beyond the hour a batch released it, no days since onset (already turned into the TRL).
    """

    __tablename__ = "diagnosis_key"
    key_data: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    submission_type: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolling_start_interval_number: Mapped[int] = mapped_column(BigInteger)
    rolling_period: Mapped[int] = mapped_column(Integer)
    transmission_risk_level: Mapped[int] = mapped_column(Integer)
    # First hour whose package may carry the key: not before its expiry + the expiry policy,
    # and not before the first hour the publisher had not packaged yet when the batch moved.
    release_hour: Mapped[int] = mapped_column(BigInteger)
    # The hour whose package carries the key, set in the publishing transaction; NULL = pending.
    package_hour: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    consent_to_federation: Mapped[bool] = mapped_column(Boolean)
    origin_country: Mapped[str] = mapped_column(String(3))
    visited_countries: Mapped[str] = mapped_column(Text)
    is_padding: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_diagnosis_key_package_hour", "package_hour"),
        Index("ix_diagnosis_key_release_hour", "release_hour"),
        {"sqlite_with_rowid": False},
    )


class CheckInReport(Base):
    """An encrypted check-in report (CWA event registration [docs/specifications.md#cwa-events]); the server cannot read it.

    A random 16-byte id, no rowid: neither ids nor storage order chain one person's visits.
    """

    __tablename__ = "checkin_report"
    id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    location_id_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    iv: Mapped[bytes] = mapped_column(LargeBinary(16))
    encrypted_check_in_record: Mapped[bytes] = mapped_column(LargeBinary(16))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    region: Mapped[str] = mapped_column(String(3))
    release_hour: Mapped[int] = mapped_column(BigInteger)
    package_hour: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        Index("ix_checkin_report_package_hour", "package_hour"),
        Index("ix_checkin_report_release_hour", "release_hour"),
        {"sqlite_with_rowid": False},
    )


class PublicationState(Base):
    """The publisher's counters: `watermark` (first hour not packaged yet) and
    `pending_checkin_uploads` (uploads whose reports wait for the threshold)."""

    __tablename__ = "publication_state"
    slot: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class SigningKey(Base):
    """A region's ECDSA P-256 export signing key; the private half encrypted under the secret."""

    __tablename__ = "signing_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region: Mapped[str] = mapped_column(String(3))
    key_id: Mapped[str] = mapped_column(String(64))
    key_version: Mapped[str] = mapped_column(String(16))
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("uq_signing_key_version", "region", "key_version", unique=True),)


class FederationSent(Base):
    """A local key already uploaded to the federation gateway (in the batch `batch_tag`)."""

    __tablename__ = "federation_sent"
    key_data: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    submission_type: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_tag: Mapped[str] = mapped_column(String(100))
    sent_hour: Mapped[int] = mapped_column(BigInteger)


class FederationBatch(Base):
    """A gateway download batch this member has imported (or given up on); one per tag.

    Written in the same transaction as the batch's keys, so an import interrupted at any point
    is either complete or redone from scratch on the next run.
    """

    __tablename__ = "federation_batch"
    batch_tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(24))
    keys_imported: Mapped[int] = mapped_column(Integer)
    keys_rejected: Mapped[int] = mapped_column(Integer)
    next_tag: Mapped[str | None] = mapped_column(String(32), nullable=True)
    processed_at: Mapped[int] = mapped_column(BigInteger)


class WebUser(Base):
    """A portal account of health-authority staff (lab, hotline, admin); never a citizen.

    Only the Argon2 hash of the password is kept (`tracewarn server create-user`).
    """

    __tablename__ = "web_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """A signed-in portal session, reachable only by the HMAC of its cookie value."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hmac: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class RateLimitHit(Base):
    """Requests counted in one sub-window of the shared sliding-window rate limit (ratelimit.py).

    `tag` is a keyed hash of the client address under a key that changes every window, or a
    random per-process shard id for the global count; never an address. Rows are deleted as soon
    as their sub-window leaves the window.
    """

    __tablename__ = "rate_limit_hit"
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    tag: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_rate_limit_hit_slot", "slot"),)
