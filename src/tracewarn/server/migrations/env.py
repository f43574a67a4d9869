"""Alembic environment: always run with a connection handed in by `tracewarn.server.db`."""

from __future__ import annotations

from alembic import context

from tracewarn.server.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through tracewarn.server.db.upgrade_database")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
