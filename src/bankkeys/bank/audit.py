"""The tamper-evident audit log: hash chains of events (Streebog-256, GOST R 34.11-2012).

Each event stores the hash of the previous event of its chain and its own hash over a canonical
form that includes its sequence number and that previous hash. Editing a row breaks its own hash;
deleting or reordering rows breaks its chain; deleting a chain's newest rows is caught by its
head, a row every append to the chain updates. Appends to one chain serialise on its head (``SELECT
… FOR UPDATE``), so each chain stays a line under concurrent writers.

Why several chains: every transaction of the bank writes the log, and PostgreSQL holds a row lock
until the commit's WAL flush is done. With one head, each transaction waited for the previous
one's flush: the head was the line every request of every server stood in. Now the head table has
a row per chain (migration 0006) and an append takes the first head no other transaction holds
(``FOR UPDATE SKIP LOCKED``), waiting only when every chain is held. ``seq`` (a sequence, taken
once the head is locked, so that it grows along each chain) orders events across chains; ``chain``
names the chain an event continues. On SQLite, where one writer runs at a time, every append
finds chain 1 free and the numbering continues from the heads.

An append only queues the event on the session; the queued events are chained and written just
before the transaction commits (a ``before_commit`` hook), all of them under one lock of a head.
The events still commit or roll back with the change they describe.

A transition may also hand over its last plain writes (an INSERT or UPDATE whose result it does
not read back: see :func:`write_at_commit`). On PostgreSQL they go in with the head's lock, as
data-modifying WITHs of that one statement; the events and the head's UPDATE are one more. So a
transaction's end costs two statements and the commit.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy import Sequence as DbSequence
from sqlalchemy import event as sqla_event
from sqlalchemy.orm import Session, SessionTransaction

from bankkeys.bank.store.driver import DriverUnit, Unit
from bankkeys.bank.store.models import AuditEvent, AuditHead
from bankkeys.gost.streebog import streebog256

GENESIS_HASH = "0" * 64
# Chain 1: the head an append takes whenever no other transaction holds it (always on SQLite).
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


def canonical_form(event: AuditEvent | Any) -> bytes:
    """The bytes that are hashed: every column except ``hash`` itself."""
    return _canonical({name: getattr(event, name) for name in _HASHED})


def event_hash(event: AuditEvent | Any) -> str:
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

    For writes nothing in the transaction reads back. A failure here fails the commit and
    writes nothing: a write that a constraint may refuse (a key shown before, a second open
    request) is for a caller that tells the refusal apart by the constraint's name. On
    PostgreSQL the writes run in the head's locking statement, after the lock: a write that
    waits for another transaction's row (only in such races) holds one chain meanwhile, and
    the other appends take the other chains.
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
        # The unit commits right after: its last statement carries the COMMIT.
        _write(pending, unit, last=unit.execute_and_commit)


def _write(
    pending: list[tuple[Any, Mapping[str, Any] | _Write]],
    connection: Executor,
    last: Callable[[Any, Mapping[str, Any]], Any] | None = None,
) -> None:
    writes = [item for _scope, item in pending if isinstance(item, _Write)]
    events = [item for _scope, item in pending if not isinstance(item, _Write)]
    together = (
        connection.dialect.name == "postgresql"
        and len(events) <= _ONE_STATEMENT_EVENTS
        and len(writes) <= _ONE_STATEMENT_WRITES
    )
    # On PostgreSQL the writes ride on the head's lock: one statement, the writes as its
    # data-modifying WITHs (which run whether or not anything reads them).
    params: dict[str, Any] = {}
    for write in writes:
        params.update(write.params)
    statements = tuple(w.statement for w in writes)
    if together and events:
        chain, prev_hash, numbers = _lock_free_head(connection, statements, params, len(events))
    elif together and writes:
        connection.execute(_writes_together(statements), params)
    else:
        for write in writes:
            connection.execute(write.statement, write.params)
        if events:
            chain, prev_hash, numbers = _lock_head(connection, len(events))
    if not events:
        return
    rows = []
    for event, seq in zip(events, numbers, strict=True):
        row = {**event, "seq": seq, "prev_hash": prev_hash, "chain": chain}
        row["hash"] = prev_hash = streebog256(_canonical(row)).hexdigest()
        rows.append(row)
    head = {"head_chain": chain, "head_seq": numbers[-1], "head_hash": prev_hash}
    if together:
        # One round trip: the events go in through data-modifying WITHs of the head's UPDATE.
        # The statement has one fixed shape per number of events, with bound parameters only,
        # so it is compiled once and then cached.
        appended: dict[str, Any] = dict(head)
        for i, row in enumerate(rows):
            appended.update({f"{name}_{i}": value for name, value in row.items()})
        (last or connection.execute)(_appending_update(len(rows)), appended)
    else:
        connection.execute(_INSERT_EVENTS, rows)
        (last or connection.execute)(_MOVE_HEAD, head)


_EVENTS: Final = cast(Table, AuditEvent.__table__)
_HEAD: Final = cast(Table, AuditHead.__table__)
_EVENT_COLUMNS: Final = (*_HASHED, "hash", "chain")
_INSERT_EVENTS: Final = insert(_EVENTS)
_MOVE_HEAD: Final = (
    update(_HEAD)
    .where(_HEAD.c.id == bindparam("head_chain", type_=_HEAD.c.id.type))
    .values(
        seq=bindparam("head_seq", type_=_HEAD.c.seq.type),
        hash=bindparam("head_hash", type_=_HEAD.c.hash.type),
    )
)


@functools.lru_cache(maxsize=32)
def _head_locking(*, skip_locked: bool, count: int) -> Select[Any]:
    """PostgreSQL: the first chain's head that no one holds (``skip_locked``) or chain 1's,
    waiting for it, locked; one row per number wanted (``count``) from the sequence. The numbers
    are taken in the outer SELECT, after the head's row is locked (the CTE is materialised), so
    that along each chain they grow.

    ``count`` and the LIMIT are written into the SQL, one statement per count (a transaction
    appends a few events): as parameters, the server's generic plan would estimate a LIMIT of
    unknown size and generate_series at a thousand rows, cost more than the plans made with the
    values, and the server would plan the statement afresh at every execution instead."""
    head = (
        select(_HEAD.c.id, _HEAD.c.seq, _HEAD.c.hash)
        .order_by(_HEAD.c.id)
        .limit(literal_column("1", Integer))
        .with_for_update(skip_locked=skip_locked)
        .cte("head")
        .prefix_with("MATERIALIZED")
    )
    numbers = (
        func.generate_series(literal_column("1", Integer), literal_column(str(int(count)), Integer))
        .table_valued("value")
        .alias("numbers")
    )
    return select(
        head.c.id, head.c.seq, head.c.hash, DbSequence(_SEQUENCE).next_value().label("number")
    ).select_from(head.join(numbers, true()))


_SEQUENCE: Final = "audit_events_seq_seq"  # migration 0006


@functools.lru_cache(maxsize=256)
def _free_head_after(writes: tuple[Any, ...], count: int) -> Any:
    """The free head's locking statement with the writes at commit as its data-modifying WITHs."""
    locking = _head_locking(skip_locked=True, count=count)
    if not writes:
        return locking
    _check_parameter_names(writes)
    return locking.add_cte(*(w.cte(f"written_{i}") for i, w in enumerate(writes)))


