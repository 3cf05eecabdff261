"""The busiest path of the bank loses the index entries nothing reads (nine per request).

- Approvals and printed documents: the indexes on request_id alone go. The unique constraints
  (request_id, operator) and (request_id, kind) begin with request_id and serve every search by
  request already.
- Audit events and notifications: the indexes on signer_id go. Nothing searches the log by
  signer (a request's history goes by request_id, the console pages by seq), and the mailer joins
  notifications to signers by the signers' primary key; signers are never deleted.
- Re-key requests: the unique constraint on key_fingerprint goes. public_keys_seen's primary key
  refuses a key shown before, in the same transaction as every request's insert; the constraint
  here was checked second and cost each request (whose row is updated twice, never in place) an
  index entry at each version.

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
    ("approvals", "ix_approvals_request_id", "request_id"),
    ("printed_documents", "ix_printed_documents_request_id", "request_id"),
    ("audit_events", "ix_audit_events_signer_id", "signer_id"),
    ("notifications", "ix_notifications_signer_id", "signer_id"),
)
# 0001 left the constraint unnamed: PostgreSQL named it; SQLite gets it by this convention while
# the table is copied.
_KEY_UNIQUE_PG = "rekey_requests_key_fingerprint_key"
_KEY_UNIQUE_SQLITE = "uq_rekey_requests_key_fingerprint"
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    for table, index, _column in _DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(index))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("rekey_requests", naming_convention=_NAMING) as batch_op:
            batch_op.drop_constraint(_KEY_UNIQUE_SQLITE, type_="unique")
    else:
        op.drop_constraint(_KEY_UNIQUE_PG, "rekey_requests", type_="unique")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("rekey_requests", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            _KEY_UNIQUE_SQLITE if sqlite else _KEY_UNIQUE_PG, ["key_fingerprint"]
        )
    for table, index, column in reversed(_DROPPED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(index), [column], unique=False)
