"""Federation: keys sent to the gateway, download batches imported from it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_sent",
        sa.Column("key_data", sa.LargeBinary(16), primary_key=True),
        sa.Column("submission_type", sa.Integer(), primary_key=True),
        sa.Column("batch_tag", sa.String(100), nullable=False),
        sa.Column("sent_hour", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "federation_batch",
        sa.Column("batch_tag", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("keys_imported", sa.Integer(), nullable=False),
        sa.Column("keys_rejected", sa.Integer(), nullable=False),
        sa.Column("next_tag", sa.String(32), nullable=True),
        sa.Column("processed_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("federation_batch")
    op.drop_table("federation_sent")
