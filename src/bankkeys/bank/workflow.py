"""The re-key workflow: the one place where statuses and transitions are defined.

Display statuses are derived (:func:`derive_status`) from facts — the signer's certificates and
their dates and revocations, the open request and its state, approvals, activation codes — and
the clock. Nothing shown to a user is stored twice.

Display statuses (seeds 000–004); the Russian text is what the client and the operator see:

===========================  =================================================  ====================
Status                       Russian display text                               English meaning
===========================  =================================================  ====================
INITIAL_GENERATION_REQUIRED  Необходима начальная генерация                     no key yet: make one
                                                                                with the activation
                                                                                code
RENEWAL_REQUIRED             Необходима плановая замена сертификата             inside the renewal
                                                                                window (policy: 30
                                                                                days)
ACCEPTED                     Принят банком                                      request verified;
                                                                                bank waits for the
                                                                                acts
DOCUMENTS_RECEIVED           Документы получены банком                          acts received (paper
                                                                                or e-signed);
                                                                                awaiting approval
AWAITING_SECOND_APPROVAL     Ожидает подтверждения второго сотрудника банка     four eyes: one
                                                                                approval of two
APPROVED                     Одобрен банком                                     approved; the CA has
                                                                                not signed yet
ISSUED                       Получен новый сертификат                           issued; the client
                                                                                must install it
SWITCHED                     Вы переведены на работу с новым комплектом ключей  installed; the old
                                                                                key not yet retired
ACTIVE                       Действует                                          valid; nothing to do
REJECTED                     Запрос отклонён банком: <причина>                  rejected by the
                                                                                bank, with the
                                                                                reason
CANCELLED                    Запрос отменён клиентом                            withdrawn by the
                                                                                client
REQUEST_EXPIRED              Запрос не подтверждён в срок                       not approved within
                                                                                the policy time
EXPIRED                      Срок действия истёк                                expired without a
                                                                                request: only in
                                                                                person
REVOKED                      Сертификат отозван                                 revoked, no valid
                                                                                one: only in person
===========================  =================================================  ====================

Request states (stored; the lifecycle of one request) and transitions:

==========================  ==================  ======================  ===========================
From                        Action              To                      Who
==========================  ==================  ======================  ===========================
(none)                      submit_request      accepted                the client signer
accepted                    record_printed      accepted                the client signer
accepted                    receive_documents   documents_received      operator
accepted                    sign_act            documents_received      the client signer (remote
                                                                        path only)
documents_received          approve             approved → issued       operator, security officer
                                                                        (twice, distinct, if four
                                                                        eyes)
approved                    issue               issued                  operator, security officer,
                                                                        system (CA was unavailable)
issued                      confirm_install.    installed               the client signer
accepted, documents_rec.    reject              rejected                operator, security officer
accepted, documents_rec.    cancel              cancelled               the client signer
accepted, documents_rec.    expire_request      expired                 system (scheduler)
installed                   retire_superseded   installed (old cert.    system (first payment with
                                                revoked: superseded)    the new key, or grace time)
installed (token named)     receive_transfer_a. installed (the signed   operator (once)
                                                original of the «Акт
                                                приема-передачи» is
                                                with the bank)
==========================  ==================  ======================  ===========================

Renewal paths (how a request proves who sent it; named, Dogtag-style): ``old-key`` — CMS signed
by the signer's current valid certificate, paper acts; ``activation-code`` — first key, bound to a
one-time code; ``remote-signed-act`` — old key signs the request and the acceptance act: no visit.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any, Concatenate, Final, NamedTuple, ParamSpec, Protocol, TypeVar, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from bankkeys.bank import activation, audit, notifications
from bankkeys.bank.ca import IssuanceOrder, IssuingAuthority, RevocationReason, RevokedEntry
from bankkeys.bank.errors import (
    ActivationCodeInvalid,
    BankError,
    CaError,
    InvalidTransition,
    KeyReused,
    NotAllowed,
    NotFound,
    OpenRequestExists,
    PathNotAllowed,
    SignatureInvalid,
    SubjectMismatch,
    ValidationError,
)
from bankkeys.bank.evidence import RequestEvidence, RequestInspector
from bankkeys.bank.notifications import NotificationKind
from bankkeys.bank.policy import Policy, RenewalPathName
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.driver import DriverUnit, Rows, Unit
from bankkeys.bank.store.models import (
    ActivationCode,
    Approval,
    CaRecord,
    Certificate,
    Crl,
    Organization,
    PrintedDocument,
    PublicKeySeen,
    RekeyRequest,
    Signer,
)
from bankkeys.bank.validation import (
    check_email,
    check_inn,
    check_kpp,
    check_ogrn,
    check_snils,
    check_text,
)
from bankkeys.gost.streebog import streebog256
from bankkeys.pki.names import Name

T = TypeVar("T")

# --- vocabulary ----------------------------------------------------------------------------------


class Role(StrEnum):
    CLIENT_SIGNER = "client_signer"
    OPERATOR = "operator"
    SECURITY_OFFICER = "security_officer"
    ADMINISTRATOR = "administrator"
    SYSTEM = "system"  # the scheduler and integrations (payments)


ROLE_TEXT: Final[Mapping[Role, str]] = {
    Role.CLIENT_SIGNER: "владелец сертификата",
    Role.OPERATOR: "оператор банка",
    Role.SECURITY_OFFICER: "офицер безопасности",
    Role.ADMINISTRATOR: "администратор",
    Role.SYSTEM: "система",
}


@dataclass(frozen=True)
class Actor:
    """Who acts. A client signer acts only for themself (``signer_id``)."""

    login: str
    role: Role
    signer_id: int | None = None

    @classmethod
    def client(cls, signer_id: int, login: str) -> Actor:
        return cls(login, Role.CLIENT_SIGNER, signer_id)

    @classmethod
    def operator(cls, login: str) -> Actor:
        return cls(login, Role.OPERATOR)

    @classmethod
    def security_officer(cls, login: str) -> Actor:
        return cls(login, Role.SECURITY_OFFICER)

    @classmethod
    def administrator(cls, login: str) -> Actor:
        return cls(login, Role.ADMINISTRATOR)

    @classmethod
    def system(cls, login: str = "scheduler") -> Actor:
        return cls(login, Role.SYSTEM)


class RequestKind(StrEnum):
    INITIAL = "initial"
    RENEWAL = "renewal"


class RequestState(StrEnum):
    ACCEPTED = "accepted"
    DOCUMENTS_RECEIVED = "documents_received"
    APPROVED = "approved"
    ISSUED = "issued"
    INSTALLED = "installed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN_STATES: Final = frozenset(
    {
        RequestState.ACCEPTED,
        RequestState.DOCUMENTS_RECEIVED,
        RequestState.APPROVED,
        RequestState.ISSUED,
    }
)
# Before approval: the client may cancel, the bank may reject, the clock may expire it.
PENDING_STATES: Final = frozenset({RequestState.ACCEPTED, RequestState.DOCUMENTS_RECEIVED})


class DocumentKind(StrEnum):
    ACCEPTANCE_ACT = (
        "acceptance_act"  # Акт признания открытого ключа (сертификата ключа проверки ЭП)
    )
    CERTIFICATE_APPLICATION = "certificate_application"  # Заявление на изготовление сертификата
    # Акт приема-передачи (seed 003): printed after the installation on a named token.
    TRANSFER_ACT = "transfer_act"


DOCUMENT_TEXT: Final[Mapping[DocumentKind, str]] = {
    DocumentKind.ACCEPTANCE_ACT: "Акт признания открытого ключа (сертификата ключа проверки ЭП)",
    DocumentKind.CERTIFICATE_APPLICATION: "Заявление на изготовление сертификата",
    DocumentKind.TRANSFER_ACT: "Акт приема-передачи сертификата ключа проверки ЭП",
}


class Status(Enum):
    """Display statuses; the value is the Russian text (see the module docstring)."""

    INITIAL_GENERATION_REQUIRED = "Необходима начальная генерация"
    RENEWAL_REQUIRED = "Необходима плановая замена сертификата"
    ACCEPTED = "Принят банком"
    DOCUMENTS_RECEIVED = "Документы получены банком"
    AWAITING_SECOND_APPROVAL = "Ожидает подтверждения второго сотрудника банка"
    APPROVED = "Одобрен банком"
    ISSUED = "Получен новый сертификат"
    SWITCHED = "Вы переведены на работу с новым комплектом ключей"
    ACTIVE = "Действует"
    REJECTED = "Запрос отклонён банком"
    CANCELLED = "Запрос отменён клиентом"
    REQUEST_EXPIRED = "Запрос не подтверждён в срок"
    EXPIRED = "Срок действия истёк"
    REVOKED = "Сертификат отозван"

    @property
    def text(self) -> str:
        return str(self.value)


_STATE_STATUS: Final[Mapping[RequestState, Status]] = {
    RequestState.ACCEPTED: Status.ACCEPTED,
    RequestState.DOCUMENTS_RECEIVED: Status.DOCUMENTS_RECEIVED,
    RequestState.APPROVED: Status.APPROVED,
    RequestState.ISSUED: Status.ISSUED,
    RequestState.INSTALLED: Status.SWITCHED,
    RequestState.REJECTED: Status.REJECTED,
    RequestState.CANCELLED: Status.CANCELLED,
    RequestState.EXPIRED: Status.REQUEST_EXPIRED,
}


# --- who may do what -----------------------------------------------------------------------------


class Action(StrEnum):
    REGISTER_ORGANIZATION = "register_organization"
    REGISTER_SIGNER = "register_signer"
    ISSUE_ACTIVATION_CODE = "issue_activation_code"
    IMPORT_CERTIFICATE = "import_certificate"
    SUBMIT_REQUEST = "submit_request"
    RECORD_PRINTED = "record_printed"
    RECEIVE_DOCUMENTS = "receive_documents"
    SIGN_ACT = "sign_act"
    APPROVE = "approve"
    ISSUE = "issue"
    REJECT = "reject"
    CANCEL = "cancel"
    CONFIRM_INSTALLATION = "confirm_installation"
    RECORD_PAYMENT = "record_payment_with_new_key"
    RETIRE_SUPERSEDED = "retire_superseded"
    EXPIRE_REQUEST = "expire_request"
    REVOKE = "revoke"
    PUBLISH_CRL = "publish_crl"
    RECEIVE_TRANSFER_ACT = "receive_transfer_act"


ACTION_TEXT: Final[Mapping[Action, str]] = {
    Action.REGISTER_ORGANIZATION: "зарегистрировать организацию",
    Action.REGISTER_SIGNER: "зарегистрировать владельца сертификата",
    Action.ISSUE_ACTIVATION_CODE: "выдать код активации",
    Action.IMPORT_CERTIFICATE: "загрузить сертификат",
    Action.SUBMIT_REQUEST: "отправить запрос на сертификат",
    Action.RECORD_PRINTED: "распечатать документы",
    Action.RECEIVE_DOCUMENTS: "принять документы",
    Action.SIGN_ACT: "подписать акт признания электронной подписью",
    Action.APPROVE: "одобрить запрос",
    Action.ISSUE: "выпустить сертификат",
    Action.REJECT: "отклонить запрос",
    Action.CANCEL: "отменить запрос",
    Action.CONFIRM_INSTALLATION: "подтвердить установку сертификата",
    Action.RECORD_PAYMENT: "учесть платёж, подписанный новым ключом",
    Action.RETIRE_SUPERSEDED: "вывести из действия старый сертификат",
    Action.EXPIRE_REQUEST: "закрыть просроченный запрос",
    Action.REVOKE: "отозвать сертификат",
    Action.PUBLISH_CRL: "выпустить список отозванных сертификатов",
    Action.RECEIVE_TRANSFER_ACT: "принять оригинал акта приема-передачи",
}

_BANK_STAFF: Final = frozenset({Role.OPERATOR, Role.SECURITY_OFFICER})
PERMISSIONS: Final[Mapping[Action, frozenset[Role]]] = {
    Action.REGISTER_ORGANIZATION: frozenset({Role.OPERATOR, Role.ADMINISTRATOR}),
    Action.REGISTER_SIGNER: frozenset({Role.OPERATOR, Role.ADMINISTRATOR}),
    Action.ISSUE_ACTIVATION_CODE: frozenset({Role.OPERATOR, Role.ADMINISTRATOR}),
    Action.IMPORT_CERTIFICATE: frozenset({Role.SECURITY_OFFICER, Role.ADMINISTRATOR}),
    Action.SUBMIT_REQUEST: frozenset({Role.CLIENT_SIGNER}),
    Action.RECORD_PRINTED: frozenset({Role.CLIENT_SIGNER}),
    Action.RECEIVE_DOCUMENTS: frozenset({Role.OPERATOR}),
    Action.SIGN_ACT: frozenset({Role.CLIENT_SIGNER}),
    Action.APPROVE: _BANK_STAFF,
    Action.ISSUE: _BANK_STAFF | {Role.SYSTEM},
    Action.REJECT: _BANK_STAFF,
    Action.CANCEL: frozenset({Role.CLIENT_SIGNER}),
    Action.CONFIRM_INSTALLATION: frozenset({Role.CLIENT_SIGNER}),
    Action.RECORD_PAYMENT: frozenset({Role.SYSTEM, Role.OPERATOR}),
    Action.RETIRE_SUPERSEDED: frozenset({Role.SYSTEM}),
    Action.EXPIRE_REQUEST: frozenset({Role.SYSTEM}),
    Action.REVOKE: _BANK_STAFF,
    Action.PUBLISH_CRL: frozenset({Role.SECURITY_OFFICER, Role.ADMINISTRATOR, Role.SYSTEM}),
    # Like the acts before approval: the operator who takes the paper registers it.
    Action.RECEIVE_TRANSFER_ACT: frozenset({Role.OPERATOR}),
}


def authorize(actor: Actor, action: Action, *, signer_id: int | None = None) -> None:
    """Refuse unless ``actor``'s role may do ``action`` (and a client acts for themself)."""
    if actor.role not in PERMISSIONS[action]:
        raise NotAllowed(
            f"Действие «{ACTION_TEXT[action]}» недоступно: роль «{ROLE_TEXT[actor.role]}»"
        )
    if actor.role == Role.CLIENT_SIGNER and (signer_id is None or actor.signer_id != signer_id):
        raise NotAllowed(
            f"Действие «{ACTION_TEXT[action]}» доступно только самому владельцу сертификата"
        )


