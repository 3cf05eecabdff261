"""The notifications queue. Queueing is idempotent: the ``key`` names the event (for example
``renewal-window:<serial>``) and a second insert of the same key does nothing, on both databases
(``INSERT … ON CONFLICT DO NOTHING``). Sending (SMTP) is another module's job."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bankkeys.bank.audit import canonical_json, write_at_commit
from bankkeys.bank.store.driver import Unit
from bankkeys.bank.store.models import Notification


class NotificationKind(StrEnum):
    RENEWAL_WINDOW_OPENED = "renewal-window-opened"
    REQUEST_ACCEPTED = "request-accepted"
    REQUEST_REJECTED = "request-rejected"
    REQUEST_EXPIRED = "request-expired"
    CERTIFICATE_ISSUED = "certificate-issued"
    OLD_KEY_RETIRED = "old-key-retired"
    CERTIFICATE_EXPIRED = "certificate-expired"
    CERTIFICATE_REVOKED = "certificate-revoked"


def insert_ignoring_duplicates(session: Session) -> Any:
    """The dialect's ``insert(Notification)`` that supports ``on_conflict_do_nothing``."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(Notification)
    if name == "sqlite":
        return sqlite.insert(Notification)
    raise ValueError(f"unsupported database: {name}")


def queue(
    session: Session,
    *,
    key: str,
    kind: NotificationKind,
    signer_id: int | None,
    payload: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Queue once; returns False if a notification with this key was already queued."""
    connection = session.connection()
    params = {
        "n_key": key,
        "n_kind": str(kind),
        "n_signer_id": signer_id,
        "n_payload": canonical_json(payload),
        "n_created_at": now,
    }
    return connection.execute(_queueing(connection.dialect.name), params).first() is not None


def queue_at_commit(
    session: Unit,
    *,
    key: str,
    kind: NotificationKind,
    signer_id: int | None,
    payload: Mapping[str, Any],
    now: datetime,
) -> None:
    """:func:`queue` for a transition that does not need to know whether the key was new: the
    insert goes with the transaction's audit events when it commits (one round trip less)."""
    params = {
        "n_key": key,
        "n_kind": str(kind),
        "n_signer_id": signer_id,
        "n_payload": canonical_json(payload),
        "n_created_at": now,
    }
    dialect = session.get_bind().dialect.name
    write_at_commit(session, _queueing(dialect, returning=False), params)


@functools.cache
def _queueing(dialect: str, *, returning: bool = True) -> Insert:
    # Built once per dialect, bound parameters only: compiled once, then served from the cache.
    table = cast(Table, Notification.__table__)
    values: dict[str, Any] = {
        name: bindparam(f"n_{name}", type_=table.c[name].type)
        for name in ("key", "kind", "signer_id", "payload", "created_at")
    }
    values["attempts"] = 0
    if dialect == "postgresql":
        stmt: Insert = (
            postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=["key"])
        )
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=["key"])
    else:
        raise ValueError(f"unsupported database: {dialect}")
    return stmt.returning(table.c.id) if returning else stmt


def pending(session: Session, *, limit: int = 100) -> Sequence[Notification]:
    return (
        session.execute(
            select(Notification)
            .where(Notification.sent_at.is_(None))
            .order_by(Notification.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def mark_sent(session: Session, notification_id: int, now: datetime) -> None:
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(sent_at=now, attempts=Notification.attempts + 1)
    )
