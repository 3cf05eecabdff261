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

A transition may also hand over its last plain writes (an INSERT or UPDATE whose result it does
not read back: see :func:`write_at_commit`). They go in just before the head is locked, on
PostgreSQL as one statement (data-modifying WITHs); the events and the head's UPDATE are one more.
Under the lock there is then one statement and the commit: the commit's WAL flush is the part of
the head's hold no statement can shorten, and with two processes on two cores, writing ahead of
the lock cut the time spent waiting for the head by about 40%.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy import event as sqla_event
from sqlalchemy.orm import Session, SessionTransaction

from bankkeys.bank.store.driver import DriverUnit, Unit
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


Executor = Connection | DriverUnit

_PENDING = "audit_pending"
# Up to this many events go in with the head's UPDATE as one statement (a fixed shape for each
# count, compiled once); a larger batch (a tick expiring many requests) is an executemany.
_ONE_STATEMENT_EVENTS = 8
_ONE_STATEMENT_WRITES = 8


def append(
    session: Unit,
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
    _queue(session, event)


@dataclass(frozen=True)
class _Write:
    statement: Any
    params: Mapping[str, Any]


def write_at_commit(session: Unit, statement: Any, params: Mapping[str, Any]) -> None:
    """Run ``statement`` (an INSERT or UPDATE built once, with bound parameters only) when the
    transaction commits, before its audit events; it commits or rolls back with them.

    For writes nothing in the transaction reads back. A failure here fails the commit, before
    the audit head is locked: a write that a constraint may refuse (a key shown before, a second
    open request) is for a caller that tells the refusal apart by the constraint's name.
    Its bound parameters' names must differ from every other write's of the same transaction."""
    _queue(session, _Write(statement, params))


def _queue(session: Unit, item: Mapping[str, Any] | _Write) -> None:
    # The innermost transaction is kept so that rolling back a savepoint drops its items (a
    # driver unit has no savepoints).
    scope = (
        session.get_nested_transaction() or session.get_transaction()
        if isinstance(session, Session)
        else None
    )
    session.info.setdefault(_PENDING, []).append((scope, item))


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
    if session.info.get(_PENDING):
        # The ORM's own writes go first, so that the head is locked only for the last statements.
        session.flush()
        _write(session.info.pop(_PENDING), session.connection())


def write_pending(unit: DriverUnit) -> None:
    """What a driver unit queued (events, writes at commit): its ``before_commit``."""
    pending = unit.info.pop(_PENDING, None)
    if pending:
        _write(pending, unit)


def _write(pending: list[tuple[Any, Mapping[str, Any] | _Write]], connection: Executor) -> None:
    writes = [item for _scope, item in pending if isinstance(item, _Write)]
    events = [item for _scope, item in pending if not isinstance(item, _Write)]
    together = (
        connection.dialect.name == "postgresql"
        and len(events) <= _ONE_STATEMENT_EVENTS
        and len(writes) <= _ONE_STATEMENT_WRITES
    )
    # The writes go in before the head is locked: the head serialises every transaction of the
    # bank until its commit (WAL flush included), so only the events' own statement runs under
    # it. On PostgreSQL all the writes are one statement (data-modifying WITHs).
    if together and writes:
        params: dict[str, Any] = {}
        for write in writes:
            params.update(write.params)
        connection.execute(_writes_together(tuple(w.statement for w in writes)), params)
    else:
        for write in writes:
            connection.execute(write.statement, write.params)
    if not events:
        return
    seq, prev_hash = _lock_head(connection)
    rows = []
    for event in events:
        seq += 1
        row = {**event, "seq": seq, "prev_hash": prev_hash}
        row["hash"] = prev_hash = streebog256(_canonical(row)).hexdigest()
        rows.append(row)
    head = {"head_seq": seq, "head_hash": prev_hash}
    if together:
        # One round trip: the events go in through data-modifying WITHs of the head's UPDATE.
        # The statement has one fixed shape per number of events, with bound parameters only,
        # so it is compiled once and then cached.
        appended: dict[str, Any] = dict(head)
        for i, row in enumerate(rows):
            appended.update({f"{name}_{i}": value for name, value in row.items()})
        connection.execute(_appending_update(len(rows)), appended)
    else:
        connection.execute(_INSERT_EVENTS, rows)
        connection.execute(_MOVE_HEAD, head)


_EVENTS: Final = cast(Table, AuditEvent.__table__)
_HEAD: Final = cast(Table, AuditHead.__table__)
_EVENT_COLUMNS: Final = (*_HASHED, "hash")
_INSERT_EVENTS: Final = insert(_EVENTS)
_MOVE_HEAD: Final = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values(
        seq=bindparam("head_seq", type_=_HEAD.c.seq.type),
        hash=bindparam("head_hash", type_=_HEAD.c.hash.type),
    )
)
_READ_HEAD: Final = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID).with_for_update()


