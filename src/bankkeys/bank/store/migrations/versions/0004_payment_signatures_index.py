"""Payment signatures: drop the index on document_id alone.

Both unique constraints (document_id, signing_right) and (document_id, signer_id) begin with
document_id, so either already serves a search by document; the third index only cost every
signature written one more index entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_signatures_document_id"))


def downgrade() -> None:
    with op.batch_alter_table("payment_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_signatures_document_id"), ["document_id"], unique=False
        )
