"""Store records and derived statuses rendered as the API's shapes; reads scoped to a caller."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Connection, Table, and_, bindparam, exists, false, select
from sqlalchemy.orm import Session

from bankkeys.bank.policy import RenewalPathName
from bankkeys.bank.store.models import Certificate, Organization, PrintedDocument, RekeyRequest
from bankkeys.bank.store.models import Signer as SignerRow
from bankkeys.bank.workflow import (
    DOCUMENT_TEXT,
    PATHS,
    CertificateFacts,
    DisplayStatus,
    DocumentKind,
    RequestFacts,
    RequestState,
    SignerFacts,
    Status,
    current_certificate,
    derive_status,
    load_facts,
    subject_from_json,
)
from bankkeys.bank.workflow import Workflow as BankWorkflow
from bankkeys.server import documents
from bankkeys.server.api import schemas as s

API = "/api/v1"


def status_view(status: DisplayStatus) -> s.DisplayStatusView:
    return s.DisplayStatusView(
        code=s.StatusCode(status.status.name),
        text=status.text,
        detail=status.detail,
        request_id=status.request_id,
        certificate_serial=status.certificate_serial,
        not_after=status.not_after,
    )


def next_action(
    status: DisplayStatus, has_current: bool, path: str | None, has_code: bool
) -> s.NextAction:
    code, text = _NEXT.get(status.status, (s.NextActionCode.NONE, "Действий не требуется"))
    if status.status == Status.ACCEPTED and path == RenewalPathName.REMOTE_SIGNED_ACT:
        code, text = (
            s.NextActionCode.SIGN_ACT_ELECTRONICALLY,
            "Подпишите Акт признания открытого ключа действующим ключом",
        )
    if status.status in (Status.REJECTED, Status.CANCELLED, Status.REQUEST_EXPIRED):
        if has_current:
            code, text = s.NextActionCode.RENEW, "Сформируйте новый запрос на сертификат"
        elif has_code:
            code, text = _NEXT[Status.INITIAL_GENERATION_REQUIRED]
        else:
            code, text = _NEXT[Status.EXPIRED]
    if status.status == Status.INITIAL_GENERATION_REQUIRED and not has_code:
        code, text = s.NextActionCode.VISIT_BANK, "Получите в банке код активации"
    return s.NextAction(code=code, text=text, request_id=status.request_id)


_NEXT: dict[Status, tuple[s.NextActionCode, str]] = {
    Status.INITIAL_GENERATION_REQUIRED: (
        s.NextActionCode.GENERATE_FIRST_KEY,
        "Сформируйте ключ и запрос на сертификат с кодом активации из «Реквизитов»",
    ),
    Status.RENEWAL_REQUIRED: (
        s.NextActionCode.RENEW,
        "Сформируйте новый ключ и запрос на плановую замену сертификата",
    ),
    Status.ACCEPTED: (
        s.NextActionCode.PRINT_AND_BRING_DOCUMENTS,
        "Распечатайте Акт признания открытого ключа (2 экз.) и Заявление на изготовление "
        "сертификата, подпишите, заверьте печатью и передайте в банк",
    ),
    Status.DOCUMENTS_RECEIVED: (s.NextActionCode.WAIT_FOR_BANK, "Ожидайте решения банка"),
    Status.AWAITING_SECOND_APPROVAL: (s.NextActionCode.WAIT_FOR_BANK, "Ожидайте решения банка"),
    Status.APPROVED: (s.NextActionCode.WAIT_FOR_BANK, "Ожидайте выпуска сертификата"),
    Status.ISSUED: (
        s.NextActionCode.INSTALL_CERTIFICATE,
        "Нажмите «Получить сертификат»: он будет записан на ключевой носитель",
    ),
    Status.EXPIRED: (s.NextActionCode.VISIT_BANK, "Обратитесь в банк лично"),
    Status.REVOKED: (s.NextActionCode.VISIT_BANK, "Обратитесь в банк лично"),
}


def organization_view(org: Organization) -> s.OrganizationView:
    return s.OrganizationView(
        id=org.id, name=org.name, inn=org.inn, kpp=org.kpp, ogrn=org.ogrn, address=org.address
    )


def profile(session: Session, workflow: BankWorkflow, signer: SignerRow) -> s.Profile:
    now = workflow.clock()
    facts = load_facts(session, signer.id, now)
    status = derive_status(facts, now, workflow.policy)
    current = current_certificate(facts, now)
    path = facts.open_request and session.get(RekeyRequest, facts.open_request.id)
    return s.Profile(
        signer_id=signer.id,
        login=signer.login,
        surname=signer.surname,
        given_name=signer.given_name,
        position=signer.position,
        snils=signer.snils,
        email=signer.email,
        phone=signer.phone,
        organization=organization_view(signer.organization),
        status=status_view(status),
        next_action=next_action(
            status,
            current is not None,
            path.path if path else None,
            facts.has_usable_activation_code,
        ),
        current_certificate=(
            s.CertificateSummary(
                serial=current.serial,
                not_before=current.not_before,
                not_after=current.not_after,
                revoked_at=current.revoked_at,
            )
            if current
            else None
        ),
    )


def subject_template(signer: SignerRow) -> s.SubjectTemplate:
    org = signer.organization
    fields = {
        "common_name": org.name,
        "organization": org.name,
        "surname": signer.surname,
        "given_name": signer.given_name,
        "title": signer.position,
        "country": "RU",
        "ogrn": org.ogrn,
        "snils": signer.snils,
        "email": signer.email,
    }
    fields["innle" if len(org.inn) == 10 else "inn"] = org.inn
    return s.SubjectTemplate(fields=fields)


def document_url(request_id: int, kind: str) -> str:
    return f"{API}/requests/{request_id}/documents/{kind}.pdf"


def printed_documents(session: Session, request_id: int) -> dict[str, PrintedDocument]:
    """The request's document records by kind (printed, received, signed electronically)."""
    return {
        d.kind: d
        for d in session.execute(
            select(PrintedDocument).where(PrintedDocument.request_id == request_id)
        ).scalars()
    }


