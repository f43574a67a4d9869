"""Alembic: the migrations build exactly the models' schema on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tracewarn.server.db import MIGRATIONS_DIR, make_engine, upgrade_database
from tracewarn.server.models import Base


def test_upgrade_head_matches_models_and_is_idempotent(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, tmp_path)
        upgrade_database(engine, tmp_path)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            assert MigrationContext.configure(conn).get_current_revision() == _single_head()
    finally:
        engine.dispose()


def _single_head() -> str:
    """The one head of the migration chain (several heads would mean a forked history)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]
