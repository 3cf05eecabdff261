"""Certificates lose the index on key_fingerprint: nothing searches certificates by their key.

A key shown before is refused through public_keys_seen's primary key, in the same transaction as
the request that shows it; a certificate is found by its serial, its request or its signer.
Every issuance paid for the index entry (one of six on the table).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 00:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_key_fingerprint"))


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificates_key_fingerprint"), ["key_fingerprint"], unique=False
        )
