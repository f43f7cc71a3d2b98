"""Alembic environment: runs on the connection jirabridge hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from jirabridge.sync.store._schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("run migrations through jirabridge.sync.store.Store.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
