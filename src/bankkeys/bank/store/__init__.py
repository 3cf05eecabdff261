"""Persistence of the bank: SQLAlchemy models, database setup, Alembic migrations."""

from bankkeys.bank.store.db import Database, database_url, open_database, upgrade

__all__ = ["Database", "database_url", "open_database", "upgrade"]
