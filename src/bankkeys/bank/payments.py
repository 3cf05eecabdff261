"""The bank's verdict on signed payment orders: verify every signature, answer per document.

A client sends a batch of :class:`SignedPayment` — the canonical bytes of an order
(``bankkeys/payment-order/1``, :func:`bankkeys.payments.canonical_bytes`), a detached CMS over
them, and the serial of the certificate that signed. The bank checks, per document and in this
order, and refuses with the first failed check's reason (Russian, shown to the accountant):

1. the bytes are the canonical form of an order that passes the bank's field checks;
2. the certificate is one the bank's CA issued (the bank's own record is used, never the copy
   inside the CMS), and the CMS signature over the bytes verifies with it;
3. the signing time (the signer's claim) is not in the future, and the certificate is valid at
   that time *and* at receipt — a claimed time alone cannot revive an expired key;
4. the certificate is not revoked (superseded keys get their own message) and its key set was
   installed (a certificate issued but not yet confirmed is not in force);
5. the payer (by INN) is the sender's organization and the signer's;
6. the signer's right: organizations sign with one signature (the first right) or two (first
   and second rights, each once, in any order); a document needs every required signature
   before it is accepted;
7. the number is new for the payer account and year (:mod:`bankkeys.bank.payments_store`).

Resubmitting a document the bank already holds (the same canonical bytes) answers its current
state: it is never a duplicate of itself. When a document is accepted, each of its signing
certificates that belongs to a newly installed key set retires the certificate it replaced
(:func:`bankkeys.bank.workflow.retire_superseded`, revocation "superseded"), in the same
transaction as the acceptance.

Speed: certificates are read from the database once per batch and parsed once per process
(cached by the Streebog-256 fingerprint of their DER); signatures verify in a thread pool
outside any transaction, each thread's share hashed and verified in one C call without the GIL
(:func:`bankkeys.pki.cms.verify_cms_many`); the decisions take one transaction straight on the
driver (:meth:`~bankkeys.bank.store.db.Database.driver_transaction`) with a fixed number of
queries per batch, however many documents it holds.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Select, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bankkeys.bank import audit
from bankkeys.bank.errors import BankError, NotAllowed, NotFound, ValidationError
from bankkeys.bank.payments_sql import execute_many
from bankkeys.bank.payments_store import (
    DocumentState,
    PaymentDocument,
    PaymentRight,
    PaymentSettings,
    PaymentSignature,
    SigningRight,
)
from bankkeys.bank.store.driver import Unit
from bankkeys.bank.store.models import Certificate, Organization, RekeyRequest, Signer
from bankkeys.bank.workflow import Actor, RequestState, Role, Workflow, retire_superseded
from bankkeys.gost.streebog import OID_STREEBOG256, streebog256, streebog256_many
from bankkeys.payments import (
    DocumentStatus,
    ExportEntry,
    PaymentOrder,
    PaymentsError,
    Verdict,
    parse_canonical,
    write_exchange,
)
from bankkeys.pki.certificates import Certificate as ParsedCertificate
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.cms import VerifiedSignature, verify_cms_many

MAX_BATCH: Final = 1000
MAX_DOCUMENT_BYTES: Final = 16 * 1024
MAX_SIGNATURE_BYTES: Final = 64 * 1024
CLOCK_SKEW: Final = timedelta(minutes=5)
SYSTEM: Final = Actor.system("payments")

RIGHT_TEXT: Final = {
    SigningRight.FIRST: "первой подписи",
    SigningRight.SECOND: "второй подписи",
    SigningRight.NONE: "без права подписи",
}
REVOCATION_TEXT: Final = {
    "key_compromise": "компрометация ключа",
    "affiliation_changed": "изменение сведений",
    "cessation_of_operation": "прекращение действия",
    "certificate_hold": "приостановлен",
    "privilege_withdrawn": "отзыв полномочий",
    "unspecified": "без указания причины",
}


class PaymentState(StrEnum):
    """The answer to one document."""

    ACCEPTED = "accepted"
    AWAITING_SECOND = "awaiting_second"
    REFUSED = "refused"


STATE_TEXT: Final = {
    PaymentState.ACCEPTED: "Принят банком",
    PaymentState.AWAITING_SECOND: "Ожидает второй подписи",
    PaymentState.REFUSED: "Отклонён",
}


@dataclass(frozen=True, slots=True)
class SignedPayment:
    """One document as the client sends it: canonical bytes, detached CMS, certificate serial
    (lowercase hex without leading zeros, as the bank writes serials)."""

    document: bytes
    signature: bytes
    certificate_serial: str


@dataclass(frozen=True, slots=True)
class PaymentVerdict:
    """The bank's answer to the document at ``position`` (1-based) of a batch."""

    position: int
    number: str
    state: PaymentState
    reason: str = ""
    content_hash: str = ""

    def __post_init__(self) -> None:
        if (self.state is PaymentState.REFUSED) != bool(self.reason):
            raise ValueError("a refusal, and only a refusal, has a reason")

    @property
    def text(self) -> str:
        return STATE_TEXT[self.state] + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True, slots=True)
