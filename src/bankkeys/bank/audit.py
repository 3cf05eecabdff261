"""The tamper-evident audit log: a hash chain of events (Streebog-256, GOST R 34.11-2012).

Each event stores the hash of the previous event and its own hash over a canonical form that
includes its sequence number and that previous hash. Editing a row breaks its own hash; deleting or
reordering rows breaks the chain; deleting the newest rows is caught by the chain head, a one-row
table every append updates. Appends serialise on that head (``SELECT … FOR UPDATE`` on PostgreSQL,
the ``BEGIN IMMEDIATE`` write lock on SQLite), so the chain stays a line under concurrent writers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankkeys.bank.store.models import AuditEvent, AuditHead
from bankkeys.gost.streebog import streebog256

GENESIS_HASH = "0" * 64
HEAD_ID = 1


def canonical_json(value: Mapping[str, Any]) -> str:
    """JSON with sorted keys and no insignificant whitespace: one text per value."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def canonical_form(event: AuditEvent) -> bytes:
    """The bytes that are hashed: every column except ``hash`` itself."""
    return canonical_json(
        {
            "seq": event.seq,
            "at": event.at.isoformat(timespec="microseconds"),
            "actor": event.actor,
            "role": event.role,
            "action": event.action,
            "signer_id": event.signer_id,
            "request_id": event.request_id,
            "certificate_serial": event.certificate_serial,
            "details": event.details,
            "prev_hash": event.prev_hash,
        }
    ).encode("utf-8")


def event_hash(event: AuditEvent) -> str:
    return streebog256(canonical_form(event)).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    # Locked once per transaction; later appends in the same transaction reuse the row.
    transaction = session.get_transaction()
    cached = session.info.get("audit_head")
    if isinstance(cached, tuple) and cached[0] is transaction and cached[1] in session:
        kept: AuditHead = cached[1]
        return kept
    head = session.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:  # migrations create it; a fresh schema made another way gets one here
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    session.info["audit_head"] = (transaction, head)
    return head


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    role: str,
    action: str,
    signer_id: int | None = None,
    request_id: int | None = None,
    certificate_serial: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the change)."""
    head = _lock_head(session)
    event = AuditEvent(
        seq=head.seq + 1,
        at=at,
        actor=actor,
        role=role,
        action=action,
        signer_id=signer_id,
        request_id=request_id,
        certificate_serial=certificate_serial,
        details=canonical_json(details or {}),
        prev_hash=head.hash,
        hash="",
    )
    event.hash = event_hash(event)
    session.add(event)
    head.seq = event.seq
    head.hash = event.hash
    return event


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    kind: str  # "edited" | "missing" | "chain-broken" | "head-mismatch"
    message: str  # Russian, for the security officer


def verify(session: Session, *, batch: int = 5000) -> list[AuditProblem]:
    """Check the whole chain; an empty list means intact."""
    problems: list[AuditProblem] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    last_seq = 0
    for event in _events(session, batch):
        if event.seq != expected_seq:
            problems.append(
                AuditProblem(
                    expected_seq,
                    "missing",
                    f"отсутствуют записи {expected_seq}–{event.seq - 1} (удалены)",
                )
            )
        if event.prev_hash != prev_hash:
            problems.append(
                AuditProblem(
                    event.seq,
                    "chain-broken",
                    f"запись {event.seq} не продолжает предыдущую "
                    "(предыдущая удалена, изменена или записи переставлены)",
                )
            )
        if event_hash(event) != event.hash:
            problems.append(
                AuditProblem(event.seq, "edited", f"запись {event.seq} изменена после записи")
            )
        prev_hash = event.hash
        expected_seq = event.seq + 1
        last_seq = event.seq
    head = session.get(AuditHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != last_seq or head_hash != prev_hash:
        problems.append(
            AuditProblem(
                last_seq + 1 if head_seq > last_seq else head_seq,
                "head-mismatch",
                f"журнал кончается записью {last_seq}, а голова цепочки указывает на {head_seq} "
                "(последние записи удалены или голова изменена)",
            )
        )
    return problems


def _events(session: Session, batch: int) -> Iterator[AuditEvent]:
    # Keyset pagination: bounded memory and no server-side cursor needed on either database.
    after = 0
    while True:
        rows = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def events_for_request(session: Session, request_id: int) -> list[AuditEvent]:
    """A request's history, in order."""
    return list(
        session.execute(
            select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.seq)
        ).scalars()
    )
