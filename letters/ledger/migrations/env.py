"""Alembic environment: the ledger passes its own connection in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from letters.ledger.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through Ledger.migrate()
    raise RuntimeError("run migrations through letters.ledger.Ledger.migrate()")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
