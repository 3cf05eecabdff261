"""Alembic environment: migrations run on a connection handed over by ``store.db.upgrade``."""

from __future__ import annotations

from alembic import context

from bankkeys.bank.store.db import database_url, open_database
from bankkeys.bank.store.models import Base


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    db = open_database(database_url())
    with db.engine.begin() as conn:
        _run(conn)
    db.dispose()