def request_view(session: Session, workflow: BankWorkflow, req: RekeyRequest) -> s.RequestView:
    now = workflow.clock()
    status = derive_status(load_facts(session, req.signer_id, now), now, workflow.policy)
    docs = printed_documents(session, req.id)
    required = PATHS[RenewalPathName(req.path)].required_documents
    cert = session.execute(
        select(Certificate.serial).where(Certificate.request_id == req.id)
    ).scalar_one_or_none()
    views = [_document_view(req.id, kind, docs.get(str(kind))) for kind in required]
    if cert is not None and documents.transfer_act_available(session, req):
        views.append(_transfer_act_view(req.id, docs.get(documents.TRANSFER_ACT)))
    return _assembled(
        req,
        req.issued_at,
        status,
        views,
        cert,
        f"{API}/requests/{req.id}/certificate" if cert else None,
    )


_REQUESTS: Final = cast(Table, RekeyRequest.__table__)
_CERTIFICATES: Final = cast(Table, Certificate.__table__)
_PRINTED: Final = cast(Table, PrintedDocument.__table__)
_CERT_REQUESTS: Final = _REQUESTS.alias("certificate_request")
_ISSUED: Final = _CERTIFICATES.alias("issued")
# A request just accepted, with what its view depends on, in one statement: one row per
# certificate of the signer valid at :now (none: one row of NULLs), whether the request has
# document records or a certificate yet (then the full view is built instead).
_ACCEPTED_VIEW: Final = (
    select(
        _REQUESTS.c.id,
        _REQUESTS.c.signer_id,
        _REQUESTS.c.kind,
        _REQUESTS.c.path,
        _REQUESTS.c.state,
        _REQUESTS.c.accepted_at,
        _REQUESTS.c.documents_received_at,
        _REQUESTS.c.approved_at,
        _REQUESTS.c.issued_at.label("request_issued_at"),
        _REQUESTS.c.installed_at,
        _REQUESTS.c.closed_at,
        _REQUESTS.c.close_reason,
        _REQUESTS.c.key_fingerprint,
        _REQUESTS.c.token_model,
        _REQUESTS.c.token_serial,
        exists().where(_PRINTED.c.request_id == _REQUESTS.c.id).label("has_documents"),
        exists().where(_ISSUED.c.request_id == _REQUESTS.c.id).label("has_certificate"),
        _CERTIFICATES.c.serial,
        _CERTIFICATES.c.not_before,
        _CERTIFICATES.c.not_after,
        _CERTIFICATES.c.request_id,
        _CERTIFICATES.c.issued_at,
        _CERT_REQUESTS.c.state.label("certificate_request_state"),
    )
    .select_from(
        _REQUESTS.outerjoin(
            _CERTIFICATES,
            and_(
                _CERTIFICATES.c.signer_id == _REQUESTS.c.signer_id,
                _CERTIFICATES.c.is_ca == false(),
                _CERTIFICATES.c.revoked_at.is_(None),
                _CERTIFICATES.c.not_before <= bindparam("now"),
                _CERTIFICATES.c.not_after > bindparam("now"),
            ),
        ).outerjoin(_CERT_REQUESTS, _CERT_REQUESTS.c.id == _CERTIFICATES.c.request_id)
    )
    .where(_REQUESTS.c.id == bindparam("request_id"), _REQUESTS.c.signer_id == bindparam("signer"))
)