# --- derived display status ----------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateFacts:
    serial: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    request_id: int | None
    request_installed: bool  # issued by a request the client confirmed (or imported: True)
    issued_at: datetime


@dataclass(frozen=True)
class RequestFacts:
    id: int
    state: RequestState
    accepted_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    approvals: int
    old_certificate_retired: bool


@dataclass(frozen=True)
class SignerFacts:
    """Everything the display status depends on, loaded in one go."""

    certificates: tuple[CertificateFacts, ...]
    open_request: RequestFacts | None
    last_closed_request: RequestFacts | None
    has_usable_activation_code: bool


@dataclass(frozen=True)
class DisplayStatus:
    status: Status
    detail: str | None = None
    certificate_serial: str | None = None
    request_id: int | None = None
    not_after: datetime | None = None

    @property
    def text(self) -> str:
        return self.status.text if self.detail is None else f"{self.status.text}: {self.detail}"


def current_certificate(facts: SignerFacts, now: datetime) -> CertificateFacts | None:
    """The certificate the signer works with now: valid, not revoked, installed; the latest."""
    usable = [
        c
        for c in facts.certificates
        if c.revoked_at is None and c.not_before <= now < c.not_after and c.request_installed
    ]
    return max(usable, key=lambda c: (c.not_after, c.issued_at), default=None)


def derive_status(facts: SignerFacts, now: datetime, policy: Policy) -> DisplayStatus:
    """The display status of one signer; a pure function of facts and the clock."""
    current = current_certificate(facts, now)
    req = facts.open_request
    if req is not None:
        status = _STATE_STATUS[req.state]
        if (
            policy.four_eyes
            and req.state in PENDING_STATES
            and req.approvals == 1
            and req.state == RequestState.DOCUMENTS_RECEIVED
        ):
            status = Status.AWAITING_SECOND_APPROVAL
        return DisplayStatus(
            status,
            request_id=req.id,
            certificate_serial=current.serial if current else None,
            not_after=current.not_after if current else None,
        )
    closed = facts.last_closed_request
    if current is None:
        if facts.has_usable_activation_code:
            return DisplayStatus(Status.INITIAL_GENERATION_REQUIRED)
        if closed is not None and closed.state != RequestState.INSTALLED:
            return _closed_status(closed)
        if facts.certificates:
            latest = max(facts.certificates, key=lambda c: (c.not_after, c.issued_at))
            if latest.revoked_at is not None and latest.not_after > now:
                return DisplayStatus(
                    Status.REVOKED,
                    "обратитесь в банк лично",
                    certificate_serial=latest.serial,
                    not_after=latest.not_after,
                )
            return DisplayStatus(
                Status.EXPIRED,
                "для нового сертификата обратитесь в банк лично",
                certificate_serial=latest.serial,
                not_after=latest.not_after,
            )
        return DisplayStatus(Status.INITIAL_GENERATION_REQUIRED, "получите в банке код активации")
    if (
        closed is not None
        and closed.state in (RequestState.REJECTED, RequestState.CANCELLED, RequestState.EXPIRED)
        and closed.id != current.request_id
        and (closed.closed_at or closed.accepted_at) >= current.issued_at
    ):
        return _closed_status(closed, current)
    base = dict(certificate_serial=current.serial, not_after=current.not_after)
    if now >= current.not_after - policy.renewal_window:
        days = max(0, (current.not_after - now).days)
        return DisplayStatus(Status.RENEWAL_REQUIRED, f"осталось дней: {days}", **base)  # type: ignore[arg-type]
    if (
        closed is not None
        and closed.state == RequestState.INSTALLED
        and current.request_id == closed.id
        and not closed.old_certificate_retired
    ):
        return DisplayStatus(Status.SWITCHED, request_id=closed.id, **base)  # type: ignore[arg-type]
    return DisplayStatus(Status.ACTIVE, **base)  # type: ignore[arg-type]


def _closed_status(closed: RequestFacts, current: CertificateFacts | None = None) -> DisplayStatus:
    return DisplayStatus(
        _STATE_STATUS[closed.state],
        closed.close_reason,
        request_id=closed.id,
        certificate_serial=current.serial if current else None,
        not_after=current.not_after if current else None,
    )


# --- renewal paths -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authenticated:
    """What a path established about the sender."""

    kind: RequestKind
    old_certificate: CurrentCertificate | None = None
    activation_code: ActivationCode | None = None


@dataclass(frozen=True)
class RenewalPath:
    """One named way for a request to prove its sender, and the documents it needs."""

    name: RenewalPathName
    kind: RequestKind
    paper: bool
    required_documents: tuple[DocumentKind, ...]
    # The request is a CMS SignedData by the signer's current valid certificate.
    signed_by_current_key: bool
    authenticate: Callable[
        [Unit, SignerIdentity, RequestEvidence, datetime, str | None, CurrentCertificate | None],
        Authenticated,
    ]


def _by_old_key(
    session: Unit,
    signer: SignerIdentity,
    evidence: RequestEvidence,
    now: datetime,
    code: str | None,
    current: CurrentCertificate | None,
) -> Authenticated:
    if (
        current is None
        or evidence.signed_by_certificate is None
        or not secrets.compare_digest(current.der, evidence.signed_by_certificate)
    ):
        raise SignatureInvalid("Запрос не подписан действующим ключом владельца сертификата")
    return Authenticated(RequestKind.RENEWAL, old_certificate=current)


