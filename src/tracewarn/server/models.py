"""SQLAlchemy tables. Nothing here can name a person: no IP, device id, phone or location.

Times are integers (unix seconds, or hours since the epoch where CWA truncates to the hour to hide
the exact upload time), which keeps SQLite and PostgreSQL identical. Schema changes go through
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
    "RegistrationToken",
    "SigningKey",
    "Tan",
    "TeleTan",
    "TestCode",
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


class DiagnosisKey(Base):
    """An accepted key (or a padding key added at publish time), CWA's `diagnosis_key` table."""

    __tablename__ = "diagnosis_key"
    key_data: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    submission_type: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolling_start_interval_number: Mapped[int] = mapped_column(BigInteger)
    rolling_period: Mapped[int] = mapped_column(Integer)
    transmission_risk_level: Mapped[int] = mapped_column(Integer)
    days_since_onset_of_symptoms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submission_hour: Mapped[int] = mapped_column(BigInteger)
    # First hour whose package may carry the key: expiry + expiry policy, never before upload.
    distribution_hour: Mapped[int] = mapped_column(BigInteger)
    consent_to_federation: Mapped[bool] = mapped_column(Boolean)
    origin_country: Mapped[str] = mapped_column(String(3))
    visited_countries: Mapped[str] = mapped_column(Text)
    is_padding: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_diagnosis_key_distribution_hour", "distribution_hour"),)


class CheckInReport(Base):
    """An encrypted check-in report (cwa-risk-and-checkins.md §3.9); the server cannot read it."""

    __tablename__ = "checkin_report"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    location_id_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    iv: Mapped[bytes] = mapped_column(LargeBinary(16))
    encrypted_check_in_record: Mapped[bytes] = mapped_column(LargeBinary(16))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    region: Mapped[str] = mapped_column(String(3))
    submission_hour: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_checkin_report_submission_hour", "submission_hour"),)


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
