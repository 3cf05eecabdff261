"""The tamper-evident audit log: a hash chain of events (Streebog-256, GOST R 34.11-2012).

Each event stores the hash of the previous event and its own hash over a canonical form that
includes its sequence number and that previous hash. Editing a row breaks its own hash; deleting or
reordering rows breaks the chain; deleting the newest rows is caught by the chain head, a one-row
table every append updates. Appends serialise on that head (``SELECT … FOR UPDATE`` on PostgreSQL,
the ``BEGIN IMMEDIATE`` write lock on SQLite), so the chain stays a line under concurrent writers.

An append only queues the event on the session; the queued events are chained and written just
before the transaction commits (a ``before_commit`` hook), all of them under one lock of the head.
Every transaction of the bank writes the log, so the head is what serialises them: taking it at
the very end keeps it held for two statements and the commit, not for the whole transaction. The
events still commit or roll back with the change they describe, and their order in the chain is
the order in which the transactions committed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event as sqla_event
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from bankkeys.bank.store.models import AuditEvent, AuditHead
from bankkeys.gost.streebog import streebog256

GENESIS_HASH = "0" * 64
HEAD_ID = 1


def canonical_json(value: Mapping[str, Any]) -> str:
    """JSON with sorted keys and no insignificant whitespace: one text per value."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


_HASHED: tuple[str, ...] = (
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "signer_id",
    "request_id",
    "certificate_serial",
    "details",
    "prev_hash",
)


def _canonical(values: Mapping[str, Any]) -> bytes:
    fields = {name: values[name] for name in _HASHED}
    fields["at"] = values["at"].isoformat(timespec="microseconds")
    return canonical_json(fields).encode("utf-8")


def canonical_form(event: AuditEvent) -> bytes:
    """The bytes that are hashed: every column except ``hash`` itself."""
    return _canonical({name: getattr(event, name) for name in _HASHED})


def event_hash(event: AuditEvent) -> str:
    return streebog256(canonical_form(event)).hexdigest()


_PENDING = "audit_pending"
# Up to this many events go in with the head's UPDATE as one statement (11 parameters each, well
# under PostgreSQL's 65,535); a larger batch (a tick expiring many requests) is an executemany,
# which SQLAlchemy splits into statements that fit.
_ONE_STATEMENT_EVENTS = 500


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
) -> None:
    """Append one event in the caller's transaction (it commits or rolls back with the change).

    The event is chained and written when the transaction commits (see the module's notes)."""
    event = {
        "at": at,
        "actor": actor,
        "role": role,
        "action": action,
        "signer_id": signer_id,
        "request_id": request_id,
        "certificate_serial": certificate_serial,
        "details": canonical_json(details or {}),
    }
    # The innermost transaction is kept so that rolling back a savepoint drops its events.
    scope = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((scope, event))


@sqla_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    kept = [(scope, event) for scope, event in pending if not _within(scope, previous)]
    if kept:
        session.info[_PENDING] = kept
    else:
        del session.info[_PENDING]


@sqla_event.listens_for(Session, "after_transaction_end")
def _forget_unwritten(session: Session, ended: SessionTransaction) -> None:
    # A committed transaction wrote its events already; any left belong to work that is gone.
    if ended.parent is None:
        session.info.pop(_PENDING, None)


def _within(scope: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while scope is not None:
        if scope is outer:
            return True
        scope = scope.parent
    return False


@sqla_event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    seq, prev_hash = _lock_head(session)
    rows = []
    for _scope, event in pending:
        seq += 1
        row = {**event, "seq": seq, "prev_hash": prev_hash}
        row["hash"] = prev_hash = streebog256(_canonical(row)).hexdigest()
        rows.append(row)
    move_head = (
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(seq=seq, hash=prev_hash)
        .execution_options(synchronize_session=False)
    )
    if session.get_bind().dialect.name == "postgresql" and len(rows) <= _ONE_STATEMENT_EVENTS:
        # One round trip: the events go in through a data-modifying WITH of the head's UPDATE.
        session.execute(move_head.add_cte(insert(AuditEvent).values(rows).cte("appended")))
    else:
        session.execute(insert(AuditEvent), rows)
        session.execute(move_head)


def _lock_head(session: Session) -> tuple[int, str]:
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID).with_for_update()
    ).first()
    if head is None:  # migrations create it; a fresh schema made another way gets one here
        session.execute(insert(AuditHead).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return int(head.seq), str(head.hash)


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