def _by_activation_code(
    session: Unit,
    signer: SignerIdentity,
    evidence: RequestEvidence,
    now: datetime,
    code: str | None,
    current: CurrentCertificate | None,
) -> Authenticated:
    if not isinstance(session, Session):  # the code's row is marked used through the ORM
        raise TypeError("a first key's request is accepted in an ORM session")
    if not code:
        raise ActivationCodeInvalid("Для первого ключа нужен код активации из «Реквизитов»")
    candidates = session.execute(
        select(ActivationCode)
        .where(
            ActivationCode.signer_id == signer.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.withdrawn_at.is_(None),
        )
        .with_for_update()
    ).scalars()
    for candidate in candidates:
        if candidate.expires_at > now and activation.matches(
            code, candidate.salt, candidate.code_hash
        ):
            candidate.used_at = now
            return Authenticated(RequestKind.INITIAL, activation_code=candidate)
    raise ActivationCodeInvalid(
        "Код активации неверен, уже использован или истёк; получите новый код в банке"
    )


PATHS: Final[Mapping[RenewalPathName, RenewalPath]] = {
    RenewalPathName.OLD_KEY: RenewalPath(
        RenewalPathName.OLD_KEY,
        RequestKind.RENEWAL,
        paper=True,
        required_documents=(DocumentKind.ACCEPTANCE_ACT, DocumentKind.CERTIFICATE_APPLICATION),
        signed_by_current_key=True,
        authenticate=_by_old_key,
    ),
    RenewalPathName.ACTIVATION_CODE: RenewalPath(
        RenewalPathName.ACTIVATION_CODE,
        RequestKind.INITIAL,
        paper=True,
        required_documents=(DocumentKind.ACCEPTANCE_ACT, DocumentKind.CERTIFICATE_APPLICATION),
        signed_by_current_key=False,
        authenticate=_by_activation_code,
    ),
    RenewalPathName.REMOTE_SIGNED_ACT: RenewalPath(
        RenewalPathName.REMOTE_SIGNED_ACT,
        RequestKind.RENEWAL,
        paper=False,
        required_documents=(DocumentKind.ACCEPTANCE_ACT,),
        signed_by_current_key=True,
        authenticate=_by_old_key,
    ),
}


# --- helpers over the store ----------------------------------------------------------------------


def fingerprint(public_key_info: bytes) -> str:
    """Streebog-256 of the DER SubjectPublicKeyInfo, hex."""
    return streebog256(public_key_info).hexdigest()


def serial_hex(serial: int) -> str:
    return format(serial, "x")


@dataclass(frozen=True)
class CurrentCertificate:
    """The signer's current certificate as a renewal checks it: its row id and DER."""

    id: int
    der: bytes


_CERTIFICATES_TABLE: Final = cast(Table, Certificate.__table__)
_REQUESTS_OF_CERTIFICATES: Final = cast(Table, RekeyRequest.__table__).alias("issued_by")
# The signer's current certificate: valid now, not revoked, and (if the bank issued it) installed
# by the client; the latest to expire, then the latest issued. One definition for every reader.
_CURRENT_CERTIFICATE_ID: Final = (
    select(_CERTIFICATES_TABLE.c.id)
    .select_from(
        _CERTIFICATES_TABLE.outerjoin(
            _REQUESTS_OF_CERTIFICATES,
            _REQUESTS_OF_CERTIFICATES.c.id == _CERTIFICATES_TABLE.c.request_id,
        )
    )
    .where(
        _CERTIFICATES_TABLE.c.signer_id == bindparam("signer_id"),
        _CERTIFICATES_TABLE.c.revoked_at.is_(None),
        _CERTIFICATES_TABLE.c.not_before <= bindparam("now"),
        _CERTIFICATES_TABLE.c.not_after > bindparam("now"),
        or_(
            _REQUESTS_OF_CERTIFICATES.c.state.is_(None),
            _REQUESTS_OF_CERTIFICATES.c.state == str(RequestState.INSTALLED),
        ),
    )
    .order_by(
        _CERTIFICATES_TABLE.c.not_after.desc(),
        _CERTIFICATES_TABLE.c.issued_at.desc(),
        _CERTIFICATES_TABLE.c.id.desc(),
    )
    .limit(1)
    .scalar_subquery()
)
_CURRENT_CERTIFICATE: Final = select(_CERTIFICATES_TABLE.c.id, _CERTIFICATES_TABLE.c.der).where(
    _CERTIFICATES_TABLE.c.id == _CURRENT_CERTIFICATE_ID
)


def _current_certificate_row(
    session: Session, signer_id: int, now: datetime
) -> CurrentCertificate | None:
    row = (
        session.connection()
        .execute(_CURRENT_CERTIFICATE, {"signer_id": signer_id, "now": now})
        .first()
    )
    return None if row is None else CurrentCertificate(*row)


def load_facts(session: Session, signer_id: int, now: datetime) -> SignerFacts:
    cert_rows = session.execute(
        select(Certificate, RekeyRequest.state)
        .outerjoin(RekeyRequest, RekeyRequest.id == Certificate.request_id)
        .where(Certificate.signer_id == signer_id, Certificate.is_ca.is_(False))
    ).all()
    certificates = tuple(
        CertificateFacts(
            serial=c.serial,
            not_before=c.not_before,
            not_after=c.not_after,
            revoked_at=c.revoked_at,
            request_id=c.request_id,
            request_installed=state is None or state == RequestState.INSTALLED,
            issued_at=c.issued_at,
        )
        for c, state in cert_rows
    )
    requests = (
        session.execute(
            select(RekeyRequest)
            .where(RekeyRequest.signer_id == signer_id)
            .order_by(RekeyRequest.accepted_at.desc(), RekeyRequest.id.desc())
            .limit(20)
        )
        .scalars()
        .all()
    )
    open_req = next((r for r in requests if r.state in OPEN_STATES), None)
    closed_req = next((r for r in requests if r.state not in OPEN_STATES), None)
    code = session.execute(
        select(func.count())
        .select_from(ActivationCode)
        .where(
            ActivationCode.signer_id == signer_id,
            ActivationCode.used_at.is_(None),
            ActivationCode.withdrawn_at.is_(None),
            ActivationCode.expires_at > now,
        )
    ).scalar_one()
    return SignerFacts(
        certificates=certificates,
        open_request=_request_facts(session, open_req) if open_req else None,
        last_closed_request=_request_facts(session, closed_req) if closed_req else None,
        has_usable_activation_code=code > 0,
    )


def _request_facts(session: Session, req: RekeyRequest) -> RequestFacts:
    approvals = session.execute(
        select(func.count()).select_from(Approval).where(Approval.request_id == req.id)
    ).scalar_one()
    retired = True
    if req.old_certificate_id is not None:
        old = session.get(Certificate, req.old_certificate_id)
        retired = old is None or old.revoked_at is not None
    return RequestFacts(
        id=req.id,
        state=RequestState(req.state),
        accepted_at=req.accepted_at,
        closed_at=req.closed_at,
        close_reason=req.close_reason,
        approvals=approvals,
        old_certificate_retired=retired,
    )


def _subject_to_json(name: Name) -> str:
    data = {f.name: getattr(name, f.name) for f in fields(name)}
    data["other"] = [list(pair) for pair in name.other]
    return audit.canonical_json(data)


def subject_from_json(text: str) -> Name:
    data: dict[str, Any] = json.loads(text)
    data["other"] = tuple(tuple(pair) for pair in data.get("other", ()))
    return Name(**data)


def _normalise_text(value: str | None) -> str:
    return " ".join((value or "").replace("ё", "е").replace("Ё", "Е").split()).casefold()


class _PersonNames(Protocol):
    @property
    def surname(self) -> str: ...
    @property
    def given_name(self) -> str: ...
    @property
    def snils(self) -> str: ...


class _OrganizationNumbers(Protocol):
    @property
    def inn(self) -> str: ...
    @property
    def ogrn(self) -> str: ...


@dataclass(frozen=True)
class SignerIdentity:
    """What accepting a request checks of the signer and the organization (one Core SELECT)."""

    id: int
    surname: str
    given_name: str
    snils: str
    inn: str
    ogrn: str


_SIGNERS_TABLE: Final = cast(Table, Signer.__table__)
_ORGANIZATIONS_TABLE: Final = cast(Table, Organization.__table__)
_REQUESTS_TABLE: Final = cast(Table, RekeyRequest.__table__)
_OPEN_REQUEST_ID: Final = (
    select(_REQUESTS_TABLE.c.id)
    .where(
        _REQUESTS_TABLE.c.signer_id == bindparam("signer_id"),
        _REQUESTS_TABLE.c.state.in_([str(s) for s in OPEN_STATES]),
    )
    .limit(1)
    .scalar_subquery()
)
# What a submission reads before its checks, in one round trip: who the signer is (with the
# organization's numbers), any open request, and the current certificate (id and DER).
_SUBMISSION_CONTEXT: Final = (
    select(
        _SIGNERS_TABLE.c.id,
        _SIGNERS_TABLE.c.surname,
        _SIGNERS_TABLE.c.given_name,
        _SIGNERS_TABLE.c.snils,
        _ORGANIZATIONS_TABLE.c.inn,
        _ORGANIZATIONS_TABLE.c.ogrn,
        _OPEN_REQUEST_ID.label("open_request_id"),
        _CERTIFICATES_TABLE.c.id.label("certificate_id"),
        _CERTIFICATES_TABLE.c.der.label("certificate_der"),
    )
    .select_from(
        _SIGNERS_TABLE.join(
            _ORGANIZATIONS_TABLE,
            _ORGANIZATIONS_TABLE.c.id == _SIGNERS_TABLE.c.organization_id,
        ).outerjoin(_CERTIFICATES_TABLE, _CERTIFICATES_TABLE.c.id == _CURRENT_CERTIFICATE_ID)
    )
    .where(_SIGNERS_TABLE.c.id == bindparam("signer_id"))
)
# PostgreSQL: the new request's id comes with the context, so that the request and its key's
# record are written at commit with the audit events, in their one statement (a refusal by a
# constraint is told apart then, by the constraint's name).
_SUBMISSION_CONTEXT_AND_ID: Final = _SUBMISSION_CONTEXT.add_columns(
    literal_column("nextval(pg_get_serial_sequence('rekey_requests', 'id'))", Integer).label(
        "new_request_id"
    )
)


