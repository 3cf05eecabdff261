"""TOTP secrets sealed at rest: the column widened for ``v1:<key id>:<nonce>:<ciphertext>``.

The clear secrets are encrypted right after the migrations by the process that runs them
(bankkeys.server.totp_at_rest.open_server_keys): a migration has no settings, so no key file.

Revision ID: s0002
Revises: s0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite keeps any length in a VARCHAR; rebuilding the table (batch mode) there would only
    # copy the accounts that the sessions refer to.
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "server_accounts",
        "totp_secret",
        existing_type=sa.String(length=64),
        type_=sa.String(length=200),
        existing_nullable=False,
    )


def downgrade() -> None:
    bind = op.get_bind()
    sealed = bind.execute(
        sa.text("SELECT count(*) FROM server_accounts WHERE totp_secret LIKE 'v1:%'")
    ).scalar_one()
    if sealed:
        raise RuntimeError(
            f"{sealed} TOTP secrets are sealed with the key file; the older schema keeps them in "
            "clear only, and a migration cannot reach the key: re-enrol those accounts instead"
        )
    if bind.dialect.name == "sqlite":
        return
    op.alter_column(
        "server_accounts",
        "totp_secret",
        existing_type=sa.String(length=200),
        type_=sa.String(length=64),
        existing_nullable=False,
    )
