"""Shared sliding-window rate limits: `rate_limit_hit`.

Revision ID: 0006
Revises: 0005_api_key_prefix
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005_api_key_prefix"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hit",
        sa.Column("scope", sa.String(8), primary_key=True),
        sa.Column("tag", sa.LargeBinary(16), primary_key=True),
        sa.Column("slot", sa.BigInteger(), primary_key=True),
        sa.Column("hits", sa.Integer(), nullable=False),
    )
    op.create_index("ix_rate_limit_hit_slot", "rate_limit_hit", ["slot"])
    if op.get_bind().dialect.name == "postgresql":
        # Counters live one window: no WAL (no record of who was counted, no fsync per request).
        op.execute("ALTER TABLE rate_limit_hit SET UNLOGGED")


def downgrade() -> None:
    op.drop_table("rate_limit_hit")