def check_subject(subject: Name, signer: _PersonNames, organization: _OrganizationNumbers) -> None:
    """The request's subject must name this signer of this organization (identity fields)."""
    expected: list[tuple[str, str | None, str]] = [
        ("фамилия (SN)", subject.surname, signer.surname),
        ("имя и отчество (GN)", subject.given_name, signer.given_name),
        ("СНИЛС", subject.snils, signer.snils),
        ("ОГРН", subject.ogrn or subject.ogrnip, organization.ogrn),
    ]
    inn = organization.inn
    expected.append(("ИНН", subject.innle if len(inn) == 10 else subject.inn, inn))
    wrong = [what for what, got, want in expected if _normalise_text(got) != _normalise_text(want)]
    if wrong:
        raise SubjectMismatch(
            "Данные запроса не совпадают с данными владельца сертификата в банке: "
            + ", ".join(wrong)
        )


def _refuse_transfer_act(req: RekeyRequest) -> None:
    """The «Акт приема-передачи» names the token the certificate was written to: it exists once
    the client confirmed the installation with the token's model and serial."""
    if req.state != RequestState.INSTALLED:
        text = _STATE_STATUS[RequestState(req.state)].text
        raise InvalidTransition(
            "Акт приема-передачи формируется после того, как сертификат выпущен и записан на "
            "ключевой носитель, а запись подтверждена («Получить сертификат»); "
            f"запрос № {req.id} в статусе «{text}»",
            current=text,
        )
    if not (req.token_model and req.token_serial):
        raise InvalidTransition(
            "Акт приема-передачи не сформировать: при подтверждении записи сертификата не были "
            "указаны модель и серийный номер ключевого носителя",
            current=_STATE_STATUS[RequestState.INSTALLED].text,
        )


# Core statements of the busiest transitions: built once, compiled once (SQLAlchemy's cache),
# no ORM unit of work for rows the transaction only inserts.
_DOCUMENTS_TABLE: Final = cast(Table, PrintedDocument.__table__)


@functools.cache
def _new_document(i: int) -> Any:
    """The ``i``-th document a transition registers (parameters ``d<i>_<column>``)."""
    return _prefixed_insert(
        _DOCUMENTS_TABLE, f"d{i}_", "request_id", "kind", "copies", "received_at", "received_by"
    )


_RECEIVE_DOCUMENT: Final = (
    update(_DOCUMENTS_TABLE)
    .where(
        _DOCUMENTS_TABLE.c.request_id == bindparam("b_request_id"),
        _DOCUMENTS_TABLE.c.kind == bindparam("b_kind"),
    )
    .values(
        received_at=bindparam("b_received_at", type_=_DOCUMENTS_TABLE.c.received_at.type),
        received_by=bindparam("b_received_by", type_=_DOCUMENTS_TABLE.c.received_by.type),
    )
)
_NEW_REQUEST: Final = insert(_REQUESTS_TABLE).returning(_REQUESTS_TABLE.c.id)
# SQLite: the key's record, then the request, each refused by its own statement. PostgreSQL:
# both are written at commit (_KEY_SEEN_AT_COMMIT, _NEW_REQUEST_AT_COMMIT), and a refusal is
# told apart by the name of the constraint that refused it.
_KEYS_SEEN_TABLE: Final = cast(Table, PublicKeySeen.__table__)
_NEW_KEY_SEEN: Final = insert(_KEYS_SEEN_TABLE)
_KEY_SEEN_PRIMARY_KEY: Final = "public_keys_seen_pkey"
_ONE_OPEN_REQUEST_INDEX: Final = "uq_rekey_requests_one_open_per_signer"
_LOCKED_COLUMNS: Final = (
    _REQUESTS_TABLE.c.id,
    _REQUESTS_TABLE.c.signer_id,
    _REQUESTS_TABLE.c.state,
    _REQUESTS_TABLE.c.path,
    _REQUESTS_TABLE.c.subject_json,
    _REQUESTS_TABLE.c.public_key_info,
    _REQUESTS_TABLE.c.key_fingerprint,
)


_READ_REQUEST: Final = select(*_LOCKED_COLUMNS).where(
    _REQUESTS_TABLE.c.id == bindparam("request_id")
)
_LOCK_REQUEST: Final = _READ_REQUEST.with_for_update()
# Read after the lock is held, in their own statements: under READ COMMITTED a locking SELECT
# that also joined these rows would see them as of before the wait for the lock (PostgreSQL
# re-reads only the locked row), and two racing approvals would both count one.
_DOCUMENTS_OF_REQUEST: Final = select(
    _DOCUMENTS_TABLE.c.kind, _DOCUMENTS_TABLE.c.received_at
).where(_DOCUMENTS_TABLE.c.request_id == bindparam("request_id"))
# SET the columns named in the parameters (besides ``m_id``).
_MOVE_REQUEST: Final = update(_REQUESTS_TABLE).where(_REQUESTS_TABLE.c.id == bindparam("m_id"))


@functools.cache
def _moving(*columns: str) -> Any:
    """``_MOVE_REQUEST`` of a fixed shape for :func:`audit.write_at_commit`: SET the named
    columns from the parameters ``m_<column>``."""
    return _MOVE_REQUEST.values(
        {c: bindparam(f"m_{c}", type_=_REQUESTS_TABLE.c[c].type) for c in columns}
    )


def _move_at_commit(session: Unit, request_id: int, **values: Any) -> None:
    audit.write_at_commit(
        session,
        _moving(*sorted(values)),
        {"m_id": request_id, **{f"m_{c}": v for c, v in values.items()}},
    )


def _open_request_exists() -> OpenRequestExists:
    return OpenRequestExists("У владельца сертификата уже есть открытый запрос")


def _key_reused() -> KeyReused:
    return KeyReused("Этот открытый ключ уже предъявлялся банку; сформируйте новый ключ")


