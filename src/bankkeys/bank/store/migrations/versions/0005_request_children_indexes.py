"""Approvals and printed documents: drop the indexes on request_id alone.

The unique constraints (request_id, operator) and (request_id, kind) begin with request_id, so
they already serve every search by request; the extra indexes only cost each approval and each
registered document one more index entry, on the busiest path of the bank.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 20:55:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_DROPPED = (
    ("approvals", "ix_approvals_request_id"),
    ("printed_documents", "ix_printed_documents_request_id"),
)


def upgrade() -> None:
    for table, index in _DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(index))


def downgrade() -> None:
    for table, index in reversed(_DROPPED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(index), ["request_id"], unique=False)
