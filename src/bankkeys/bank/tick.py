"""The scheduler step (``bankkeys bank tick``): what the clock alone changes.

* certificates entering the renewal window: «renewal window opened» queued once per certificate;
* certificates that expired (recently) with no successor: «certificate expired» queued once;
* requests not approved within the policy time: closed as expired (a workflow transition);
* old certificates of completed renewals past the grace period: revoked as superseded;
* the CRL: re-signed when its nextUpdate comes near.

Idempotent and safe to run from several processes at once: notifications are inserted set-wise
with ``ON CONFLICT DO NOTHING`` on their unique key; requests are taken with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises writers with
``BEGIN IMMEDIATE``), and every transition re-checks the state it found under the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, literal, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ColumnElement, Exists

from bankkeys.bank import audit, notifications
from bankkeys.bank.ca import IssuingAuthority
from bankkeys.bank.notifications import NotificationKind
from bankkeys.bank.policy import Policy
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import CaRecord, Certificate, Crl, Notification, RekeyRequest
from bankkeys.bank.workflow import (
    OPEN_STATES,
    PENDING_STATES,
    Actor,
    RequestState,
    expire_request,
    publish_crl,
    retire_superseded,
)

# Expired certificates are looked at for this long after notAfter; older ones were handled.
EXPIRY_LOOKBACK = timedelta(days=7)
BATCH = 200


@dataclass(frozen=True)
class TickReport:
    renewal_notices: int
    expiry_notices: int
    requests_expired: int
    certificates_retired: int
    crl_number: int | None

    @property
    def changed(self) -> bool:
        return bool(
            self.renewal_notices
            or self.expiry_notices
            or self.requests_expired
            or self.certificates_retired
            or self.crl_number
        )


def tick(
    db: Database,
    now: datetime,
    policy: Policy | None = None,
    ca: IssuingAuthority | None = None,
    actor: Actor | None = None,
) -> TickReport:
    policy = policy or Policy()
    actor = actor or Actor.system()
    with db.transaction() as session:
        renewal = _queue_renewal_notices(session, now, policy)
        expiry = _queue_expiry_notices(session, now)
    expired = _expire_requests(db, now, policy)
    retired = _retire_superseded(db, now, policy, ca, actor)
    crl_number = _scheduled_crl(db, now, policy, ca, actor, force=retired > 0)
    report = TickReport(renewal, expiry, expired, retired, crl_number)
    if renewal or expiry:
        with db.transaction() as session:
            audit.append(session, at=now, actor=actor.login, role=actor.role, action="tick",
                         details={"renewal_notices": renewal,
                                  "expiry_notices": expiry})  # fmt: skip
    return report


def _successor_exists(cert: type[Certificate]) -> Exists:
    newer = aliased(Certificate)
    return exists().where(
        newer.signer_id == cert.signer_id,
        newer.id != cert.id,
        newer.revoked_at.is_(None),
        newer.not_after > cert.not_after,
    )


def _open_request_exists(cert: type[Certificate]) -> Exists:
    return exists().where(
        RekeyRequest.signer_id == cert.signer_id,
        RekeyRequest.state.in_([str(s) for s in OPEN_STATES]),
    )


def _queue_notices(
    session: Session, kind: NotificationKind, condition: ColumnElement[bool], now: datetime
) -> int:
    c = Certificate
    rows = select(
        literal(f"{kind}:") + c.serial,
        c.signer_id,
        literal(str(kind)),
        literal('{"serial":"') + c.serial + literal('"}'),
        literal(now, type_=Notification.created_at.type),
        literal(0),
    ).where(condition)
    stmt = (
        notifications.insert_ignoring_duplicates(session)
        .from_select(["key", "signer_id", "kind", "payload", "created_at", "attempts"], rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Notification.id)
    )
    # RETURNING yields only the rows really inserted (conflicts return nothing), on both DBs.
    return len(session.execute(stmt).all())


def _queue_renewal_notices(session: Session, now: datetime, policy: Policy) -> int:
    c = Certificate
    condition = and_(
        c.is_ca.is_(False),
        c.signer_id.is_not(None),
        c.revoked_at.is_(None),
        c.not_before <= now,
        c.not_after > now,
        c.not_after <= now + policy.renewal_window,
        ~_successor_exists(c),
        ~_open_request_exists(c),
    )
    return _queue_notices(session, NotificationKind.RENEWAL_WINDOW_OPENED, condition, now)


def _queue_expiry_notices(session: Session, now: datetime) -> int:
    c = Certificate
    condition = and_(
        c.is_ca.is_(False),
        c.signer_id.is_not(None),
        c.revoked_at.is_(None),
        c.not_after <= now,
        c.not_after > now - EXPIRY_LOOKBACK,
        ~_successor_exists(c),
    )
    return _queue_notices(session, NotificationKind.CERTIFICATE_EXPIRED, condition, now)


def _expire_requests(db: Database, now: datetime, policy: Policy) -> int:
    done = 0
    while True:
        with db.transaction() as session:
            batch = (
                session.execute(
                    select(RekeyRequest)
                    .where(
                        RekeyRequest.state.in_([str(s) for s in PENDING_STATES]),
                        RekeyRequest.accepted_at <= now - policy.request_ttl,
                    )
                    .order_by(RekeyRequest.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            for req in batch:
                done += expire_request(session, req, now, policy)
        if len(batch) < BATCH:
            return done


def _retire_superseded(
    db: Database, now: datetime, policy: Policy, ca: IssuingAuthority | None, actor: Actor
) -> int:
    done = 0
    old = aliased(Certificate)
    while True:
        with db.transaction() as session:
            batch = (
                session.execute(
                    select(RekeyRequest)
                    .join(old, old.id == RekeyRequest.old_certificate_id)
                    .where(
                        RekeyRequest.state == str(RequestState.INSTALLED),
                        RekeyRequest.installed_at <= now - policy.superseded_grace,
                        old.revoked_at.is_(None),
                        old.not_after > now,
                    )
                    .order_by(RekeyRequest.id)
                    .limit(BATCH)
                    .with_for_update(of=RekeyRequest, skip_locked=True)
                )
                .scalars()
                .all()
            )
            for req in batch:
                # The CRL is re-signed once after the batch, not per certificate.
                if retire_superseded(session, actor, req, now, None, policy):
                    done += 1
        if len(batch) < BATCH:
            return done


def _scheduled_crl(
    db: Database,
    now: datetime,
    policy: Policy,
    ca: IssuingAuthority | None,
    actor: Actor,
    *,
    force: bool,
) -> int | None:
    if ca is None:
        return None
    with db.transaction() as session:
        # Lock the CA row first: two ticks then agree on whether a CRL is due.
        if session.execute(select(CaRecord.id).with_for_update()).first() is None:
            return None
        latest = session.execute(select(func.max(Crl.next_update))).scalar_one()
        last_revocation = session.execute(select(func.max(Certificate.revoked_at))).scalar_one()
        last_crl = session.execute(select(func.max(Crl.this_update))).scalar_one()
        stale = last_revocation is not None and (last_crl is None or last_revocation > last_crl)
        due = latest is None or latest - policy.crl_refresh_margin <= now
        if not (force or stale or due):
            return None
        return publish_crl(session, actor, ca, now, policy)
