"""Staging area, shuffled published tables without rowid, publication state.

`diagnosis_key` loses `days_since_onset_of_symptoms` and `submission_hour` (they grouped one
upload's keys) and gets `release_hour` / `package_hour`; `checkin_report` gets random 16-byte
ids. Both become WITHOUT ROWID on SQLite, so they are rebuilt: existing rows are copied in a
random order and count as packaged in their old hour (the publisher then writes any package the
indexes do not name yet, as after a crash).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    random_id = "randomblob(16)" if sqlite else "uuid_send(gen_random_uuid())"
    op.create_table(
        "staged_upload",
        sa.Column("id", sa.LargeBinary(16), primary_key=True),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "publication_state",
        sa.Column("slot", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "diagnosis_key_new",
        sa.Column("key_data", sa.LargeBinary(16), primary_key=True),
        sa.Column("submission_type", sa.Integer(), primary_key=True),
        sa.Column("rolling_start_interval_number", sa.BigInteger(), nullable=False),
        sa.Column("rolling_period", sa.Integer(), nullable=False),
        sa.Column("transmission_risk_level", sa.Integer(), nullable=False),
        sa.Column("release_hour", sa.BigInteger(), nullable=False),
        sa.Column("package_hour", sa.BigInteger(), nullable=True),
        sa.Column("consent_to_federation", sa.Boolean(), nullable=False),
        sa.Column("origin_country", sa.String(3), nullable=False),
        sa.Column("visited_countries", sa.Text(), nullable=False),
        sa.Column("is_padding", sa.Boolean(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO diagnosis_key_new SELECT key_data, submission_type, "
        "rolling_start_interval_number, rolling_period, transmission_risk_level, "
        "distribution_hour, distribution_hour, consent_to_federation, origin_country, "
        "visited_countries, is_padding FROM diagnosis_key ORDER BY random()"
    )
    op.create_table(
        "checkin_report_new",
        sa.Column("id", sa.LargeBinary(16), primary_key=True),
        sa.Column("location_id_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("iv", sa.LargeBinary(16), nullable=False),
        sa.Column("encrypted_check_in_record", sa.LargeBinary(16), nullable=False),
        sa.Column("mac", sa.LargeBinary(32), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("release_hour", sa.BigInteger(), nullable=False),
        sa.Column("package_hour", sa.BigInteger(), nullable=True),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO checkin_report_new SELECT {random_id}, location_id_hash, iv, "  # noqa: S608
        "encrypted_check_in_record, mac, region, submission_hour, submission_hour "
        "FROM checkin_report ORDER BY random()"
    )
    for table in ("diagnosis_key", "checkin_report"):
        op.drop_table(table)
        op.rename_table(f"{table}_new", table)
        if not sqlite:
            op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {table}_new_pkey TO {table}_pkey")
    op.create_index("ix_diagnosis_key_package_hour", "diagnosis_key", ["package_hour"])
    op.create_index("ix_diagnosis_key_release_hour", "diagnosis_key", ["release_hour"])
    op.create_index("ix_checkin_report_package_hour", "checkin_report", ["package_hour"])
    op.create_index("ix_checkin_report_release_hour", "checkin_report", ["release_hour"])


def downgrade() -> None:
    raise NotImplementedError("0002 dropped columns that linked uploads; there is no way back")
