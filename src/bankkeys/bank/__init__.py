"""The bank's side: organizations and signers, certificates, re-key requests, the status workflow,
the CA, printed-document records, notifications and the tamper-evident audit log.

``workflow`` is the one place where statuses and transitions are defined; ``store`` holds the
SQLAlchemy models, the database setup and the Alembic migrations.
"""