# SQLite: the write lock (BEGIN IMMEDIATE) is held already, so chain 1 is always free, and the
# numbering continues from the largest seq any head has reached.
_SQLITE_HEAD: Final = (
    select(
        _HEAD.c.id,
        _HEAD.c.seq,
        _HEAD.c.hash,
        select(func.max(_HEAD.c.seq)).scalar_subquery().label("top"),
    )
    .order_by(_HEAD.c.id)
    .limit(1)
)


@functools.lru_cache(maxsize=256)
def _writes_together(writes: tuple[Any, ...]) -> Any:
    """The writes as one statement: the last one, with the others as data-modifying WITHs
    (``written_<i>``). Their bound parameters' names must all differ."""
    _check_parameter_names(writes)
    if len(writes) == 1:
        return writes[0]
    return writes[-1].add_cte(*(w.cte(f"written_{i}") for i, w in enumerate(writes[:-1])))


def _check_parameter_names(writes: tuple[Any, ...]) -> None:
    names: set[str] = set()
    for write in writes:
        own = set(write.compile().params)
        if own & names:
            raise ValueError(f"parameters used by two writes at commit: {sorted(own & names)}")
        names |= own


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


def _lock_free_head(
    connection: Executor, writes: tuple[Any, ...], params: Mapping[str, Any], count: int
) -> tuple[int, str, list[int]]:
    """PostgreSQL: run the writes and lock a free chain's head (waiting only if every one is
    held): its id, its last hash, and ``count`` new seqs, ascending."""
    rows = connection.execute(_free_head_after(writes, count), params).all()
    if not rows:  # every chain is held (the writes went in all the same): wait for one
        rows = connection.execute(_head_locking(skip_locked=False, count=count), {}).all()
    if not rows:
        raise _not_migrated()
    chain, _seq, digest, _number = rows[0]
    return int(chain), str(digest), sorted(int(r[3]) for r in rows)