class BatchResult:
    verdicts: tuple[PaymentVerdict, ...]
    retired_certificates: tuple[str, ...] = ()  # old certificates retired by this batch


@dataclass(frozen=True, slots=True)
class SignatureRecord:
    signer_id: int
    signer_name: str
    certificate_serial: str
    signing_right: SigningRight
    signing_time: datetime


@dataclass(frozen=True, slots=True)
class ReceivedPayment:
    """A document the bank holds, for the status list and the 1C export."""

    number: str
    date: date
    amount_kopecks: int
    payer_account: str
    content_hash: str
    state: PaymentState
    received_at: datetime
    accepted_at: datetime | None
    signatures: tuple[SignatureRecord, ...]
    order: PaymentOrder

    @property
    def status(self) -> DocumentStatus | None:
        return DocumentStatus(Verdict.ACCEPTED) if self.state is PaymentState.ACCEPTED else None


class _NeedsSession(Exception):
    """The batch must be decided in an ORM session (see :meth:`PaymentDesk._decide`)."""


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- parsed certificates, once per process ----------------------------------------------------


class _CertificateCache:
    """Parsed certificates by the Streebog-256 of their DER: a DER never changes meaning, and
    revocation and dates are read from the database each batch, so the cache cannot go stale."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: OrderedDict[str, ParsedCertificate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, der: bytes) -> ParsedCertificate:
        key = streebog256(der).hexdigest()
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        parsed = parse_certificate(der)
        with self._lock:
            self._items[key] = parsed
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return parsed


_CERTIFICATES = _CertificateCache()
_SQLITE_WRITER = threading.Lock()  # see PaymentDesk._decide
_POOL_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(
                max_workers=os.cpu_count() or 2, thread_name_prefix="payments-verify"
            )
        return _POOL


_Checked = tuple[VerifiedSignature | str, str]  # the verdict, and the Streebog-256 of the CMS


def _verify_chunk(jobs: Sequence[tuple[_Pending, ParsedCertificate]]) -> list[_Checked]:
    """One thread's share: the curve arithmetic of all of it in one C call without the GIL,
    and the CMS bytes' digests (the signature rows' unique key) in another."""
    answers = verify_cms_many([(p.item.signature, cert, p.item.document) for p, cert in jobs])
    digests = streebog256_many([p.item.signature for p, _ in jobs])
    return [
        (
            a if isinstance(a, VerifiedSignature) else f"электронная подпись неверна: {a}",
            d.hex(),
        )
        for a, d in zip(answers, digests, strict=True)
    ]


def _verify_jobs(jobs: list[tuple[_Pending, ParsedCertificate]]) -> list[_Checked]:
    """Verify in one chunk per core: the curve arithmetic runs without the GIL, so the chunks
    overlap; one task per chunk keeps the pool's own cost per batch, not per document."""
    workers = os.cpu_count() or 2
    if len(jobs) < 4 or workers < 2:
        return _verify_chunk(jobs)
    size = -(-len(jobs) // workers)
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    return [r for part in _pool().map(_verify_chunk, chunks) for r in part]


# --- facts read per batch ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CertificateFacts:
    serial: str
    signer_id: int
    signer_name: str
    organization_id: int
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    request_state: str | None
    signing_right: SigningRight | None  # None: no row, the default right
    # The certificate its key set replaced, as read with these facts (see may_retire_old).
    old_certificate_id: int | None
    old_revoked_at: datetime | None
    old_not_after: datetime | None

    def may_retire_old(self, now: datetime) -> bool:
        """Whether accepting a payment under this certificate may retire the one it replaced
        (:func:`bankkeys.bank.workflow.retire_superseded` decides, under lock). A revocation is
        never undone, so once the facts show the old one revoked or expired, nothing is left."""
        return (
            self.request_state == RequestState.INSTALLED
            and self.old_certificate_id is not None
            and self.old_revoked_at is None
            and self.old_not_after is not None
            and self.old_not_after > now
        )


@dataclass(frozen=True, slots=True)
class _OrganizationFacts:
    id: int
    signatures_required: int


@dataclass
class _Pending:
    """One document on its way through the checks."""

    position: int
    item: SignedPayment
    content_hash: str = ""  # set once verified (see _verify_all)
    signature_hash: str = ""  # set when verified (see _verify_all)
    order: PaymentOrder | None = None
    verified: VerifiedSignature | None = None
    refusal: str | None = None

    @property
    def number(self) -> str:
        return self.order.number if self.order is not None else ""


@dataclass(slots=True)
class _Document:
    """A document as the batch's decisions see it: stored before (``row`` is None) or first
    received in this batch (``row``: its columns). Read and written with Core statements, one
    per kind for the whole batch: the ORM's per-object bookkeeping cost more than the checks."""

    content_hash: str
    state: str
    accepted_at: datetime | None = None
    row: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Signature:
    signer_id: int
    certificate_serial: str
    signing_right: str
    row: dict[str, Any] | None = None  # a new one: the rest of its row, but the document's id


@dataclass
class _Decisions:
    verdicts: list[PaymentVerdict] = field(default_factory=list)
    accepted_serials: set[str] = field(default_factory=set)
    new_documents: list[_Document] = field(default_factory=list)
    new_signatures: list[tuple[_Document, _Signature]] = field(default_factory=list)
    accepted_stored: list[_Document] = field(default_factory=list)  # stored before, accepted now
    audit: list[dict[str, str]] = field(default_factory=list)


def _date_text(moment: datetime) -> str:
    return f"{moment:%d.%m.%Y}"


@dataclass
class PaymentDesk:
    """Payments over the bank's database; ``workflow`` gives the CA, the policy and the clock."""

    workflow: Workflow

    # -- settings (bank staff) --

    def set_signatures_required(self, actor: Actor, organization_id: int, count: int) -> None:
        """How many signatures the organization's payments need: 1 or 2."""
        _staff_only(actor)
        if count not in (1, 2):
            raise ValidationError("Число подписей под платежным документом: 1 или 2")
        now = self.workflow.clock()
        with self.workflow.db.transaction() as session:
            if session.get(Organization, organization_id) is None:
                raise NotFound(f"Организация № {organization_id} не найдена")
            row = session.get(PaymentSettings, organization_id)
            if row is None:
                session.add(
                    PaymentSettings(
                        organization_id=organization_id, signatures_required=count, updated_at=now
                    )
                )
            else:
                row.signatures_required, row.updated_at = count, now
            audit.append(
                session,
                at=now,
                actor=actor.login,
                role=actor.role,
                action="set_payment_signatures",
                details={"organization_id": organization_id, "required": count},
            )

    def set_signing_right(self, actor: Actor, signer_id: int, right: SigningRight) -> None:
        """A signer's right on payment documents: first, second, or none. A refusal is logged
        (``refused:set_payment_right``), as the workflow logs refused transitions."""
        try:
            self._set_signing_right(actor, signer_id, right)
        except BankError as exc:
            self.workflow.record_refusal(_SET_RIGHT, actor, exc)
            raise

    def _set_signing_right(self, actor: Actor, signer_id: int, right: SigningRight) -> None:
        _staff_only(actor)
        now = self.workflow.clock()
        with self.workflow.db.transaction() as session:
            if session.get(Signer, signer_id) is None:
                raise NotFound(f"Владелец сертификата № {signer_id} не найден")
            row = session.get(PaymentRight, signer_id)
            if row is None:
                session.add(
                    PaymentRight(signer_id=signer_id, signing_right=str(right), updated_at=now)
                )
            else:
                row.signing_right, row.updated_at = str(right), now
            audit.append(
                session,
                at=now,
                actor=actor.login,
                role=actor.role,
                action=_SET_RIGHT,
                signer_id=signer_id,
                details={"right": str(right)},
            )

    # -- the hot path --

    def submit(self, actor: Actor, items: Sequence[SignedPayment]) -> BatchResult:
        """Verify and decide a batch; one verdict per item, in order. Raises only for the batch
        as a whole (caller not a client signer, empty or oversized batch)."""
        signer_id = _client_signer(actor)
        if not items:
            raise ValidationError("Пакет платежных документов пуст")
        if len(items) > MAX_BATCH:
            raise ValidationError(f"В пакете больше {MAX_BATCH} документов: разделите его")
        now = self.workflow.clock()
        pending = [self._parse(position, item) for position, item in enumerate(items, start=1)]
        self._verify_all(pending)
        for attempt in range(3):
            try:
                return self._decide(signer_id, actor, pending, now)
            except IntegrityError:
                # A concurrent batch stored the same number or signature first: decide again
                # on fresh facts (the loser then sees a duplicate or an idempotent resend).
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _parse(self, position: int, item: SignedPayment) -> _Pending:
        p = _Pending(position, item)
        if len(item.document) > MAX_DOCUMENT_BYTES or len(item.signature) > MAX_SIGNATURE_BYTES:
            p.refusal = "документ или подпись слишком велики"
            return p
        try:
            p.order = parse_canonical(item.document, position)
        except PaymentsError as exc:
            p.refusal = f"документ не принят к проверке: {exc}"
        return p

    def _verify_all(self, pending: list[_Pending]) -> None:
        todo = [p for p in pending if p.refusal is None]
        serials = sorted({p.item.certificate_serial for p in todo})
        # Read-only, outside any transaction: no SQLite write lock while the batch verifies.
        with self.workflow.db.statements() as connection:
            rows = connection.execute(_CERTIFICATE_DERS, {"serials": serials}).all()
        parsed = {serial: _CERTIFICATES.get(der) for serial, der in rows}
        jobs = []
        for p in todo:
            cert = parsed.get(p.item.certificate_serial)
            if cert is None:
                p.refusal = (
                    f"сертификат № {p.item.certificate_serial[:40]} не выпущен УЦ банка "
                    "или неизвестен банку"
                )
            else:
                jobs.append((p, cert))
        results = _verify_jobs(jobs)
        for (p, _), (result, signature_hash) in zip(jobs, results, strict=True):
            p.signature_hash = signature_hash
            if isinstance(result, str):
                p.refusal = result
            else:
                p.verified = result
        for p in pending:
            v = p.verified
            # The CMS messageDigest of a GOST 2012-256 key is the Streebog-256 of these very
            # bytes, checked equal to the signed attribute: the content hash, not computed twice.
            if v is not None and v.digest_algorithm_oid == OID_STREEBOG256:
                p.content_hash = v.message_digest.hex()
            else:
                p.content_hash = streebog256(p.item.document).hexdigest()

    def _decide(
        self, signer_id: int, actor: Actor, pending: list[_Pending], now: datetime
    ) -> BatchResult:
        """The batch's decisions in one transaction straight on the driver (Core statements
        only: the session's bookkeeping cost more than the statements). The first payment
        under a new key set retires the old certificate through the workflow's ORM code: that
        rare batch is decided again in a session, from the start.

        On SQLite the batches of one process take turns on a lock of their own: the database
        lets one writer in at a time anyway, and a writer that finds it taken sleeps in SQLite's
        busy handler for 1, 2, 5, 10… ms whatever the holder needs, where the lock hands over
        the moment the holder commits."""
        wf = self.workflow
        with _SQLITE_WRITER if wf.db.dialect == "sqlite" else contextlib.nullcontext():
            try:
                with wf.db.driver_transaction(before_commit=audit.write_pending) as unit:
                    return self._decide_in(unit, signer_id, actor, pending, now)
            except _NeedsSession:
                pass
            with wf.db.transaction() as session:
                return self._decide_in(session, signer_id, actor, pending, now)

    def _decide_in(
        self, unit: Unit, signer_id: int, actor: Actor, pending: list[_Pending], now: datetime
    ) -> BatchResult:
        found = unit.connection().execute(_CALLER_ORGANIZATION, {"signer_id": signer_id}).first()
        if found is None:
            raise NotFound(f"Владелец сертификата № {signer_id} не найден")
        caller_org: int = found[0]
        live = [p for p in pending if p.refusal is None and p.order is not None]
        certs = _certificate_facts(unit, {p.item.certificate_serial for p in live})
        orgs = _organization_facts(unit, {p.order.payer.inn for p in live if p.order})
        rights = {
            c.signer_id: c.signing_right for c in certs.values() if c.signing_right is not None
        }
        docs_by_hash, docs_by_number, signatures = _documents(unit, live)
        out = _Decisions()
        for p in pending:
            try:
                if p.refusal is not None:
                    raise _Refused(p.refusal)
                state = self._decide_one(
                    p,
                    now,
                    caller_org,
                    certs,
                    orgs,
                    rights,
                    docs_by_hash,
                    docs_by_number,
                    signatures,
                    out,
                )
            except _Refused as refused:
                out.verdicts.append(
                    PaymentVerdict(
                        p.position,
                        p.number,
                        PaymentState.REFUSED,
                        refused.reason,
                        p.content_hash,
                    )
                )
                out.audit.append(
                    {
                        "number": p.number,
                        "hash": p.content_hash,
                        "state": "refused",
                        "reason": refused.reason,
                    }
                )
                continue
            out.verdicts.append(PaymentVerdict(p.position, p.number, state, "", p.content_hash))
            out.audit.append({"number": p.number, "hash": p.content_hash, "state": state})
        _write(unit, out)
        retired = []
        for serial in sorted(out.accepted_serials):
            facts = certs.get(serial)
            if facts is not None and not facts.may_retire_old(now):
                continue  # the common case: no statement per batch
            if not isinstance(unit, Session):
                raise _NeedsSession
            old = _retire_for(unit, serial, now, self.workflow)
            if old is not None:
                retired.append(old)
        audit.append(
            unit,
            at=now,
            actor=actor.login,
            role=actor.role,
            action="payments_batch",
            signer_id=signer_id,
            details={"documents": out.audit, "retired": retired},
        )
        return BatchResult(tuple(out.verdicts), tuple(retired))

    def _decide_one(
        self,
        p: _Pending,
        now: datetime,
        caller_org: int,
        certs: dict[str, _CertificateFacts],
        orgs: dict[str, _OrganizationFacts],
        rights: dict[int, SigningRight],
        docs_by_hash: dict[str, _Document],
        docs_by_number: dict[tuple[str, int, str], _Document],
        signatures: dict[str, list[_Signature]],
        out: _Decisions,
    ) -> PaymentState:
        order, verified = p.order, p.verified
        assert order is not None and verified is not None
        cert = certs[p.item.certificate_serial]
        _check_certificate(cert, verified.signing_time or now, now)
        org = orgs.get(order.payer.inn)
        if org is None or org.id != caller_org:
            raise _Refused(
                f"плательщик (ИНН {order.payer.inn}) — не организация отправителя документов"
            )
        if cert.organization_id != org.id:
            raise _Refused(
                f"подписант {cert.signer_name} не относится к организации-плательщику "
                f"(ИНН {order.payer.inn})"
            )
        right = rights.get(cert.signer_id, SigningRight.FIRST)
        if right is SigningRight.NONE:
            raise _Refused(
                f"у подписанта {cert.signer_name} нет права подписи платежных документов"
            )
        if org.signatures_required == 1 and right is not SigningRight.FIRST:
            raise _Refused(
                f"у подписанта {cert.signer_name} право второй подписи, а документ "
                "организации подписывается одной подписью с правом первой подписи"
            )
        signature_hash = p.signature_hash or streebog256(p.item.signature).hexdigest()
        doc = docs_by_hash.get(p.content_hash)
        if doc is None:
            key = (order.payer.account, order.date.year, order.number)
            other = docs_by_number.get(key)
            if other is not None:
                raise _Refused(
                    f"документ № {order.number} за {order.date.year} год по счету "
                    f"{order.payer.account} уже получен банком (другой документ с тем же "
                    "номером): повтор номера"
                )
            doc = _Document(
                p.content_hash,
                str(DocumentState.AWAITING_SECOND),
                row={
                    "organization_id": org.id,
                    "payer_account": order.payer.account,
                    "doc_year": order.date.year,
                    "number": order.number,
                    "doc_date": order.date,
                    "amount_kopecks": order.amount_kopecks,
                    "content_hash": p.content_hash,
                    "canonical": p.item.document,
                    "received_at": now,
                },
            )
            out.new_documents.append(doc)  # inserted with the batch; unique keys decide races
            docs_by_hash[p.content_hash] = doc
            docs_by_number[key] = doc
        present = signatures.setdefault(p.content_hash, [])
        if doc.state == DocumentState.ACCEPTED:
            return PaymentState.ACCEPTED  # a resend of an accepted document answers the same
        if any(s.signer_id == cert.signer_id for s in present):
            return PaymentState.AWAITING_SECOND  # this signer's signature is already there
        taken = next((s for s in present if s.signing_right == right), None)
        if taken is not None:
            missing = SigningRight.SECOND if right is SigningRight.FIRST else SigningRight.FIRST
            raise _Refused(
                f"подпись с правом {RIGHT_TEXT[right]} под документом уже есть; нужна подпись "
                f"с правом {RIGHT_TEXT[missing]}"
            )
        row = _Signature(
            cert.signer_id,
            cert.serial,
            str(right),
            {
                "signature_hash": signature_hash,
                "cms": p.item.signature,
                "signing_time": verified.signing_time or now,
                "received_at": now,
            },
        )
        out.new_signatures.append((doc, row))
        present.append(row)
        needed = (
            {SigningRight.FIRST}
            if org.signatures_required == 1
            else {SigningRight.FIRST, SigningRight.SECOND}
        )
        if needed <= {SigningRight(s.signing_right) for s in present}:
            doc.state, doc.accepted_at = str(DocumentState.ACCEPTED), now
            if doc.row is None:
                out.accepted_stored.append(doc)
            out.accepted_serials.update(s.certificate_serial for s in present)
            return PaymentState.ACCEPTED
        return PaymentState.AWAITING_SECOND

    # -- statuses and export --

    def received(
        self,
        actor: Actor,
        *,
        since: date | None = None,
        until: date | None = None,
        limit: int = 1000,
    ) -> list[ReceivedPayment]:
        """The caller organization's documents (by document date), newest first."""
        signer_id = _client_signer(actor)
        with self.workflow.db.transaction() as session:
            org_id = session.execute(
                select(Signer.organization_id).where(Signer.id == signer_id)
            ).scalar_one_or_none()
            if org_id is None:
                raise NotFound(f"Владелец сертификата № {signer_id} не найден")
            query = select(PaymentDocument).where(PaymentDocument.organization_id == org_id)
            if since is not None:
                query = query.where(PaymentDocument.doc_date >= since)
            if until is not None:
                query = query.where(PaymentDocument.doc_date <= until)
            docs = (
                session.execute(
                    query.order_by(
                        PaymentDocument.doc_date.desc(), PaymentDocument.id.desc()
                    ).limit(limit)
                )
                .scalars()
                .all()
            )
            rows = session.execute(
                select(PaymentSignature, Signer.surname, Signer.given_name)
                .join(Signer, Signer.id == PaymentSignature.signer_id)
                .where(PaymentSignature.document_id.in_([d.id for d in docs]))
                .order_by(PaymentSignature.id)
            ).all()
        by_doc: dict[int, list[SignatureRecord]] = {}
        for sig, surname, given in rows:
            by_doc.setdefault(sig.document_id, []).append(
                SignatureRecord(
                    sig.signer_id,
                    f"{surname} {given}",
                    sig.certificate_serial,
                    SigningRight(sig.signing_right),
                    sig.signing_time,
                )
            )
        return [
            ReceivedPayment(
                d.number,
                d.doc_date,
                d.amount_kopecks,
                d.payer_account,
                d.content_hash,
                PaymentState.ACCEPTED
                if d.state == DocumentState.ACCEPTED
                else PaymentState.AWAITING_SECOND,
                d.received_at,
                d.accepted_at,
                tuple(by_doc.get(d.id, ())),
                parse_canonical(d.canonical),
            )
            for d in docs
        ]

    def export(
        self,
        actor: Actor,
        *,
        since: date | None = None,
        until: date | None = None,
        codec: str = "cp1251",
        sender: str = "bankkeys",
    ) -> bytes:
        """The organization's documents with the bank's statuses as a 1CClientBankExchange file
        (``СтатусБанка=Принят``; a document still awaiting its second signature has none)."""
        documents = list(reversed(self.received(actor, since=since, until=until)))
        entries = [ExportEntry.of_order(d.order, d.status) for d in documents]
        return write_exchange(entries, created=self.workflow.clock(), sender=sender, codec=codec)


# --- helpers ----------------------------------------------------------------------------------


def _client_signer(actor: Actor) -> int:
    if actor.role != Role.CLIENT_SIGNER or actor.signer_id is None:
        raise NotAllowed("Платежные документы отправляет владелец сертификата (клиент банка)")
    return actor.signer_id


_SET_RIGHT: Final = "set_payment_right"


def _staff_only(actor: Actor) -> None:
    if actor.role not in (Role.OPERATOR, Role.ADMINISTRATOR, Role.SECURITY_OFFICER):
        raise NotAllowed("Права подписи платежных документов настраивают сотрудники банка")


def _check_certificate(cert: _CertificateFacts, signed_at: datetime, now: datetime) -> None:
    serial = cert.serial
    if signed_at > now + CLOCK_SKEW:
        raise _Refused(f"время подписи {signed_at:%d.%m.%Y %H:%M} UTC позже времени получения")
    if cert.revoked_at is not None:
        if cert.revocation_reason == "superseded":
            raise _Refused(
                f"ключ выведен из действия: сертификат № {serial} заменён новым "
                f"{_date_text(cert.revoked_at)}; подпишите документ действующим ключом"
            )
        why = REVOCATION_TEXT.get(cert.revocation_reason or "", cert.revocation_reason or "")
        raise _Refused(f"сертификат № {serial} отозван {_date_text(cert.revoked_at)} ({why})")
    if signed_at < cert.not_before or now < cert.not_before:
        raise _Refused(f"сертификат № {serial} ещё не действовал на момент подписи")
    if signed_at > cert.not_after or now > cert.not_after:
        raise _Refused(f"срок действия сертификата № {serial} истёк {_date_text(cert.not_after)}")
    if cert.request_state is not None and cert.request_state != RequestState.INSTALLED:
        raise _Refused(f"сертификат № {serial} ещё не введён в действие: подтвердите его установку")


def _table(model: type[Any]) -> Table:
    """The model's table (typed: ``__table__`` is a FromClause to mypy)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


_CERTIFICATES_T = _table(Certificate)
_SIGNERS_T = _table(Signer)
_REQUESTS_T = _table(RekeyRequest)
_OLD_CERTIFICATES_T = _CERTIFICATES_T.alias("old_certificates")
_RIGHTS_T = _table(PaymentRight)
_DOCUMENTS_T = _table(PaymentDocument)
_SIGNATURES_T = _table(PaymentSignature)
# A new signature finds its document by the unique content hash inside the INSERT: no SELECT
# of the new documents' ids in between.
_INSERT_SIGNATURE = insert(_SIGNATURES_T).values(
    document_id=select(_DOCUMENTS_T.c.id)
    .where(_DOCUMENTS_T.c.content_hash == bindparam("document_hash"))
    .scalar_subquery()
)
# The columns _decide_one fills (the ids come from the database).
_DOCUMENT_COLUMNS: Final = (
    "organization_id",
    "payer_account",
    "doc_year",
    "number",
    "doc_date",
    "amount_kopecks",
    "content_hash",
    "canonical",
    "received_at",
    "state",
    "accepted_at",
)
_SIGNATURE_COLUMNS: Final = (
    "signature_hash",
    "cms",
    "signing_time",
    "received_at",
    "signer_id",
    "certificate_serial",
    "signing_right",
)
_ACCEPT_STORED = (
    update(_DOCUMENTS_T)
    .where(_DOCUMENTS_T.c.content_hash == bindparam("document_hash"))
    .values(state=bindparam("new_state"), accepted_at=bindparam("new_accepted_at"))
)


# The batch's reads. A driver unit takes no list whose length changes the SQL text (an
# "expanding" IN): each list gets one parameter per item, in a statement built once per length,
# the lengths rounded up to a power of two (the last item repeated) so that a few shapes serve
# every batch.
_C, _S, _R = _CERTIFICATES_T.c, _SIGNERS_T.c, _REQUESTS_T.c


def _slots(count: int) -> int:
    """The list length a statement is built for: ``count`` rounded up to a power of two."""
    return 1 << max(0, count - 1).bit_length()


def _in(column: Any, name: str, slots: int) -> Any:
    return column.in_([bindparam(f"{name}_{i}") for i in range(slots)])


def _fill(params: dict[str, Any], name: str, values: Sequence[Any]) -> int:
    """Put ``values`` (not empty) into the parameters ``name_0``, ``name_1``…; returns the
    statement's list length."""
    slots = _slots(len(values))
    last = len(values) - 1
    for i in range(slots):
        params[f"{name}_{i}"] = values[min(i, last)]
    return slots


@functools.lru_cache(maxsize=16)
def _certificate_facts_query(slots: int) -> Select[Any]:
    return (
        select(
            _C.serial,
            _C.signer_id,
            _S.organization_id,
            _S.surname,
            _S.given_name,
            _C.not_before,
            _C.not_after,
            _C.revoked_at,
            _C.revocation_reason,
            _R.state,
            _RIGHTS_T.c.signing_right,
            _R.old_certificate_id,
            _OLD_CERTIFICATES_T.c.revoked_at,
            _OLD_CERTIFICATES_T.c.not_after,
        )
        .join_from(_CERTIFICATES_T, _SIGNERS_T, _S.id == _C.signer_id)
        .outerjoin(_REQUESTS_T, _R.id == _C.request_id)
        .outerjoin(_OLD_CERTIFICATES_T, _OLD_CERTIFICATES_T.c.id == _R.old_certificate_id)
        .outerjoin(_RIGHTS_T, _RIGHTS_T.c.signer_id == _C.signer_id)
        .where(_in(_C.serial, "serial", slots))
    )


_ORGANIZATIONS_T = _table(Organization)
_SETTINGS_T = _table(PaymentSettings)


@functools.lru_cache(maxsize=16)
def _organization_facts_query(slots: int) -> Select[Any]:
    return (
        select(_ORGANIZATIONS_T.c.id, _ORGANIZATIONS_T.c.inn, _SETTINGS_T.c.signatures_required)
        .outerjoin(_SETTINGS_T, _SETTINGS_T.c.organization_id == _ORGANIZATIONS_T.c.id)
        .where(_in(_ORGANIZATIONS_T.c.inn, "inn", slots))
    )


# Read by a SQLAlchemy connection before the batch's transaction: an expanding list there.
_CERTIFICATE_DERS = select(_C.serial, _C.der).where(
    _C.serial.in_(bindparam("serials", expanding=True)), _C.is_ca.is_(False)
)
_CALLER_ORGANIZATION = select(_S.organization_id).where(_S.id == bindparam("signer_id"))


@functools.lru_cache(maxsize=16)
def _stored_signatures_query(slots: int) -> Select[Any]:
    return (
        select(
            _SIGNATURES_T.c.document_id,
            _SIGNATURES_T.c.signer_id,
            _SIGNATURES_T.c.certificate_serial,
            _SIGNATURES_T.c.signing_right,
        )
        .where(_in(_SIGNATURES_T.c.document_id, "id", slots))
        .order_by(_SIGNATURES_T.c.id)
    )


@functools.lru_cache(maxsize=64)
def _stored_documents(hash_slots: int, number_slots: tuple[int, ...]) -> Select[Any]:
    """The stored documents with one of the batch's hashes or one of its numbers of each
    (payer account, year) pair; parameters hash_N, account_I, year_I, number_I_N."""
    d = _DOCUMENTS_T.c
    # One index search per term (SQLite: MULTI-INDEX OR): a row-value IN beside the hash IN
    # made SQLite scan the whole table for every batch.
    same_number = [
        and_(
            d.payer_account == bindparam(f"account_{i}"),
            d.doc_year == bindparam(f"year_{i}"),
            _in(d.number, f"number_{i}", slots),
        )
        for i, slots in enumerate(number_slots)
    ]
    return select(
        d.id, d.content_hash, d.payer_account, d.doc_year, d.number, d.state, d.accepted_at
    ).where(or_(_in(d.content_hash, "hash", hash_slots), *same_number))


def _certificate_facts(unit: Unit, serials: Iterable[str]) -> dict[str, _CertificateFacts]:
    wanted = sorted(serials)
    if not wanted:
        return {}
    params: dict[str, Any] = {}
    slots = _fill(params, "serial", wanted)
    rows = unit.connection().execute(_certificate_facts_query(slots), params)
    return {
        serial: _CertificateFacts(
            serial,
            signer_id or 0,
            f"{surname} {given}",
            org_id,
            not_before,
            not_after,
            revoked_at,
            reason,
            state,
            SigningRight(signing_right) if signing_right is not None else None,
            old_id,
            old_revoked_at,
            old_not_after,
        )
        for (
            serial,
            signer_id,
            org_id,
            surname,
            given,
            not_before,
            not_after,
            revoked_at,
            reason,
            state,
            signing_right,
            old_id,
            old_revoked_at,
            old_not_after,
        ) in rows
    }


def _organization_facts(unit: Unit, inns: Iterable[str]) -> dict[str, _OrganizationFacts]:
    wanted = sorted(inns)
    if not wanted:
        return {}
    params: dict[str, Any] = {}
    slots = _fill(params, "inn", wanted)
    rows = unit.connection().execute(_organization_facts_query(slots), params)
    return {inn: _OrganizationFacts(org_id, required or 1) for org_id, inn, required in rows}


def _documents(
    unit: Unit, live: list[_Pending]
) -> tuple[
    dict[str, _Document],
    dict[tuple[str, int, str], _Document],
    dict[str, list[_Signature]],
]:
    """The stored documents the batch may meet: the same bytes, or the same number."""
    hashes = sorted({p.content_hash for p in live})
    if not hashes:
        return {}, {}, {}
    numbers: dict[tuple[str, int], set[str]] = {}
    for p in live:
        if p.order is not None:
            key = (p.order.payer.account, p.order.date.year)
            numbers.setdefault(key, set()).add(p.order.number)
    params: dict[str, Any] = {}
    hash_slots = _fill(params, "hash", hashes)
    number_slots = []
    for index, ((account, year), wanted) in enumerate(sorted(numbers.items())):
        params[f"account_{index}"], params[f"year_{index}"] = account, year
        number_slots.append(_fill(params, f"number_{index}", sorted(wanted)))
    connection = unit.connection()
    rows = connection.execute(_stored_documents(hash_slots, tuple(number_slots)), params).all()
    by_hash: dict[str, _Document] = {}
    by_number: dict[tuple[str, int, str], _Document] = {}
    by_id: dict[int, _Document] = {}
    for doc_id, content_hash, account, year, number, state, accepted_at in rows:
        doc = _Document(content_hash, state, accepted_at)
        by_hash[content_hash] = by_number[(account, year, number)] = by_id[doc_id] = doc
    signatures: dict[str, list[_Signature]] = {h: [] for h in by_hash}
    if by_id:
        ids: dict[str, Any] = {}
        slots = _fill(ids, "id", sorted(by_id))
        for doc_id, signer_id, serial, right in connection.execute(
            _stored_signatures_query(slots), ids
        ):
            signatures[by_id[doc_id].content_hash].append(_Signature(signer_id, serial, right))
    return by_hash, by_number, signatures


def _write(unit: Unit, out: _Decisions) -> None:
    """The batch's changes in at most three statements: new documents, stored documents it
    accepts, new signatures."""
    connection = unit.connection()
    execute_many(
        connection,
        "payment_documents",
        insert(_DOCUMENTS_T),
        [
            {**d.row, "state": d.state, "accepted_at": d.accepted_at}
            for d in out.new_documents
            if d.row is not None
        ],
        columns=_DOCUMENT_COLUMNS,
    )
    if out.accepted_stored:
        connection.execute(
            _ACCEPT_STORED,
            [
                {
                    "document_hash": d.content_hash,
                    "new_state": d.state,
                    "new_accepted_at": d.accepted_at,
                }
                for d in out.accepted_stored
            ],
        )
    execute_many(
        connection,
        "payment_signatures",
        _INSERT_SIGNATURE,
        [
            {
                **(signature.row or {}),
                "document_hash": document.content_hash,
                "signer_id": signature.signer_id,
                "certificate_serial": signature.certificate_serial,
                "signing_right": signature.signing_right,
            }
            for document, signature in out.new_signatures
        ],
        columns=_SIGNATURE_COLUMNS,
    )


def _retire_for(session: Session, serial: str, now: datetime, wf: Workflow) -> str | None:
    """The first accepted payment under a new key set retires the certificate it replaced."""
    row = session.execute(
        select(RekeyRequest)
        .join(Certificate, Certificate.request_id == RekeyRequest.id)
        .where(Certificate.serial == serial)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None or row.old_certificate_id is None:
        return None
    return retire_superseded(session, SYSTEM, row, now, wf.ca, wf.policy)


__all__ = [
    "MAX_BATCH",
    "STATE_TEXT",
    "BatchResult",
    "PaymentDesk",
    "PaymentState",
    "PaymentVerdict",
    "ReceivedPayment",
    "SignatureRecord",
    "SignedPayment",
    "SigningRight",
]