def _constraint_of(exc: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL reports as violated (psycopg's diagnostics)."""
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _prefixed_insert(table: Table, prefix: str, *columns: str) -> Any:
    """A single-row INSERT of ``columns`` from parameters ``<prefix><column>`` (a fixed shape
    for :func:`audit.write_at_commit`)."""
    return insert(table).values(
        {c: bindparam(f"{prefix}{c}", type_=table.c[c].type) for c in columns}
    )


_APPROVALS_TABLE: Final = cast(Table, Approval.__table__)
_APPROVERS: Final = select(_APPROVALS_TABLE.c.operator).where(
    _APPROVALS_TABLE.c.request_id == bindparam("request_id")
)
_NEW_APPROVAL: Final = _prefixed_insert(_APPROVALS_TABLE, "a_", "request_id", "operator", "at")
_KEY_SEEN_AT_COMMIT: Final = _prefixed_insert(
    _KEYS_SEEN_TABLE, "k_", "fingerprint", "signer_id", "first_seen_at"
)
_NEW_REQUEST_AT_COMMIT: Final = _prefixed_insert(
    _REQUESTS_TABLE,
    "r_",
    "id",
    "signer_id",
    "kind",
    "path",
    "state",
    "submitted_der",
    "pkcs10_der",
    "public_key_info",
    "key_fingerprint",
    "subject_json",
    "old_certificate_id",
    "accepted_at",
)
_NEW_CERTIFICATE: Final = _prefixed_insert(
    _CERTIFICATES_TABLE,
    "c_",
    "serial",
    "signer_id",
    "request_id",
    "is_ca",
    "der",
    "not_before",
    "not_after",
    "key_fingerprint",
    "issued_at",
)


# --- the workflow --------------------------------------------------------------------------------


class _RequestFields(Protocol):
    """What issuing reads of a request: a locked :class:`_LockedRequest` or the ORM row."""

    @property
    def id(self) -> int: ...
    @property
    def signer_id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def subject_json(self) -> str: ...
    @property
    def public_key_info(self) -> bytes: ...
    @property
    def key_fingerprint(self) -> str: ...


@dataclass(frozen=True)
class _LockedRequest:
    """A request row locked for the transaction, read with Core (the busiest transitions read
    these columns and write with Core statements; no ORM object is built)."""

    id: int
    signer_id: int
    state: str
    path: str
    subject_json: str
    public_key_info: bytes
    key_fingerprint: str


class _Signed(NamedTuple):
    serial: int
    der: bytes
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class RegisteredSigner:
    signer_id: int
    activation_code: str  # shown once, printed on the paper "Реквизиты"; never stored in clear


@dataclass(frozen=True)
class ApprovalOutcome:
    request_id: int
    approvals: int
    required: int
    certificate_serial: str | None  # set when this approval led to issuance


def utcnow() -> datetime:
    return datetime.now(UTC)


P = ParamSpec("P")


def _refusals_audited(
    action: Action,
) -> Callable[
    [Callable[Concatenate[Workflow, Actor, P], T]], Callable[Concatenate[Workflow, Actor, P], T]
]:
    """Record every refusal of a transition in the audit log (in its own transaction: the
    refused work was rolled back), then re-raise it."""

    def decorate(
        method: Callable[Concatenate[Workflow, Actor, P], T],
    ) -> Callable[Concatenate[Workflow, Actor, P], T]:
        @functools.wraps(method)
        def wrapper(self: Workflow, actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return method(self, actor, *args, **kwargs)
            except BankError as exc:
                self.record_refusal(action, actor, exc)
                raise

        return wrapper

    return decorate


@dataclass
class Workflow:
    """The bank's transitions over one database. Each public method is one transaction."""

    db: Database
    policy: Policy = field(default_factory=Policy)
    inspector: RequestInspector | None = None
    ca: IssuingAuthority | None = None
    clock: Callable[[], datetime] = utcnow

    # -- plumbing --

    def _run(self, action: Action, actor: Actor, work: Callable[[Session], T]) -> T:
        with self.db.transaction() as session:
            return work(session)

    def _run_on_driver(self, work: Callable[[DriverUnit], T]) -> T:
        """A transition of Core statements only, the busiest ones: run straight on the driver
        (no session bookkeeping; see :mod:`bankkeys.bank.store.driver`)."""
        with self.db.driver_transaction(before_commit=audit.write_pending) as unit:
            return work(unit)

    def record_refusal(self, action: str, actor: Actor, exc: BankError) -> None:
        """Log a refused ``action`` (a transition's, or another desk's, e.g. payments') as
        ``refused:<action>``. Refusals are security-relevant (wrong codes, foreign signatures):
        they go into the log in their own transaction, since the refused work was rolled back."""
        try:
            with self.db.transaction() as session:
                audit.append(
                    session,
                    at=self.clock(),
                    actor=actor.login,
                    role=actor.role,
                    action=f"refused:{action}",
                    signer_id=actor.signer_id,
                    details={"error": type(exc).__name__, "message": str(exc)},
                )
        except Exception:  # noqa: S110 - the original refusal must reach the caller regardless
            pass

    def _audit(
        self,
        session: Unit,
        actor: Actor,
        action: str,
        *,
        now: datetime,
        signer_id: int | None = None,
        request_id: int | None = None,
        serial: str | None = None,
        **details: Any,
    ) -> None:
        audit.append(
            session,
            at=now,
            actor=actor.login,
            role=actor.role,
            action=action,
            signer_id=signer_id,
            request_id=request_id,
            certificate_serial=serial,
            details=details,
        )

    def _lock_request(self, session: Session, request_id: int) -> RekeyRequest:
        req = session.execute(
            select(RekeyRequest).where(RekeyRequest.id == request_id).with_for_update()
        ).scalar_one_or_none()
        if req is None:
            raise NotFound(f"Запрос № {request_id} не найден")
        return req

    def _lock_request_and_read(
        self, unit: DriverUnit, request_id: int, read: Any
    ) -> tuple[_LockedRequest, Rows]:
        """The request's row locked, then ``read`` (``:request_id``) in the same round trip: a
        statement of its own, so it sees what the transaction holding the lock committed."""
        locked, rows = unit.execute_together(
            [(_LOCK_REQUEST, {"request_id": request_id}), (read, {"request_id": request_id})]
        )
        row = locked.first()
        if row is None:
            raise NotFound(f"Запрос № {request_id} не найден")
        return _LockedRequest(*row), rows

    def _signer(
        self, session: Session, signer_id: int, *, with_organization: bool = False
    ) -> Signer:
        # The organization comes in the same SELECT when the caller will read it anyway.
        options = (joinedload(Signer.organization),) if with_organization else ()
        signer = session.get(Signer, signer_id, options=options)
        if signer is None:
            raise NotFound(f"Владелец сертификата № {signer_id} не найден")
        return signer

    def _refuse_state(
        self, action: Action, req: _RequestFields, allowed: Iterable[RequestState]
    ) -> None:
        state = RequestState(req.state)
        if state not in allowed:
            text = _STATE_STATUS[state].text
            raise InvalidTransition(
                f"Действие «{ACTION_TEXT[action]}» невозможно: запрос № {req.id} "
                f"в статусе «{text}»",
                current=text,
            )

    # -- registration --

    @_refusals_audited(Action.REGISTER_ORGANIZATION)
    def register_organization(
        self,
        actor: Actor,
        *,
        name: str,
        inn: str,
        ogrn: str,
        address: str,
        kpp: str | None = None,
    ) -> int:
        authorize(actor, Action.REGISTER_ORGANIZATION)
        org = Organization(
            name=check_text(name, "наименование"),
            inn=check_inn(inn),
            kpp=check_kpp(kpp) if kpp else None,
            ogrn=check_ogrn(ogrn),
            address=check_text(address, "адрес"),
            created_at=self.clock(),
        )

        def work(session: Session) -> int:
            if session.execute(select(Organization.id).where(Organization.inn == inn)).first():
                raise ValidationError(f"Организация с ИНН {inn} уже зарегистрирована")
            session.add(org)
            session.flush()
            self._audit(
                session,
                actor,
                Action.REGISTER_ORGANIZATION,
                now=org.created_at,
                name=org.name,
                inn=org.inn,
            )
            return org.id

        return self._run(Action.REGISTER_ORGANIZATION, actor, work)

    @_refusals_audited(Action.REGISTER_SIGNER)
    def register_signer(
        self,
        actor: Actor,
        organization_id: int,
        *,
        login: str,
        surname: str,
        given_name: str,
        position: str,
        snils: str,
        email: str,
        phone: str,
        acting_on: str,
    ) -> RegisteredSigner:
        """Register a signer and give them a one-time activation code for their first key.

        ``acting_on`` is the document the signer acts on, in the genitive ("Устава",
        "Доверенности № 12 от 01.02.2025"), as seed 003 asks.
        """
        authorize(actor, Action.REGISTER_SIGNER)
        now = self.clock()
        signer = Signer(
            organization_id=organization_id,
            login=check_text(login, "логин"),
            surname=check_text(surname, "фамилия"),
            given_name=check_text(given_name, "имя и отчество"),
            position=check_text(position, "должность"),
            snils=check_snils(snils),
            email=check_email(email),
            phone=check_text(phone, "телефон"),
            acting_on=check_text(acting_on, "действует на основании"),
            created_at=now,
        )

        def work(session: Session) -> RegisteredSigner:
            if session.get(Organization, organization_id) is None:
                raise NotFound(f"Организация № {organization_id} не найдена")
            if session.execute(select(Signer.id).where(Signer.login == signer.login)).first():
                raise ValidationError(f"Логин «{signer.login}» уже занят")
            session.add(signer)
            session.flush()
            code = self._new_activation_code(session, signer.id, now)
            self._audit(
                session,
                actor,
                Action.REGISTER_SIGNER,
                now=now,
                signer_id=signer.id,
                login=signer.login,
            )
            return RegisteredSigner(signer.id, code)

        return self._run(Action.REGISTER_SIGNER, actor, work)

    @staticmethod
    def _withdraw_activation_codes(session: Session, signer_id: int, now: datetime) -> int:
        """Withdraw the signer's unused codes; how many there were."""
        withdrawn = 0
        for old in session.execute(
            select(ActivationCode).where(
                ActivationCode.signer_id == signer_id,
                ActivationCode.used_at.is_(None),
                ActivationCode.withdrawn_at.is_(None),
            )
        ).scalars():
            old.withdrawn_at = now
            withdrawn += 1
        return withdrawn

    def _new_activation_code(self, session: Session, signer_id: int, now: datetime) -> str:
        self._withdraw_activation_codes(session, signer_id, now)
        code = activation.generate_code()
        salt = activation.new_salt()
        session.add(
            ActivationCode(
                signer_id=signer_id,
                salt=salt,
                code_hash=activation.hash_code(code, salt),
                created_at=now,
                expires_at=now + self.policy.activation_code_ttl,
            )
        )
        return code

    @_refusals_audited(Action.ISSUE_ACTIVATION_CODE)
    def issue_activation_code(self, actor: Actor, signer_id: int) -> str:
        """A new one-time code after an in-person application (earlier codes are withdrawn)."""
        authorize(actor, Action.ISSUE_ACTIVATION_CODE)
        now = self.clock()

        def work(session: Session) -> str:
            self._signer(session, signer_id)
            code = self._new_activation_code(session, signer_id, now)
            self._audit(session, actor, Action.ISSUE_ACTIVATION_CODE, now=now, signer_id=signer_id)
            return code

        return self._run(Action.ISSUE_ACTIVATION_CODE, actor, work)

    @_refusals_audited(Action.IMPORT_CERTIFICATE)
    def import_certificate(
        self,
        actor: Actor,
        signer_id: int,
        *,
        serial: int,
        der: bytes,
        public_key_info: bytes,
        not_before: datetime,
        not_after: datetime,
    ) -> str:
        """Record a certificate issued before this system (migration from the old one)."""
        authorize(actor, Action.IMPORT_CERTIFICATE)
        now = self.clock()

        def work(session: Session) -> str:
            self._signer(session, signer_id)
            fp = fingerprint(public_key_info)
            self._remember_key(session, fp, signer_id, now)
            cert = Certificate(
                serial=serial_hex(serial),
                signer_id=signer_id,
                der=der,
                not_before=not_before,
                not_after=not_after,
                key_fingerprint=fp,
                issued_at=now,
                is_ca=False,
            )
            session.add(cert)
            # The signer has a key now: a code given for a first key must not outlive that
            # (once the imported certificate expires, a new one needs an in-person visit).
            withdrawn = self._withdraw_activation_codes(session, signer_id, now)
            self._audit(
                session,
                actor,
                Action.IMPORT_CERTIFICATE,
                now=now,
                signer_id=signer_id,
                serial=cert.serial,
                activation_codes_withdrawn=withdrawn,
            )
            return cert.serial

        return self._run(Action.IMPORT_CERTIFICATE, actor, work)

    def _remember_key(self, session: Unit, fp: str, signer_id: int, now: datetime) -> None:
        try:  # the primary key decides, also between concurrent requests (no savepoint: the
            session.connection().execute(  # refusal rolls the whole transaction back anyway)
                _NEW_KEY_SEEN, {"fingerprint": fp, "signer_id": signer_id, "first_seen_at": now}
            )
        except IntegrityError:
            raise _key_reused() from None

    # -- status --

    def status(self, signer_id: int) -> DisplayStatus:
        with self.db.transaction() as session:
            self._signer(session, signer_id)
            now = self.clock()
            return derive_status(load_facts(session, signer_id, now), now, self.policy)

    def request(self, request_id: int) -> RekeyRequest:
        with self.db.transaction() as session:
            req = session.get(RekeyRequest, request_id)
            if req is None:
                raise NotFound(f"Запрос № {request_id} не найден")
            return req

    # -- the client's request --

    @_refusals_audited(Action.SUBMIT_REQUEST)
    def submit_request(
        self,
        actor: Actor,
        signer_id: int,
        submitted: bytes,
        *,
        activation_code: str | None = None,
    ) -> int:
        """Accept a request («Принят банком») after every check; refuse with a typed error.

        With ``activation_code``, the request is a first key (path ``activation-code``); without,
        a renewal signed by the current key (the policy's renewal path).
        """
        authorize(actor, Action.SUBMIT_REQUEST, signer_id=signer_id)
        if self.inspector is None:
            raise CaError("Проверка запросов не настроена")
        path = PATHS[
            RenewalPathName.ACTIVATION_CODE
            if activation_code is not None
            else self.policy.renewal_path
        ]
        inspector = self.inspector
        now = self.clock()
        ahead = None
        if path.signed_by_current_key and self.db.dialect == "sqlite":
            ahead = self._inspect_ahead(inspector, signer_id, submitted, now)

        together = self.db.dialect == "postgresql"

        def work(session: Unit) -> int:
            found = (
                session.connection()
                .execute(
                    _SUBMISSION_CONTEXT_AND_ID if together else _SUBMISSION_CONTEXT,
                    {"signer_id": signer_id, "now": now},
                )
                .first()
            )
            if found is None:
                raise NotFound(f"Владелец сертификата № {signer_id} не найден")
            signer = SignerIdentity(*found[:6])
            open_request_id, certificate_id, certificate_der = found[6:9]
            if open_request_id is not None:
                raise OpenRequestExists(
                    f"У владельца сертификата уже есть открытый запрос № {open_request_id}"
                )
            current = None
            if path.signed_by_current_key:
                if certificate_id is None:
                    raise PathNotAllowed(
                        "Нет действующего сертификата: для первого ключа нужен код активации, "
                        "после истечения срока — личное обращение в банк"
                    )
                current = CurrentCertificate(certificate_id, certificate_der)
            # Signatures and proof of possession, the CMS checked against the current certificate.
            if ahead is not None and current is not None and ahead[0] == current.der:
                evidence = ahead[1]  # checked against this very certificate just before
            else:
                evidence = inspector.inspect(
                    submitted, signer_certificate=current.der if current is not None else None
                )
            auth = path.authenticate(session, signer, evidence, now, activation_code, current)
            check_subject(evidence.subject, signer, signer)
            fp = fingerprint(evidence.public_key_info)
            if not together:
                self._remember_key(session, fp, signer_id, now)
            if auth.activation_code is not None and isinstance(session, Session):
                session.flush()  # the code's use is written before the request it allowed
            request = {
                "signer_id": signer_id,
                "kind": str(auth.kind),
                "path": str(path.name),
                "state": str(RequestState.ACCEPTED),
                "submitted_der": submitted,
                "pkcs10_der": evidence.pkcs10_der,
                "public_key_info": evidence.public_key_info,
                "key_fingerprint": fp,
                "subject_json": _subject_to_json(evidence.subject),
                "old_certificate_id": auth.old_certificate.id if auth.old_certificate else None,
                "accepted_at": now,
            }
            request_id: int
            if together:
                request_id = found.new_request_id
                audit.write_at_commit(
                    session,
                    _KEY_SEEN_AT_COMMIT,
                    {"k_fingerprint": fp, "k_signer_id": signer_id, "k_first_seen_at": now},
                )
                audit.write_at_commit(
                    session,
                    _NEW_REQUEST_AT_COMMIT,
                    {"r_id": request_id, **{f"r_{c}": v for c, v in request.items()}},
                )
            else:
                try:
                    request_id = session.connection().execute(_NEW_REQUEST, request).scalar_one()
                except IntegrityError:  # the partial unique index: a concurrent request won
                    raise _open_request_exists() from None
            self._audit(
                session,
                actor,
                Action.SUBMIT_REQUEST,
                now=now,
                signer_id=signer_id,
                request_id=request_id,
                path=str(path.name),
                kind=str(auth.kind),
                key_fingerprint=fp,
            )
            notifications.queue_at_commit(
                session,
                key=f"request-accepted:{request_id}",
                kind=NotificationKind.REQUEST_ACCEPTED,
                signer_id=signer_id,
                payload={"request_id": request_id, "status": Status.ACCEPTED.text},
                now=now,
            )
            return request_id

        try:
            if path.signed_by_current_key:  # a renewal: Core statements only
                return self._run_on_driver(work)
            return self._run(Action.SUBMIT_REQUEST, actor, work)
        except IntegrityError as exc:
            # PostgreSQL: the request and its key are written at commit; a constraint refused.
            constraint = _constraint_of(exc)
            if constraint == _ONE_OPEN_REQUEST_INDEX:  # a concurrent open request won
                raise _open_request_exists() from None
            if constraint == _KEY_SEEN_PRIMARY_KEY:
                raise _key_reused() from None
            raise

    def _inspect_ahead(
        self, inspector: RequestInspector, signer_id: int, submitted: bytes, now: datetime
    ) -> tuple[bytes, RequestEvidence] | None:
        """SQLite's write lock covers the whole database: the signatures, the costly part, are
        checked before it is taken, against the current certificate read just before. The
        transaction reads the certificate again and uses this result only for the same one."""
        with self.db.reading() as session:
            current = _current_certificate_row(session, signer_id, now)
            der = current.der if current is not None else None
        if der is None:
            return None
        try:
            return der, inspector.inspect(submitted, signer_certificate=der)
        except BankError:
            return None  # refused (and recorded) by the checks inside the transaction

    @_refusals_audited(Action.RECORD_PRINTED)
    def record_printed(
        self,
        actor: Actor,
        request_id: int,
        kind: DocumentKind,
        *,
        content: bytes,
        copies: int = 1,
    ) -> None:
        """Note that the client printed a document for the request (its hash, for comparison).

        The acts and the application are printed before approval; the «Акт приема-передачи»
        only after the installation was confirmed naming the token (model and serial)."""

        def work(session: Session) -> None:
            req = self._lock_request(session, request_id)
            authorize(actor, Action.RECORD_PRINTED, signer_id=req.signer_id)
            if kind == DocumentKind.TRANSFER_ACT:
                _refuse_transfer_act(req)
            else:
                self._refuse_state(Action.RECORD_PRINTED, req, PENDING_STATES)
            now = self.clock()
            doc = self._document(session, req.id, kind)
            doc.copies = copies
            doc.content_hash = streebog256(content).hexdigest()
            doc.printed_at = now
            self._audit(
                session,
                actor,
                Action.RECORD_PRINTED,
                now=now,
                signer_id=req.signer_id,
                request_id=req.id,
                kind=str(kind),
                copies=copies,
            )

        self._run(Action.RECORD_PRINTED, actor, work)

    def _document(self, session: Session, request_id: int, kind: DocumentKind) -> PrintedDocument:
        doc = session.execute(
            select(PrintedDocument).where(
                PrintedDocument.request_id == request_id, PrintedDocument.kind == str(kind)
            )
        ).scalar_one_or_none()
        if doc is None:
            doc = PrintedDocument(request_id=request_id, kind=str(kind), copies=1)
            session.add(doc)
        return doc

    @_refusals_audited(Action.RECEIVE_DOCUMENTS)
    def receive_documents(
        self, actor: Actor, request_id: int, kinds: Sequence[DocumentKind]
    ) -> RequestState:
        """The operator registers paper documents (signatures compared with the samples)."""
        authorize(actor, Action.RECEIVE_DOCUMENTS)

        def work(session: DriverUnit) -> RequestState:
            req, documents = self._lock_request_and_read(session, request_id, _DOCUMENTS_OF_REQUEST)
            self._refuse_state(Action.RECEIVE_DOCUMENTS, req, {RequestState.ACCEPTED})
            path = PATHS[RenewalPathName(req.path)]
            if not path.paper:
                raise InvalidTransition(
                    "Для удалённого продления бумажные документы не нужны: "
                    "акт подписывается электронной подписью",
                    current=Status.ACCEPTED.text,
                )
            unknown = [k for k in kinds if k not in path.required_documents]
            if unknown or not kinds:
                raise ValidationError("Неизвестный или пустой список документов")
            now = self.clock()
            # Core reads and writes (no ORM objects): the kinds on record and whether received.
            connection = session.connection()
            on_record: dict[str, datetime | None] = dict(documents.all())
            wanted = sorted({str(k) for k in kinds})
            fresh = [k for k in wanted if k not in on_record]
            for i, kind in enumerate(fresh):  # under the request's lock: written at commit
                audit.write_at_commit(
                    session,
                    _new_document(i),
                    {
                        f"d{i}_request_id": req.id,
                        f"d{i}_kind": kind,
                        f"d{i}_copies": 1,
                        f"d{i}_received_at": now,
                        f"d{i}_received_by": actor.login,
                    },
                )
            for kind in wanted:  # printed earlier, received now (rare: one statement each)
                if kind in on_record:
                    connection.execute(
                        _RECEIVE_DOCUMENT,
                        {
                            "b_request_id": req.id,
                            "b_kind": kind,
                            "b_received_at": now,
                            "b_received_by": actor.login,
                        },
                    )
            received = {k for k, at in on_record.items() if at is not None} | set(wanted)
            state = RequestState(req.state)
            if all(str(k) in received for k in path.required_documents):
                state = RequestState.DOCUMENTS_RECEIVED
                _move_at_commit(session, req.id, state=str(state), documents_received_at=now)
            self._audit(
                session,
                actor,
                Action.RECEIVE_DOCUMENTS,
                now=now,
                signer_id=req.signer_id,
                request_id=req.id,
                kinds=sorted(str(k) for k in kinds),
                state=str(state),
            )
            return state

        return self._run_on_driver(work)

    @_refusals_audited(Action.SIGN_ACT)
    def sign_act_electronically(
        self, actor: Actor, request_id: int, *, act: bytes, signature: bytes
    ) -> None:
        """Remote renewal: the acceptance act signed (CMS) with the still-valid old key."""
        if self.inspector is None:
            raise CaError("Проверка подписей не настроена")
        inspector = self.inspector

        def work(session: Session) -> None:
            req = self._lock_request(session, request_id)
            authorize(actor, Action.SIGN_ACT, signer_id=req.signer_id)
            self._refuse_state(Action.SIGN_ACT, req, {RequestState.ACCEPTED})
            if req.path != RenewalPathName.REMOTE_SIGNED_ACT:
                raise PathNotAllowed(
                    "Электронное подписание акта не разрешено для этого запроса: "
                    "принесите акты в банк"
                )
            now = self.clock()
            signed_by = inspector.verify_signed_document(signature, act)
            current = _current_certificate_row(session, req.signer_id, now)
            if current is None or current.id != req.old_certificate_id:
                raise PathNotAllowed(
                    "Сертификат, которым подписан запрос, больше не действует: "
                    "обратитесь в банк лично"
                )
            if not secrets.compare_digest(signed_by, current.der):
                raise SignatureInvalid("Акт подписан не действующим ключом владельца сертификата")
            doc = self._document(session, req.id, DocumentKind.ACCEPTANCE_ACT)
            digest = streebog256(act).hexdigest()
            if doc.content_hash is not None and doc.content_hash != digest:
                raise SignatureInvalid("Подписан не тот акт, что сформирован для этого запроса")
            doc.content_hash = digest
            doc.signed_der = signature
            doc.received_at = now
            doc.received_by = actor.login
            req.state = str(RequestState.DOCUMENTS_RECEIVED)
            req.documents_received_at = now
            self._audit(
                session,
                actor,
                Action.SIGN_ACT,
                now=now,
                signer_id=req.signer_id,
                request_id=req.id,
                act_hash=digest,
            )

        self._run(Action.SIGN_ACT, actor, work)

    # -- the bank's decision --

    @_refusals_audited(Action.APPROVE)
    def approve(self, actor: Actor, request_id: int) -> ApprovalOutcome:
        """Approve; the approval that completes the required count (1, or 2 with four eyes) has
        the CA issue the certificate in the same transaction."""
        authorize(actor, Action.APPROVE)
        required = 2 if self.policy.four_eyes else 1
        ahead = self._sign_ahead(request_id, required) if self.db.dialect == "sqlite" else None

        def work(session: DriverUnit) -> ApprovalOutcome:
            req, approvers = self._lock_request_and_read(session, request_id, _APPROVERS)
            self._refuse_state(Action.APPROVE, req, {RequestState.DOCUMENTS_RECEIVED})
            now = self.clock()
            done = approvers.scalars().all()
            if actor.login in done:
                raise InvalidTransition(
                    f"Вы уже одобрили запрос № {req.id}; нужно подтверждение другого сотрудника",
                    current=Status.AWAITING_SECOND_APPROVAL.text,
                )
            # The row lock above orders approvals of this request: the insert can wait for the
            # commit, where it goes with the audit events.
            audit.write_at_commit(
                session,
                _NEW_APPROVAL,
                {"a_request_id": req.id, "a_operator": actor.login, "a_at": now},
            )
            count = len(done) + 1
            # The CA signs before an audit chain's head is locked: the head is held from then
            # until the commit, so only the short writes at the end run under it.
            signed = (
                self._reuse_or_sign(req, now, ahead)
                if count >= required and self.ca is not None
                else None
            )
            self._audit(
                session,
                actor,
                Action.APPROVE,
                now=now,
                signer_id=req.signer_id,
                request_id=req.id,
                approvals=count,
                required=required,
            )
            serial = None
            if count >= required and signed is not None:
                serial = self._record_issue(session, actor, req, now, signed, approved_at=now)
            elif count >= required:
                _move_at_commit(session, req.id, state=str(RequestState.APPROVED), approved_at=now)
            return ApprovalOutcome(req.id, count, required, serial)

        return self._run_on_driver(work)

    @_refusals_audited(Action.ISSUE)
    def issue(self, actor: Actor, request_id: int) -> str:
        """Issue for an approved request (when the CA was unavailable at approval)."""
        authorize(actor, Action.ISSUE)

        def work(session: Session) -> str:
            req = self._lock_request(session, request_id)
            self._refuse_state(Action.ISSUE, req, {RequestState.APPROVED})
            now = self.clock()
            return self._record_issue(session, actor, req, now, self._sign(req, now))

        return self._run(Action.ISSUE, actor, work)

    def _sign_ahead(self, request_id: int, required: int) -> tuple[str, bytes, _Signed] | None:
        """SQLite's write lock covers the whole database: the CA signs before it is taken, from
        the request as read just before. Used only if the transaction finds the same subject,
        key and validity; otherwise discarded (it never left this process)."""
        if self.ca is None:
            return None
        with self.db.reading() as session:
            row = session.connection().execute(_READ_REQUEST, {"request_id": request_id}).first()
            if row is None or row.state != RequestState.DOCUMENTS_RECEIVED:
                return None
            req = _LockedRequest(*row)
            approvals = session.connection().execute(_APPROVERS, {"request_id": req.id}).all()
            if len(approvals) + 1 < required:
                return None  # this approval will not complete the count
            try:
                return req.subject_json, req.public_key_info, self._sign(req, self.clock())
            except BankError:
                return None  # the transaction meets the same problem and reports it

    def _reuse_or_sign(
        self, req: _RequestFields, now: datetime, ahead: tuple[str, bytes, _Signed] | None
    ) -> _Signed:
        if ahead is not None:
            subject_json, public_key_info, signed = ahead
            if (
                subject_json == req.subject_json
                and public_key_info == req.public_key_info
                and (signed.not_before, signed.not_after) == self._validity(now)
            ):
                return signed
        return self._sign(req, now)

    def _validity(self, now: datetime) -> tuple[datetime, datetime]:
        if self.ca is None:
            raise CaError("УЦ банка не настроен: выполните «bankkeys ca init»")
        not_before = now.replace(microsecond=0)
        not_after = min(not_before + self.policy.validity, self.ca.not_after)
        if not_after <= not_before:
            raise CaError("Срок действия сертификата УЦ истёк")
        return not_before, not_after

    def _sign(self, req: _RequestFields, now: datetime) -> _Signed:
        """The CA signs the certificate in memory; nothing exists outside this process until
        :meth:`_record_issue` writes it in the caller's transaction."""
        if self.ca is None:
            raise CaError("УЦ банка не настроен: выполните «bankkeys ca init»")
        not_before, not_after = self._validity(now)
        serial = secrets.randbits(127) | (1 << 126)  # positive, 16 bytes, never zero
        der = self.ca.issue(
            IssuanceOrder(
                serial=serial,
                subject=subject_from_json(req.subject_json),
                public_key_info=req.public_key_info,
                not_before=not_before,
                not_after=not_after,
            )
        )
        return _Signed(serial, der, not_before, not_after)

    def _record_issue(
        self,
        session: Unit,
        actor: Actor,
        req: _RequestFields,
        now: datetime,
        signed: _Signed,
        *,
        approved_at: datetime | None = None,
    ) -> str:
        """Write the certificate the CA signed and move the request to «issued» (with
        ``approved_at``, from «documents received» in the same UPDATE)."""
        serial, der, not_before, not_after = signed
        cert_serial = serial_hex(serial)
        # Nothing in the transaction reads these back, and the request's row lock orders them:
        # they go with the audit events at commit (a random 127-bit serial does not collide).
        audit.write_at_commit(
            session,
            _NEW_CERTIFICATE,
            {
                "c_serial": cert_serial,
                "c_signer_id": req.signer_id,
                "c_request_id": req.id,
                "c_is_ca": False,
                "c_der": der,
                "c_not_before": not_before,
                "c_not_after": not_after,
                "c_key_fingerprint": req.key_fingerprint,
                "c_issued_at": now,
            },
        )
        moved: dict[str, Any] = {"state": str(RequestState.ISSUED), "issued_at": now}
        if approved_at is not None:
            moved["approved_at"] = approved_at  # approved and issued: one UPDATE
        _move_at_commit(session, req.id, **moved)
        self._audit(
            session,
            actor,
            Action.ISSUE,
            now=now,
            signer_id=req.signer_id,
            request_id=req.id,
            serial=cert_serial,
            not_after=not_after.isoformat(),
        )
        notifications.queue_at_commit(
            session,
            key=f"certificate-issued:{req.id}",
            kind=NotificationKind.CERTIFICATE_ISSUED,
            signer_id=req.signer_id,
            payload={"request_id": req.id, "serial": cert_serial, "status": Status.ISSUED.text},
            now=now,
        )
        return cert_serial

    @_refusals_audited(Action.REJECT)
    def reject(self, actor: Actor, request_id: int, reason: str) -> None:
        authorize(actor, Action.REJECT)
        reason = check_text(reason, "причина отказа")
        self._close(Action.REJECT, actor, request_id, RequestState.REJECTED, reason)

    @_refusals_audited(Action.CANCEL)
    def cancel(self, actor: Actor, request_id: int) -> None:
        self._close(Action.CANCEL, actor, request_id, RequestState.CANCELLED, None)

    def _close(
        self,
        action: Action,
        actor: Actor,
        request_id: int,
        to: RequestState,
        reason: str | None,
    ) -> None:
        def work(session: Session) -> None:
            req = self._lock_request(session, request_id)
            authorize(actor, action, signer_id=req.signer_id)
            self._refuse_state(action, req, PENDING_STATES)
            close_request(session, actor, req, to, reason, self.clock())

        self._run(action, actor, work)

    @_refusals_audited(Action.CONFIRM_INSTALLATION)
    def confirm_installation(
        self,
        actor: Actor,
        request_id: int,
        *,
        token_model: str | None = None,
        token_serial: str | None = None,
    ) -> None:
        """«Вы переведены на работу с новым комплектом ключей». The client may name the token the
        certificate was written to (model, printed serial): the «Акт приема-передачи» shows it."""
        if (token_model is None) != (token_serial is None):
            raise ValidationError("Укажите и модель, и серийный номер ключевого носителя")
        if token_model is not None and not (
            0 < len(token_model) <= 100
            and token_model == token_model.strip()
            and all(ch.isalnum() or ch in " .,-_()/№+" for ch in token_model)
        ):
            raise ValidationError(
                "Модель ключевого носителя: до 100 знаков — буквы, цифры, пробел "
                "и знаки . , - _ ( ) / № +"
            )
        if token_serial is not None and not (
            0 < len(token_serial) <= 64
            and token_serial.isascii()
            and token_serial.replace("-", "").isalnum()
        ):
            raise ValidationError(
                "Серийный номер ключевого носителя: до 64 латинских букв, цифр и дефисов"
            )

        def work(session: Session) -> None:
            req = self._lock_request(session, request_id)
            authorize(actor, Action.CONFIRM_INSTALLATION, signer_id=req.signer_id)
            self._refuse_state(Action.CONFIRM_INSTALLATION, req, {RequestState.ISSUED})
            now = self.clock()
            req.state = str(RequestState.INSTALLED)
            req.installed_at = now
            req.closed_at = now
            req.token_model, req.token_serial = token_model, token_serial
            token = {"token_model": token_model, "token_serial": token_serial}
            self._audit(
                session,
                actor,
                Action.CONFIRM_INSTALLATION,
                now=now,
                signer_id=req.signer_id,
                request_id=req.id,
                **(token if token_model is not None else {}),
            )

        self._run(Action.CONFIRM_INSTALLATION, actor, work)

    @_refusals_audited(Action.RECEIVE_TRANSFER_ACT)
    def receive_transfer_act(self, actor: Actor, request_id: int) -> datetime:
        """The operator registers the signed original of the «Акт приема-передачи» (seed 003,
        step 21: «Обязательно передайте в банк оригинал»). Once per request: a second registration
        would overwrite who took the paper and when. Returns the moment of receipt."""
        authorize(actor, Action.RECEIVE_TRANSFER_ACT)

        def work(session: Session) -> datetime:
            req = self._lock_request(session, request_id)
            self._refuse_state(Action.RECEIVE_TRANSFER_ACT, req, {RequestState.INSTALLED})
            _refuse_transfer_act(req)  # installed without naming the token: there is no act
            # The client may never have told the bank it printed the act: the row is made here.
            doc = self._document(session, req.id, DocumentKind.TRANSFER_ACT)
            if doc.received_at is not None:
                raise InvalidTransition(
                    f"Оригинал акта приема-передачи по запросу № {req.id} уже получен банком "
                    f"{doc.received_at:%d.%m.%Y %H:%M} UTC ({doc.received_by})",
                    current=_STATE_STATUS[RequestState.INSTALLED].text,
                )
            now = self.clock()
            doc.received_at = now
            doc.received_by = actor.login
            self._audit(
                session,
                actor,
                Action.RECEIVE_TRANSFER_ACT,
                now=now,
                signer_id=req.signer_id,
                request_id=req.id,
                kind=str(DocumentKind.TRANSFER_ACT),
                token_serial=req.token_serial,
            )
            return now

        return self._run(Action.RECEIVE_TRANSFER_ACT, actor, work)

    # -- retiring and revoking --

    @_refusals_audited(Action.RECORD_PAYMENT)
    def record_payment_with_new_key(self, actor: Actor, certificate_serial: str) -> str | None:
        """A payment signed with ``certificate_serial`` was accepted: if that is a new key set,
        revoke the certificate it replaced (superseded). Returns the retired serial, if any."""
        authorize(actor, Action.RECORD_PAYMENT)

        def work(session: Session) -> str | None:
            cert = session.execute(
                select(Certificate).where(Certificate.serial == certificate_serial)
            ).scalar_one_or_none()
            if cert is None:
                raise NotFound(f"Сертификат № {certificate_serial} не найден")
            if cert.request_id is None:
                return None
            req = self._lock_request(session, cert.request_id)
            self._refuse_state(Action.RECORD_PAYMENT, req, {RequestState.INSTALLED})
            return retire_superseded(session, actor, req, self.clock(), self.ca, self.policy)

        return self._run(Action.RECORD_PAYMENT, actor, work)

    @_refusals_audited(Action.REVOKE)
    def revoke(self, actor: Actor, certificate_serial: str, reason: RevocationReason) -> None:
        authorize(actor, Action.REVOKE)

        def work(session: Session) -> None:
            cert = session.execute(
                select(Certificate)
                .where(Certificate.serial == certificate_serial)
                .with_for_update()
            ).scalar_one_or_none()
            if cert is None:
                raise NotFound(f"Сертификат № {certificate_serial} не найден")
            if cert.revoked_at is not None:
                raise InvalidTransition(
                    f"Сертификат № {cert.serial} уже отозван ({cert.revocation_reason})",
                    current=Status.REVOKED.text,
                )
            revoke_certificate(session, actor, cert, reason, self.clock(), self.ca, self.policy)

        self._run(Action.REVOKE, actor, work)

    @_refusals_audited(Action.PUBLISH_CRL)
    def publish_crl(self, actor: Actor) -> int:
        authorize(actor, Action.PUBLISH_CRL)

        def work(session: Session) -> int:
            if self.ca is None:
                raise CaError("УЦ банка не настроен: выполните «bankkeys ca init»")
            return publish_crl(session, actor, self.ca, self.clock(), self.policy)

        return self._run(Action.PUBLISH_CRL, actor, work)

    def history(self, request_id: int) -> list[dict[str, Any]]:
        with self.db.transaction() as session:
            return [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "actor": e.actor,
                    "role": e.role,
                    "action": e.action,
                    "details": json.loads(e.details),
                }
                for e in audit.events_for_request(session, request_id)
            ]


# --- transitions shared with the scheduler (caller holds the request row lock) --------------------


def close_request(
    session: Session,
    actor: Actor,
    req: RekeyRequest,
    to: RequestState,
    reason: str | None,
    now: datetime,
) -> None:
    action = {
        RequestState.REJECTED: Action.REJECT,
        RequestState.CANCELLED: Action.CANCEL,
        RequestState.EXPIRED: Action.EXPIRE_REQUEST,
    }[to]
    req.state = str(to)
    req.closed_at = now
    req.close_reason = reason
    audit.append(
        session,
        at=now,
        actor=actor.login,
        role=actor.role,
        action=str(action),
        signer_id=req.signer_id,
        request_id=req.id,
        details={"reason": reason} if reason else {},
    )
    kind = {
        RequestState.REJECTED: NotificationKind.REQUEST_REJECTED,
        RequestState.EXPIRED: NotificationKind.REQUEST_EXPIRED,
    }.get(to)
    if kind is not None:
        notifications.queue(
            session,
            key=f"{kind}:{req.id}",
            kind=kind,
            signer_id=req.signer_id,
            payload={"request_id": req.id, "status": _STATE_STATUS[to].text, "reason": reason},
            now=now,
        )


def expire_request(session: Session, req: RekeyRequest, now: datetime, policy: Policy) -> bool:
    """Close a request not approved within ``policy.request_ttl`` (the scheduler's transition)."""
    if req.state not in PENDING_STATES or req.accepted_at + policy.request_ttl > now:
        return False
    close_request(
        session,
        Actor.system(),
        req,
        RequestState.EXPIRED,
        "запрос не подтверждён банком в течение срока действия",
        now,
    )
    return True


def retire_superseded(
    session: Session,
    actor: Actor,
    req: RekeyRequest,
    now: datetime,
    ca: IssuingAuthority | None,
    policy: Policy,
) -> str | None:
    """Revoke (superseded) the certificate a completed request replaced; idempotent."""
    authorize(
        actor, Action.RETIRE_SUPERSEDED if actor.role == Role.SYSTEM else Action.RECORD_PAYMENT
    )
    if req.state != RequestState.INSTALLED or req.old_certificate_id is None:
        return None
    old = session.execute(
        select(Certificate).where(Certificate.id == req.old_certificate_id).with_for_update()
    ).scalar_one_or_none()
    if old is None or old.revoked_at is not None or old.not_after <= now:
        return None
    revoke_certificate(
        session, actor, old, RevocationReason.SUPERSEDED, now, ca, policy, request_id=req.id
    )
    notifications.queue(
        session,
        key=f"old-key-retired:{old.serial}",
        kind=NotificationKind.OLD_KEY_RETIRED,
        signer_id=req.signer_id,
        payload={"serial": old.serial, "advice": "уничтожьте старый ключ (смарт-ключ)"},
        now=now,
    )
    return old.serial


def revoke_certificate(
    session: Session,
    actor: Actor,
    cert: Certificate,
    reason: RevocationReason,
    now: datetime,
    ca: IssuingAuthority | None,
    policy: Policy,
    *,
    request_id: int | None = None,
) -> None:
    """Revoke and re-sign the CRL in the same transaction (a revocation is never unpublished)."""
    cert.revoked_at = now
    cert.revocation_reason = str(reason)
    audit.append(
        session,
        at=now,
        actor=actor.login,
        role=actor.role,
        action=str(Action.REVOKE),
        signer_id=cert.signer_id,
        request_id=request_id,
        certificate_serial=cert.serial,
        details={"reason": str(reason)},
    )
    if ca is not None:
        session.flush()
        publish_crl(session, actor, ca, now, policy)


def publish_crl(
    session: Session, actor: Actor, ca: IssuingAuthority, now: datetime, policy: Policy
) -> int:
    """Sign a new CRL of every revoked, unexpired certificate; returns its number."""
    record = session.execute(
        select(CaRecord).order_by(CaRecord.id.desc()).limit(1).with_for_update()
    ).scalar_one_or_none()
    if record is None:
        raise CaError("УЦ банка не настроен: выполните «bankkeys ca init»")
    last = session.execute(select(func.max(Crl.number))).scalar_one()
    number = (last or 0) + 1
    revoked = [
        RevokedEntry(int(serial, 16), at, RevocationReason(reason))
        for serial, at, reason in session.execute(
            select(Certificate.serial, Certificate.revoked_at, Certificate.revocation_reason)
            .where(Certificate.revoked_at.is_not(None), Certificate.not_after > now)
            .order_by(Certificate.revoked_at)
        )
        if at is not None and reason is not None
    ]
    this_update = now.replace(microsecond=0)
    next_update = this_update + policy.crl_validity
    der = ca.sign_crl(
        number=number, this_update=this_update, next_update=next_update, revoked=revoked
    )
    session.add(
        Crl(
            number=number,
            ca_id=record.id,
            der=der,
            this_update=this_update,
            next_update=next_update,
        )
    )
    audit.append(
        session,
        at=now,
        actor=actor.login,
        role=actor.role,
        action=str(Action.PUBLISH_CRL),
        details={"number": number, "revoked": len(revoked)},
    )
    return number
