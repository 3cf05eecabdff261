"""The bank's tables. Facts only: display statuses are derived in :mod:`bankkeys.bank.workflow`.

A request's lifecycle ``state`` is the one stored status (it records what the bank and the client
did); everything shown to users is computed from it, the certificates and the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bankkeys.bank.store.types import UTCDateTime

# The request states in which a request is "open" (see workflow.RequestState). Written out here
# because it is part of the schema (a partial unique index); a test keeps the two in step.
OPEN_STATES_SQL = "state IN ('accepted', 'documents_received', 'approved', 'issued')"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    inn: Mapped[str] = mapped_column(String(12), unique=True)
    kpp: Mapped[str | None] = mapped_column(String(9))
    ogrn: Mapped[str] = mapped_column(String(15))
    address: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime]

    signers: Mapped[list[Signer]] = relationship(back_populates="organization")


class Signer(Base):
    """A person at a client organization who signs with a key (абонент, владелец сертификата)."""

    __tablename__ = "signers"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    surname: Mapped[str] = mapped_column(String(200))
    # Given name and patronymic, as the GN attribute of a Russian qualified certificate holds them.
    given_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(300))
    snils: Mapped[str] = mapped_column(String(11))
    email: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(50))
    # "действующий на основании ..." in the genitive case (seed 003), e.g. "Устава".
    acting_on: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]

    organization: Mapped[Organization] = relationship(back_populates="signers")

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.given_name}"


class ActivationCode(Base):
    """A one-time code printed for a signer's first key (or after an in-person application)."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"), index=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]


class PublicKeySeen(Base):
    """Every public key the bank has ever been shown: a key is certified at most once."""

    __tablename__ = "public_keys_seen"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("signers.id"))
    first_seen_at: Mapped[datetime]


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (
        Index("ix_certificates_not_after", "not_after"),
        # "Has this signer a later certificate?" is one range scan, whatever the statistics say.
        Index("ix_certificates_signer_not_after", "signer_id", "not_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)  # lowercase hex, no leading zeros
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("signers.id"))
    # The request it was issued for: at most one certificate per request.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("rekey_requests.id"), unique=True)
    is_ca: Mapped[bool] = mapped_column(Boolean, default=False)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    # No index: nothing searches certificates by key (public_keys_seen refuses a key shown before).
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(40))


class RekeyRequest(Base):
    """A request for a new key set (initial or planned renewal) and what happened to it."""

    __tablename__ = "rekey_requests"
    __table_args__ = (
        Index(
            "uq_rekey_requests_one_open_per_signer",
            "signer_id",
            unique=True,
            sqlite_where=text(OPEN_STATES_SQL),
            postgresql_where=text(OPEN_STATES_SQL),
        ),
        Index("ix_rekey_requests_state_accepted_at", "state", "accepted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # workflow.RequestKind
    path: Mapped[str] = mapped_column(String(40))  # workflow renewal path name
    state: Mapped[str] = mapped_column(String(30))  # workflow.RequestState
    submitted_der: Mapped[bytes] = mapped_column(LargeBinary)
    pkcs10_der: Mapped[bytes] = mapped_column(LargeBinary)
    public_key_info: Mapped[bytes] = mapped_column(LargeBinary)
    # Never reused: public_keys_seen's primary key refuses a key shown before, in the same
    # transaction as every request's insert (a unique constraint here only cost index entries).
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    subject_json: Mapped[str] = mapped_column(Text)  # the fields as the client confirmed them
    # The certificate whose key signed the request (renewals). No foreign key: certificates point
    # at requests already, and a cycle of foreign keys cannot be created on SQLite.
    old_certificate_id: Mapped[int | None]
    accepted_at: Mapped[datetime]
    documents_received_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    installed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
    # The key carrier the client wrote the certificate to, as it reported when confirming the
    # installation (seed 003: model and the serial printed on it); for the «Акт приема-передачи».
    token_model: Mapped[str | None] = mapped_column(String(100))
    token_serial: Mapped[str | None] = mapped_column(String(64))


class Approval(Base):
    """One operator's approval of a request; four eyes needs two distinct operators."""

    __tablename__ = "approvals"
    # The unique constraint begins with request_id: it serves the search by request too.
    __table_args__ = (UniqueConstraint("request_id", "operator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("rekey_requests.id"))
    operator: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class PrintedDocument(Base):
    """A document the client printed (or signed electronically) for a request, and its receipt."""

    __tablename__ = "printed_documents"
    # The unique constraint begins with request_id: it serves the search by request too.
    __table_args__ = (UniqueConstraint("request_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("rekey_requests.id"))
    kind: Mapped[str] = mapped_column(String(40))  # workflow.DocumentKind
    copies: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    printed_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(100))
    signed_der: Mapped[bytes | None] = mapped_column(LargeBinary)  # CMS of an e-signed act


class AuditEvent(Base):
    """One link of a hash chain: ``hash`` = Streebog-256 of the canonical form, which includes
    ``prev_hash`` (the hash of the chain's previous event). ``seq`` orders the events of every
    chain; ``chain`` names the one this event continues. Details are stored as the canonical JSON
    text, never re-encoded by the DB."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(60))
    signer_id: Mapped[int | None]  # no index: nothing searches the log by signer
    request_id: Mapped[int | None] = mapped_column(index=True)  # a request's history
    certificate_serial: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    chain: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))


class AuditHead(Base):
    """A chain's head, one row per chain (``id``): the seq and hash of its last event. An append
    locks one head, so each chain is a line even across servers (see ``bank.audit``)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """A message to send. ``key`` makes queueing idempotent: the same event queues once."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # No index: the mailer joins to signers by their primary key, and signers are never deleted.
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("signers.id"))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class CaRecord(Base):
    """The bank's CA: its certificate and where its key lives (a token reference, no secret)."""

    __tablename__ = "ca"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    key_ref: Mapped[str] = mapped_column(Text)  # JSON: backend, location, label — never a PIN
    algorithm: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class Crl(Base):
    """Every CRL the CA signed; ``number`` is the cRLNumber, strictly increasing."""

    __tablename__ = "crls"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ca_id: Mapped[int] = mapped_column(ForeignKey("ca.id"))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    this_update: Mapped[datetime]
    next_update: Mapped[datetime]