def accepted_request_view(
    conn: Connection, workflow: BankWorkflow, request_id: int, signer_id: int
) -> s.RequestView | None:
    """The view of a request the signer just submitted, from one statement; None when it is not
    in that plain shape any more (moved on, documents recorded, another signer's): then
    :func:`request_view` builds it in full.

    An open request's display status depends only on its state and the signer's current
    certificate (``derive_status``), so the facts handed to it hold just those: the valid
    certificates, and the request with no approvals (none exist before documents arrive)."""
    now = workflow.clock()
    rows = conn.execute(
        _ACCEPTED_VIEW, {"request_id": request_id, "signer": signer_id, "now": now}
    ).all()
    if not rows:
        return None
    req = rows[0]
    if req.state != RequestState.ACCEPTED or req.has_documents or req.has_certificate:
        return None
    certificates = tuple(
        CertificateFacts(
            serial=row.serial,
            not_before=row.not_before,
            not_after=row.not_after,
            revoked_at=None,
            request_id=row.request_id,
            request_installed=row.certificate_request_state in (None, RequestState.INSTALLED),
            issued_at=row.issued_at,
        )
        for row in rows
        if row.serial is not None
    )
    facts = SignerFacts(
        certificates=certificates,
        open_request=RequestFacts(
            id=req.id,
            state=RequestState.ACCEPTED,
            accepted_at=req.accepted_at,
            closed_at=req.closed_at,
            close_reason=req.close_reason,
            approvals=0,
            old_certificate_retired=False,
        ),
        last_closed_request=None,
        has_usable_activation_code=False,
    )
    status = derive_status(facts, now, workflow.policy)
    required = PATHS[RenewalPathName(req.path)].required_documents
    documents = [_document_view(req.id, kind, None) for kind in required]
    return _assembled(req, req.request_issued_at, status, documents, None, None)


def _assembled(
    req: Any,
    issued_at: datetime | None,
    status: DisplayStatus,
    documents: list[s.DocumentView],
    certificate_serial: str | None,
    certificate_url: str | None,
) -> s.RequestView:
    """The view from a request's columns (an ORM row or a Core row of the same names)."""
    return s.RequestView(
        id=req.id,
        signer_id=req.signer_id,
        kind="initial" if req.kind == "initial" else "renewal",
        path=req.path,
        state=req.state,
        status=status_view(status),
        accepted_at=req.accepted_at,
        documents_received_at=req.documents_received_at,
        approved_at=req.approved_at,
        issued_at=issued_at,
        installed_at=req.installed_at,
        closed_at=req.closed_at,
        close_reason=req.close_reason,
        key_fingerprint=req.key_fingerprint,
        documents=documents,
        certificate_serial=certificate_serial,
        certificate_url=certificate_url,
        token_model=req.token_model,
        token_serial=req.token_serial,
    )


def _transfer_act_view(request_id: int, doc: PrintedDocument | None) -> s.DocumentView:
    """Seed 003, step 21: printed in two copies, signed by the owner, the original to the bank."""
    return s.DocumentView(
        kind=s.DocumentKindCode.TRANSFER_ACT,
        title=documents.TRANSFER_ACT_TITLE,
        copies=2,
        pdf_url=document_url(request_id, documents.TRANSFER_ACT),
        printed_at=doc.printed_at if doc else None,
        received_at=doc.received_at if doc else None,
        signed_electronically=False,
    )


def _document_view(
    request_id: int, kind: DocumentKind, doc: PrintedDocument | None
) -> s.DocumentView:
    return s.DocumentView(
        kind=s.DocumentKindCode(str(kind)),
        title=DOCUMENT_TEXT[kind],
        copies=2 if kind == DocumentKind.ACCEPTANCE_ACT else 1,
        pdf_url=document_url(request_id, kind),
        printed_at=doc.printed_at if doc else None,
        received_at=doc.received_at if doc else None,
        signed_electronically=bool(doc and doc.signed_der),
    )


def own_request(session: Session, request_id: int, signer_id: int | None) -> RekeyRequest | None:
    """The request if it belongs to ``signer_id``: another signer's id reads as absent."""
    if signer_id is None:
        return None
    return session.execute(
        select(RekeyRequest).where(
            RekeyRequest.id == request_id, RekeyRequest.signer_id == signer_id
        )
    ).scalar_one_or_none()


def iso(value: datetime | None) -> str:
    return value.strftime("%d.%m.%Y %H:%M") if value else "—"


SUBJECT_LABELS = {
    "surname": "Фамилия",
    "given_name": "Имя и отчество",
    "title": "Должность",
    "organization": "Организация",
    "common_name": "Общее имя (CN)",
    "innle": "ИНН ЮЛ",
    "inn": "ИНН",
    "ogrn": "ОГРН",
    "ogrnip": "ОГРНИП",
    "snils": "СНИЛС",
    "email": "Электронная почта",
    "country": "Страна",
    "locality": "Населённый пункт",
    "state": "Регион",
    "street": "Адрес",
}


def subject_from(req: RekeyRequest) -> list[tuple[str, str]]:
    """The request's subject as (label, value) rows, as the client confirmed it."""
    name = subject_from_json(req.subject_json)
    rows = []
    for key, label in SUBJECT_LABELS.items():
        value = getattr(name, key, None)
        if value:
            rows.append((label, str(value)))
    return rows
