"""Initial schema: verification, submission, signing keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key_hmac", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "test_code",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("code_hmac", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("test_result", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("redeemed", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "teletan",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("teletan_hmac", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "registration_token",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_hmac", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("test_code_id", sa.Integer(), nullable=True),
        sa.Column("tans_issued", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "tan",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tan_hmac", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "diagnosis_key",
        sa.Column("key_data", sa.LargeBinary(16), primary_key=True),
        sa.Column("submission_type", sa.Integer(), primary_key=True),
        sa.Column("rolling_start_interval_number", sa.BigInteger(), nullable=False),
        sa.Column("rolling_period", sa.Integer(), nullable=False),
        sa.Column("transmission_risk_level", sa.Integer(), nullable=False),
        sa.Column("days_since_onset_of_symptoms", sa.Integer(), nullable=True),
        sa.Column("submission_hour", sa.BigInteger(), nullable=False),
        sa.Column("distribution_hour", sa.BigInteger(), nullable=False),
        sa.Column("consent_to_federation", sa.Boolean(), nullable=False),
        sa.Column("origin_country", sa.String(3), nullable=False),
        sa.Column("visited_countries", sa.Text(), nullable=False),
        sa.Column("is_padding", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_diagnosis_key_distribution_hour", "diagnosis_key", ["distribution_hour"])
    op.create_table(
        "checkin_report",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("location_id_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("iv", sa.LargeBinary(16), nullable=False),
        sa.Column("encrypted_check_in_record", sa.LargeBinary(16), nullable=False),
        sa.Column("mac", sa.LargeBinary(32), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("submission_hour", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_checkin_report_submission_hour", "checkin_report", ["submission_hour"])
    op.create_table(
        "signing_key",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("key_version", sa.String(16), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("uq_signing_key_version", "signing_key", ["region", "key_version"], unique=True)


def downgrade() -> None:
    for table in (
        "signing_key",
        "checkin_report",
        "diagnosis_key",
        "tan",
        "registration_token",
        "teletan",
        "test_code",
        "api_key",
    ):
        op.drop_table(table)