@functools.lru_cache(maxsize=256)
def _writes_together(writes: tuple[Any, ...]) -> Any:
    """The writes as one statement: the last one, with the others as data-modifying WITHs
    (``written_<i>``). Their bound parameters' names must all differ."""
    names: set[str] = set()
    for write in writes:
        own = set(write.compile().params)
        if own & names:
            raise ValueError(f"parameters used by two writes at commit: {sorted(own & names)}")
        names |= own
    if len(writes) == 1:
        return writes[0]
    return writes[-1].add_cte(*(w.cte(f"written_{i}") for i, w in enumerate(writes[:-1])))


@functools.lru_cache(maxsize=64)
def _appending_update(count: int) -> Any:
    """``WITH appended_0 AS (INSERT …), … UPDATE audit_head …``: one single-row INSERT per event
    (a multi-row VALUES is never cached by SQLAlchemy), parameters ``<column>_<i>`` for the
    events and ``head_seq``/``head_hash`` for the head."""
    appended = [
        insert(_EVENTS)
        .values(
            {name: bindparam(f"{name}_{i}", type_=_EVENTS.c[name].type) for name in _EVENT_COLUMNS}
        )
        .cte(f"appended_{i}")
        for i in range(count)
    ]
    return _MOVE_HEAD.add_cte(*appended)


def _lock_head(connection: Executor) -> tuple[int, str]:
    head = connection.execute(_READ_HEAD).first()
    if head is None:  # migrations create it; a fresh schema made another way gets one here
        connection.execute(insert(_HEAD).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return int(head.seq), str(head.hash)


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    # "edited" | "missing" | "chain-broken" | "head-mismatch" | "anchor-beyond-end" |
    # "anchor-mismatch"
    kind: str
    message: str  # Russian, for the security officer


_ANCHOR_LINE: Final = re.compile(r"bankkeys-audit-anchor seq=(0|[1-9][0-9]*) hash=([0-9a-f]{64})")


@dataclass(frozen=True)
class Anchor:
    """The chain's head as it was at some moment, kept outside the database (a write-once share,
    the security officer's notebook): whoever can edit the database can delete the newest rows
    and move the head back, or re-chain the whole log, and the chain alone cannot show that."""

    seq: int
    hash: str

    def line(self) -> str:
        return f"bankkeys-audit-anchor seq={self.seq} hash={self.hash}"

    @classmethod
    def parse(cls, line: str) -> Anchor:
        found = _ANCHOR_LINE.fullmatch(line.strip())
        if found is None:
            raise ValueError(
                "не отметка журнала аудита: ожидалась строка "
                "«bankkeys-audit-anchor seq=<номер> hash=<64 шестнадцатеричные цифры>»"
            )
        return cls(int(found[1]), found[2])


def anchor(session: Session) -> Anchor:
    """The head now: the mark to keep outside the database (see :class:`Anchor`)."""
    head = session.get(AuditHead, HEAD_ID)
    return Anchor(head.seq, head.hash) if head else Anchor(0, GENESIS_HASH)


def verify(
    session: Session, *, batch: int = 5000, anchors: Sequence[Anchor] = ()
) -> list[AuditProblem]:
    """Check the whole chain, and that it still holds every anchor; an empty list means intact.

    Safe beside a working bank: each statement of a READ COMMITTED transaction sees the commits
    made before it, so the head is read before the events (every event up to it is visible
    then) and again after them (every event seen is at or below it then)."""
    problems: list[AuditProblem] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    last_seq = 0
    head_seq, head_hash = _head(session)
    wanted = {a.seq for a in anchors} | {head_seq}
    seen = {0: GENESIS_HASH}
    for event in _events(session, batch):
        if event.seq in wanted:
            seen[event.seq] = event.hash
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
    end_seq = _head(session)[0]
    if head_seq > last_seq or last_seq > end_seq or seen.get(head_seq) != head_hash:
        problems.append(
            AuditProblem(
                last_seq + 1 if head_seq > last_seq else head_seq,
                "head-mismatch",
                f"журнал кончается записью {last_seq}, а голова цепочки указывает на "
                f"{head_seq if head_seq > last_seq else end_seq} "
                "(последние записи удалены или голова изменена)",
            )
        )
    for mark in sorted(set(anchors), key=lambda a: a.seq):
        if mark.seq > last_seq:
            problems.append(
                AuditProblem(
                    mark.seq,
                    "anchor-beyond-end",
                    f"журнал кончается записью {last_seq}, а отметка, сохранённая вне базы, "
                    f"указывает на запись {mark.seq}: последние записи удалены",
                )
            )
        elif not secrets.compare_digest(seen.get(mark.seq, ""), mark.hash):
            problems.append(
                AuditProblem(
                    mark.seq,
                    "anchor-mismatch",
                    f"запись {mark.seq} не совпадает с отметкой, сохранённой вне базы "
                    "(журнал переписан)",
                )
            )
    return problems


def _head(session: Session) -> tuple[int, str]:
    # A fresh read each time (not the session's identity map): the head moves under a live bank.
    row = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID)).first()
    return (int(row.seq), str(row.hash)) if row is not None else (0, GENESIS_HASH)


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
