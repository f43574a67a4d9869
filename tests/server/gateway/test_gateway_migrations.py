"""The gateway's own Alembic chain builds exactly its models' schema, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tracewarn.server.db import make_engine
from tracewarn.server.gateway.context import upgrade_gateway
from tracewarn.server.gateway.models import GatewayBase


def test_gateway_migrations_match_models(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_gateway(engine, tmp_path)
        upgrade_gateway(engine, tmp_path)
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": "gateway_alembic_version"}
            )
            assert compare_metadata(context, GatewayBase.metadata) == []
            assert context.get_current_revision() == "g0001"
    finally:
        engine.dispose()
