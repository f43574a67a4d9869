"""Alembic environment of the gateway: its own chain and version table in its own database."""

from __future__ import annotations

from alembic import context

from tracewarn.server.gateway.models import GatewayBase

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through tracewarn.server.gateway.db.upgrade_gateway")
context.configure(
    connection=connection,
    target_metadata=GatewayBase.metadata,
    render_as_batch=True,
    version_table="gateway_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
