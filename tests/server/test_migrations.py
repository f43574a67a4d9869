"""Alembic: the migrations build exactly the models' schema on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tracewarn.server.db import MIGRATIONS_DIR, make_engine, upgrade_database
from tracewarn.server.models import Base


def test_upgrade_head_matches_models_and_is_idempotent(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, tmp_path)
        upgrade_database(engine, tmp_path)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            # One linear chain: the database is at the single head of the scripts.
            script = ScriptDirectory.from_config(_config())
            assert len(script.get_heads()) == 1
            assert (
                MigrationContext.configure(conn).get_current_revision() == script.get_current_head()
            )
    finally:
        engine.dispose()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
