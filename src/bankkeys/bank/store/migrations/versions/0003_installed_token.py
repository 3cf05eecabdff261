"""Re-key requests: the token (model, serial) the client installed the certificate on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rekey_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_model", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("token_serial", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rekey_requests", schema=None) as batch_op:
        batch_op.drop_column("token_serial")
        batch_op.drop_column("token_model")
