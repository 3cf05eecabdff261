"""Alembic migrations of the bank store (run by :func:`bankkeys.bank.store.db.upgrade`)."""
