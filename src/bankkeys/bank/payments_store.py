"""The bank's payment tables: who must sign, who may sign, and the documents received.

Facts only. A document row exists once its signatures verified; ``state`` records whether every
required signature is there (``accepted``) or the second is awaited. Refusals are answered and
written to the audit log, never stored as documents: a refused number stays free for the
corrected document.

Duplicate rule: a document number is unique per payer account and calendar year of the
document date (``uq_payment_documents_number``) — numbering in 1C restarts every year and runs
per organization, and an organization may hold several accounts, each numbered on its own.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bankkeys.bank.store.models import Base


class SigningRight(StrEnum):
    """A signer's right on payment documents (право первой / второй подписи)."""

    FIRST = "first"
    SECOND = "second"
    NONE = "none"


class DocumentState(StrEnum):
    AWAITING_SECOND = "awaiting_second"  # verified first signature (or second), one to go
    ACCEPTED = "accepted"


class PaymentSettings(Base):
    """Per organization: how many signatures a payment needs (1 or 2). No row: one."""

    __tablename__ = "payment_settings"
    __table_args__ = (CheckConstraint("signatures_required IN (1, 2)", name="ck_signatures"),)

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    signatures_required: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class PaymentRight(Base):
    """Per signer: first, second or no signature right. No row: the first signature right."""

    __tablename__ = "payment_rights"

    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"), primary_key=True)
    signing_right: Mapped[str] = mapped_column(String(10))  # SigningRight
    updated_at: Mapped[datetime]


class PaymentDocument(Base):
    """A payment order the bank received with verified signatures (canonical bytes kept)."""

    __tablename__ = "payment_documents"
    __table_args__ = (
        UniqueConstraint("payer_account", "doc_year", "number", name="uq_payment_documents_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    payer_account: Mapped[str] = mapped_column(String(20))
    doc_year: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(6))
    doc_date: Mapped[date] = mapped_column(Date)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)  # Streebog-256, hex
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20))  # DocumentState
    received_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]


class PaymentSignature(Base):
    """One verified signature on a document; a right is used at most once per document."""

    __tablename__ = "payment_signatures"
    __table_args__ = (
        UniqueConstraint("document_id", "signing_right", name="uq_payment_signatures_right"),
        UniqueConstraint("document_id", "signer_id", name="uq_payment_signatures_signer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Searched by document through either unique constraint (both begin with it): no own index.
    document_id: Mapped[int] = mapped_column(ForeignKey("payment_documents.id"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    certificate_serial: Mapped[str] = mapped_column(String(40))
    signing_right: Mapped[str] = mapped_column(String(10))  # SigningRight
    signature_hash: Mapped[str] = mapped_column(String(64), unique=True)  # of the CMS bytes
    cms: Mapped[bytes] = mapped_column(LargeBinary)
    signing_time: Mapped[datetime]
    received_at: Mapped[datetime]
