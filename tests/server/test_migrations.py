"""Alembic: the migrations build exactly the models' schema on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tracewarn.server.db import make_engine, upgrade_database
from tracewarn.server.models import Base


def test_upgrade_head_matches_models_and_is_idempotent(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, tmp_path)
        upgrade_database(engine, tmp_path)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            assert MigrationContext.configure(conn).get_current_revision() == "0002"
    finally:
        engine.dispose()
