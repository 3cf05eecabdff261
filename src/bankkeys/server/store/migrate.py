"""Apply the server's migrations (after the bank's: its tables refer to ``signers``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bankkeys.bank.store.db import Database
from bankkeys.bank.store.db import upgrade as upgrade_bank

VERSION_TABLE = "bankkeys_server_version"
MIGRATIONS = "bankkeys.server.store:migrations"


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the bank's tables and then the server's to their newest revision (or
    ``revision``: tests build an older schema to upgrade from)."""
    upgrade_bank(db)
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
