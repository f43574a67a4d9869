"""Gateway initial schema: certificates, uploads, keys, download batches, callbacks.

Revision ID: g0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "g0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_certificate",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("thumbprint", sa.String(64), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("operator_signature", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "uq_member_certificate", "member_certificate", ["thumbprint", "kind"], unique=True
    )
    op.create_table(
        "download_batch",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("tag", sa.String(32), nullable=False, unique=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("next_tag", sa.String(32), nullable=True),
    )
    op.create_index("ix_download_batch_created_at", "download_batch", ["created_at"])
    op.create_table(
        "upload_batch",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("batch_tag", sa.String(100), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("uploaded_at", sa.BigInteger(), nullable=False),
        sa.Column("uploader_thumbprint", sa.String(64), nullable=False),
        sa.Column("signing_thumbprint", sa.String(64), nullable=False),
        sa.Column("batch_signature", sa.Text(), nullable=False),
        sa.Column("signature_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("format_version", sa.String(8), nullable=False),
        sa.Column("keys_deleted", sa.Boolean(), nullable=False),
        sa.Column("download_batch_id", _ID, sa.ForeignKey("download_batch.id"), nullable=True),
    )
    op.create_index("uq_upload_batch_tag", "upload_batch", ["batch_tag"], unique=True)
    op.create_index("ix_upload_batch_download", "upload_batch", ["download_batch_id"])
    op.create_table(
        "gateway_key",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("upload_batch_id", _ID, sa.ForeignKey("upload_batch.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key_data", sa.LargeBinary(16), nullable=False),
        sa.Column("rolling_start_interval_number", sa.BigInteger(), nullable=False),
        sa.Column("rolling_period", sa.Integer(), nullable=False),
        sa.Column("transmission_risk_level", sa.BigInteger(), nullable=False),
        sa.Column("visited_countries", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(3), nullable=False),
        sa.Column("report_type", sa.Integer(), nullable=False),
        sa.Column("days_since_onset_of_symptoms", sa.Integer(), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_gateway_key_upload", "gateway_key", ["upload_batch_id", "position"])
    op.create_table(
        "callback_subscription",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("callback_id", sa.String(64), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "uq_subscription", "callback_subscription", ["country", "callback_id"], unique=True
    )
    op.create_table(
        "callback_task",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "subscription_id",
            sa.Integer(),
            sa.ForeignKey("callback_subscription.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("batch_tag", sa.String(32), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "callback_task",
        "callback_subscription",
        "gateway_key",
        "upload_batch",
        "download_batch",
        "member_certificate",
    ):
        op.drop_table(table)
