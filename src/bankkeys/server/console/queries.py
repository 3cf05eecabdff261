"""The console's reads: queues, search, expiring certificates, the audit log. Pure queries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from bankkeys.bank.payments_store import PaymentRight, PaymentSettings, SigningRight
from bankkeys.bank.store.models import (
    Approval,
    AuditEvent,
    Certificate,
    Organization,
    PrintedDocument,
    RekeyRequest,
    Signer,
)
from bankkeys.bank.workflow import DocumentKind, RequestState


@dataclass(frozen=True)
class QueueRow:
    request: RekeyRequest
    signer: Signer
    organization: Organization
    approvals: int


def queue(session: Session, states: tuple[RequestState, ...], limit: int = 200) -> list[QueueRow]:
    approvals = (
        select(Approval.request_id, func.count().label("n"))
        .group_by(Approval.request_id)
        .subquery()
    )
    rows = session.execute(
        select(RekeyRequest, Signer, Organization, func.coalesce(approvals.c.n, 0))
        .join(Signer, Signer.id == RekeyRequest.signer_id)
        .join(Organization, Organization.id == Signer.organization_id)
        .outerjoin(approvals, approvals.c.request_id == RekeyRequest.id)
        .where(RekeyRequest.state.in_([str(s) for s in states]))
        .order_by(RekeyRequest.accepted_at, RekeyRequest.id)
        .limit(limit)
    ).all()
    return [QueueRow(r, s, o, int(n)) for r, s, o, n in rows]


def awaiting_transfer_act(
    session: Session, now: datetime, days: int = 365, limit: int = 200
) -> list[QueueRow]:
    """Installed on a named token (seed 003) and the signed original of the «Акт приема-передачи»
    not yet with the bank. Requests accepted within ``days`` only: the range stays on the
    (state, accepted_at) index instead of every installation in the bank's history."""
    received = exists().where(
        PrintedDocument.request_id == RekeyRequest.id,
        PrintedDocument.kind == str(DocumentKind.TRANSFER_ACT),
        PrintedDocument.received_at.is_not(None),
    )
    rows = session.execute(
        select(RekeyRequest, Signer, Organization)
        .join(Signer, Signer.id == RekeyRequest.signer_id)
        .join(Organization, Organization.id == Signer.organization_id)
        .where(
            RekeyRequest.state == str(RequestState.INSTALLED),
            RekeyRequest.accepted_at >= now - timedelta(days=days),
            RekeyRequest.token_model.is_not(None),
            RekeyRequest.token_serial.is_not(None),
            ~received,
        )
        .order_by(RekeyRequest.accepted_at, RekeyRequest.id)
        .limit(limit)
    ).all()
    return [QueueRow(r, s, o, 0) for r, s, o in rows]


@dataclass(frozen=True)
class CertificateRow:
    certificate: Certificate
    signer: Signer | None
    organization: Organization | None


def search(session: Session, text: str, limit: int = 100) -> tuple[list[Signer], list[Certificate]]:
    """Signers by organization name, INN, surname or login; certificates by serial prefix."""
    text = text.strip()
    if not text:
        return [], []
    # SQLite folds only ASCII case: match the usual spellings of a Cyrillic word too.
    variants = {text, text.lower(), text.capitalize(), text.upper(), text.title()}
    name_match = [
        column.ilike(f"%{v}%") for v in variants for column in (Organization.name, Signer.surname)
    ]
    signers = (
        session.execute(
            select(Signer)
            .join(Organization, Organization.id == Signer.organization_id)
            .where(
                or_(
                    *name_match,
                    Organization.inn == text,
                    func.lower(Signer.login) == text.lower(),
                )
            )
            .order_by(Organization.name, Signer.surname)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    serial = text.lower().lstrip("0") or "0"
    certificates = (
        session.execute(
            select(Certificate)
            .where(Certificate.serial.like(f"{serial}%"), Certificate.is_ca.is_(False))
            .limit(limit)
        )
        .scalars()
        .all()
        if all(c in "0123456789abcdef" for c in serial)
        else []
    )
    return list(signers), list(certificates)


def expiring(session: Session, now: datetime, days: int, limit: int = 500) -> list[CertificateRow]:
    rows = session.execute(
        select(Certificate, Signer, Organization)
        .outerjoin(Signer, Signer.id == Certificate.signer_id)
        .outerjoin(Organization, Organization.id == Signer.organization_id)
        .where(
            Certificate.is_ca.is_(False),
            Certificate.revoked_at.is_(None),
            Certificate.not_after > now,
            Certificate.not_after <= now + timedelta(days=days),
        )
        .order_by(Certificate.not_after)
        .limit(limit)
    ).all()
    return [CertificateRow(c, s, o) for c, s, o in rows]


def certificates_of(session: Session, signer_id: int) -> list[Certificate]:
    return list(
        session.execute(
            select(Certificate)
            .where(Certificate.signer_id == signer_id)
            .order_by(Certificate.not_after.desc())
        )
        .scalars()
        .all()
    )


def requests_of(session: Session, signer_id: int) -> list[RekeyRequest]:
    return list(
        session.execute(
            select(RekeyRequest)
            .where(RekeyRequest.signer_id == signer_id)
            .order_by(RekeyRequest.id.desc())
            .limit(20)
        )
        .scalars()
        .all()
    )


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    details: dict[str, Any]


def audit_page(session: Session, before: int | None, limit: int = 100) -> list[AuditRow]:
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(AuditEvent.seq < before)
    return [AuditRow(e, json.loads(e.details)) for e in session.execute(stmt).scalars()]


def approvals_of(session: Session, request_id: int) -> list[Approval]:
    return list(
        session.execute(select(Approval).where(Approval.request_id == request_id)).scalars().all()
    )


@dataclass(frozen=True)
class PaymentRightRow:
    """A signer's right on payment documents as the payment desk applies it."""

    right: SigningRight
    assigned: bool  # False: no row, the desk's default (the first signature) applies
    updated_at: datetime | None
    signatures_required: int  # of the signer's organization: 1 or 2


def payment_right_of(session: Session, signer: Signer) -> PaymentRightRow:
    row = session.get(PaymentRight, signer.id)
    settings = session.get(PaymentSettings, signer.organization_id)
    return PaymentRightRow(
        right=SigningRight(row.signing_right) if row else SigningRight.FIRST,
        assigned=row is not None,
        updated_at=row.updated_at if row else None,
        signatures_required=settings.signatures_required if settings else 1,
    )