def _lock_head(connection: Executor, count: int) -> tuple[int, str, list[int]]:
    """Lock a chain's head: its id, its last hash, and ``count`` new seqs, ascending."""
    if connection.dialect.name == "postgresql":
        return _lock_free_head(connection, (), {}, count)
    head = connection.execute(_SQLITE_HEAD).first()
    if head is None:
        raise _not_migrated()
    top = int(head.top)
    return int(head.id), str(head.hash), list(range(top + 1, top + 1 + count))


def _not_migrated() -> RuntimeError:
    return RuntimeError("the audit log has no chain heads: the database is not migrated")


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    # "edited" | "chain-broken" | "head-mismatch" | "beyond-head" | "anchor-beyond-end" |
    # "anchor-mismatch"
    kind: str
    message: str  # Russian, for the security officer


_MARK: Final = r" seq=(0|[1-9][0-9]*) hash=([0-9a-f]{64})"
_ANCHOR_LINE: Final = re.compile(rf"bankkeys-audit-anchor((?:{_MARK})+)")


@dataclass(frozen=True)
class Mark:
    """One chain's last event at some moment: its seq and hash (seq 0: the empty log)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Anchor:
    """Every chain's head as it was at some moment, kept outside the database (a write-once share,
    the security officer's notebook): whoever can edit the database can delete the newest rows
    and move a head back, or re-chain the whole log, and the chains alone cannot show that.

    One line, a mark per chain that has events: ``bankkeys-audit-anchor seq=… hash=… [seq=…
    hash=… …]``. A line written before the log had several chains (one mark) reads the same."""

    marks: tuple[Mark, ...]

    def line(self) -> str:
        return "bankkeys-audit-anchor" + "".join(f" seq={m.seq} hash={m.hash}" for m in self.marks)

    @classmethod
    def parse(cls, line: str) -> Anchor:
        found = _ANCHOR_LINE.fullmatch(line.strip())
        if found is None:
            raise ValueError(
                "не отметка журнала аудита: ожидалась строка "
                "«bankkeys-audit-anchor seq=<номер> hash=<64 шестнадцатеричные цифры> …»"
            )
        pairs = re.findall(_MARK, found[1])
        return cls(tuple(Mark(int(seq), digest) for seq, digest in pairs))


def anchor(session: Session) -> Anchor:
    """The heads now: the mark to keep outside the database (see :class:`Anchor`)."""
    marks = sorted(
        (
            Mark(seq, digest)
            for seq, digest in _heads(lambda: nullcontext(session)).values()
            if seq > 0
        ),
        key=lambda m: m.seq,
    )
    return Anchor(tuple(marks) or (Mark(0, GENESIS_HASH),))


@dataclass
class _Chain:
    """Verify's walk along one chain, up to the head it had when verify began."""

    head_seq: int
    head_hash: str
    last_seq: int = 0
    last_hash: str = GENESIS_HASH


Reader = Callable[[], AbstractContextManager[Session]]


