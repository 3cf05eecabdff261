"""The audit log becomes several hash chains, so that appends no longer wait for one another.

Every transaction of the bank appends to the log, and with one head every transaction waited for
the one before it to commit (its WAL flush included): the head was the bank's line. Now the head
table holds one row per chain; an append takes the first chain no one holds (``SKIP LOCKED``) and
each event names its chain. Each chain is a hash chain exactly as the single one was; verify
follows every chain, and an anchor marks every chain's head (``bankkeys.bank.audit``).

- ``audit_events.chain``: the chain of each event; every event written before is on chain 1.
- ``audit_head``: rows 2..8 join row 1, each at the genesis.
- PostgreSQL: ``audit_events_seq_seq`` numbers the events across chains (owned by the column, so
  ``TRUNCATE … RESTART IDENTITY`` resets it). SQLite has one writer at a time: there an append
  continues the numbering from the heads and only chain 1 is ever used.

Downgrade folds back to one chain only while chains 2..8 are empty: events on several chains
cannot become one chain without re-hashing them, which is what the log exists to prevent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHAINS = 8
_GENESIS = "0" * 64


def upgrade() -> None:
    op.add_column(
        "audit_events",
        sa.Column("chain", sa.SmallInteger(), nullable=False, server_default=sa.text("1")),
    )
    heads = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    bind = op.get_bind()
    present = set(bind.execute(sa.select(heads.c.id)).scalars())
    op.bulk_insert(
        heads,
        [
            {"id": chain, "seq": 0, "hash": _GENESIS}
            for chain in range(1, CHAINS + 1)
            if chain not in present
        ],
    )
    if bind.dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq")
        op.execute(
            "SELECT setval('audit_events_seq_seq', coalesce(max(seq), 0) + 1, false) "
            "FROM audit_events"
        )


def downgrade() -> None:
    bind = op.get_bind()
    spread = bind.execute(sa.text("SELECT count(*) FROM audit_events WHERE chain <> 1")).scalar()
    if spread:
        raise RuntimeError(
            f"the audit log has {spread} events on chains other than 1: folding them into one "
            "chain would mean re-hashing the log; downgrade below 0006 is refused"
        )
    if bind.dialect.name == "postgresql":
        op.execute("DROP SEQUENCE audit_events_seq_seq")
    op.execute("DELETE FROM audit_head WHERE id <> 1")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("chain")
