"""Alembic environment of the server's tables; its own version table beside the bank's."""

from __future__ import annotations

from alembic import context

from bankkeys.server.store.migrate import VERSION_TABLE
from bankkeys.server.store.models import ServerBase

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run through bankkeys.server.store.migrate.upgrade")
context.configure(
    connection=connection,
    target_metadata=ServerBase.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