def verify(
    source: Session | Reader, *, batch: int = 5000, anchors: Sequence[Anchor] = ()
) -> list[AuditProblem]:
    """Check every chain, and that the log still holds every anchor; an empty list means intact.

    Safe beside a working bank: each statement of a READ COMMITTED transaction sees the commits
    made before it. The heads are read first: every event up to them is visible to every later
    read, and the walk checks each chain up to its head as it was then. Events beyond it are
    commits made meanwhile, unless they lie beyond the heads read again at the end too: no append
    writes an event past its chain's head, so those were put in behind the bank's back.

    ``source``: a session to read in, or a factory of reading units (``Database.reading``),
    one per page of ``batch`` events and per read of the heads. On SQLite a reader's snapshot
    keeps the WAL from being checkpointed, so a long check in one transaction lets the WAL grow
    for as long as it runs; the walk above needs no snapshot longer than a page."""
    read: Reader = (lambda: nullcontext(source)) if isinstance(source, Session) else source
    problems: list[AuditProblem] = []
    chains = {chain: _Chain(seq, digest) for chain, (seq, digest) in _heads(read).items()}
    marks = {m for a in anchors for m in a.marks}
    wanted = {m.seq for m in marks}
    seen = {0: GENESIS_HASH}
    later: list[tuple[int, int]] = []  # (chain, seq) past the head verify began with
    for event in _events(read, batch):
        walk = chains.get(event.chain)
        if walk is None or event.seq > walk.head_seq:
            later.append((event.chain, event.seq))
            continue
        if event.seq in wanted:
            seen[event.seq] = event.hash
        if event.prev_hash != walk.last_hash:
            problems.append(
                AuditProblem(
                    event.seq,
                    "chain-broken",
                    f"запись {event.seq} не продолжает предыдущую запись своей цепочки "
                    f"({event.chain}): предыдущая удалена, изменена или записи переставлены",
                )
            )
        if event_hash(event) != event.hash:
            problems.append(
                AuditProblem(event.seq, "edited", f"запись {event.seq} изменена после записи")
            )
        walk.last_seq, walk.last_hash = event.seq, event.hash
    for chain, walk in sorted(chains.items()):
        if (walk.last_seq, walk.last_hash) != (walk.head_seq, walk.head_hash):
            problems.append(
                AuditProblem(
                    walk.head_seq,
                    "head-mismatch",
                    f"цепочка {chain} кончается записью {walk.last_seq}, а её голова указывает "
                    f"на запись {walk.head_seq} (последние записи удалены или голова изменена)",
                )
            )
    if later:
        ends = {chain: seq for chain, (seq, _digest) in _heads(read).items()}
        for chain, seq in later:
            if seq > ends.get(chain, 0):
                problems.append(
                    AuditProblem(
                        seq,
                        "beyond-head",
                        f"запись {seq} лежит за головой своей цепочки ({chain}): "
                        "она вставлена в обход банка",
                    )
                )
    for mark in sorted(marks, key=lambda m: m.seq):
        found = seen.get(mark.seq)
        if found is None:
            problems.append(
                AuditProblem(
                    mark.seq,
                    "anchor-beyond-end",
                    f"отметка, сохранённая вне базы, указывает на запись {mark.seq}, "
                    "а её нет в журнале: последние записи удалены",
                )
            )
        elif not secrets.compare_digest(found, mark.hash):
            problems.append(
                AuditProblem(
                    mark.seq,
                    "anchor-mismatch",
                    f"запись {mark.seq} не совпадает с отметкой, сохранённой вне базы "
                    "(журнал переписан)",
                )
            )
    return sorted(problems, key=lambda p: p.seq)


def _heads(read: Reader) -> dict[int, tuple[int, str]]:
    # A fresh read each time (not the session's identity map): heads move under a live bank.
    with read() as session:
        rows = session.execute(_ALL_HEADS).all()
    return {int(r.id): (int(r.seq), str(r.hash)) for r in rows}


_ALL_HEADS: Final = select(_HEAD.c.id, _HEAD.c.seq, _HEAD.c.hash)
_EVENTS_AFTER: Final = (
    select(*_EVENTS.c)
    .where(_EVENTS.c.seq > bindparam("after"))
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("batch"))
)


def _events(read: Reader, batch: int) -> Iterator[Any]:
    # Keyset pagination: bounded memory and no server-side cursor needed on either database.
    # Rows, not ORM objects: nothing is kept in a session between pages.
    after = 0
    while True:
        with read() as session:
            rows = session.execute(_EVENTS_AFTER, {"after": after, "batch": batch}).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def events_for_request(session: Session, request_id: int) -> list[AuditEvent]:
    """A request's history, in order."""
    return list(
        session.execute(
            select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.seq)
        ).scalars()
    )
