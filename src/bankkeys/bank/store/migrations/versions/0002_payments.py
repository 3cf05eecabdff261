"""Payments: signature settings and rights, received documents and their signatures.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_settings",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("signatures_required", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("signatures_required IN (1, 2)", name="ck_signatures"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    op.create_table(
        "payment_rights",
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signing_right", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["signer_id"], ["signers.id"]),
        sa.PrimaryKeyConstraint("signer_id"),
    )
    op.create_table(
        "payment_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("payer_account", sa.String(length=20), nullable=False),
        sa.Column("doc_year", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=6), nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=False),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("content_hash"),
        sa.UniqueConstraint(
            "payer_account", "doc_year", "number", name="uq_payment_documents_number"
        ),
    )
    with op.batch_alter_table("payment_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_documents_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "payment_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("certificate_serial", sa.String(length=40), nullable=False),
        sa.Column("signing_right", sa.String(length=10), nullable=False),
        sa.Column("signature_hash", sa.String(length=64), nullable=False),
        sa.Column("cms", sa.LargeBinary(), nullable=False),
        sa.Column("signing_time", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["payment_documents.id"]),
        sa.ForeignKeyConstraint(["signer_id"], ["signers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("signature_hash"),
        sa.UniqueConstraint("document_id", "signing_right", name="uq_payment_signatures_right"),
        sa.UniqueConstraint("document_id", "signer_id", name="uq_payment_signatures_signer"),
    )
    with op.batch_alter_table("payment_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_signatures_document_id"), ["document_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_signatures_document_id"))
    op.drop_table("payment_signatures")
    with op.batch_alter_table("payment_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_documents_organization_id"))
    op.drop_table("payment_documents")
    op.drop_table("payment_rights")
    op.drop_table("payment_settings")
