"""The operator console (and the signer's download page the e-mail links to): server-rendered
pages in Russian. Sessions are HttpOnly, SameSite=Strict cookies (Secure over TLS); every form
carries the session's CSRF token, compared in constant time.

Who sees what (:data:`PAGES`): operators work the queue and register paper documents (the acts
before approval, the signed original of the «Акт приема-передачи» after installation); operators
and security officers approve, reject, revoke, search and set payment signing rights; security
officers and administrators read the audit log; administrators manage accounts and re-enrol a
lost second factor. The workflow (and the payment desk) checks every change again.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bankkeys.bank.ca import RevocationReason
from bankkeys.bank.errors import BankError
from bankkeys.bank.payments import RIGHT_TEXT, PaymentDesk, SigningRight
from bankkeys.bank.policy import RenewalPathName
from bankkeys.bank.store.models import Certificate, RekeyRequest, Signer
from bankkeys.bank.workflow import (
    ACTION_TEXT,
    DOCUMENT_TEXT,
    PATHS,
    ROLE_TEXT,
    DocumentKind,
    RequestState,
    Role,
    derive_status,
    load_facts,
)
from bankkeys.server import documents, views
from bankkeys.server.accounts import provision_account
from bankkeys.server.auth import AuthError, Principal, SessionKind
from bankkeys.server.console import queries, reenrol
from bankkeys.server.context import ServerContext
from bankkeys.server.errors import ApiError
from bankkeys.server.store.models import Account

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(iso=views.iso, ROLE_TEXT=ROLE_TEXT, DOCUMENT_TEXT=DOCUMENT_TEXT)

OP, SO, ADMIN = Role.OPERATOR, Role.SECURITY_OFFICER, Role.ADMINISTRATOR
PAGES: dict[str, frozenset[Role]] = {
    "queue": frozenset({OP, SO}),
    "request": frozenset({OP, SO}),
    "receive_documents": frozenset({OP}),
    "transfer_act": frozenset({OP, SO}),
    "receive_transfer_act": frozenset({OP}),
    "approve": frozenset({OP, SO}),
    "reject": frozenset({OP, SO}),
    "revoke": frozenset({OP, SO}),
    # The payment desk lets any bank staff set rights; here, those who work the signer's page.
    "payment_right": frozenset({OP, SO}),
    "search": frozenset({OP, SO}),
    "signer": frozenset({OP, SO}),
    "expiring": frozenset({OP, SO}),
    "audit": frozenset({SO, ADMIN}),
    "accounts": frozenset({ADMIN}),
    "reset_totp": frozenset({ADMIN}),
    "clients": frozenset({OP, ADMIN}),
}
STATE_TEXT = {
    "accepted": "Принят банком",
    "documents_received": "Документы получены банком",
    "approved": "Одобрен банком",
    "issued": "Получен новый сертификат",
    "installed": "Установлен клиентом",
    "rejected": "Отклонён банком",
    "cancelled": "Отменён клиентом",
    "expired": "Не подтверждён в срок",
}
REVOCATION_TEXT = {
    RevocationReason.KEY_COMPROMISE: "компрометация ключа",
    RevocationReason.AFFILIATION_CHANGED: "смена должности / организации",
    RevocationReason.CESSATION_OF_OPERATION: "прекращение работы",
    RevocationReason.PRIVILEGE_WITHDRAWN: "лишение полномочий",
    RevocationReason.SUPERSEDED: "заменён новым",
    RevocationReason.UNSPECIFIED: "без указания причины",
}
templates.env.globals.update(
    STATE_TEXT=STATE_TEXT, REVOCATION_TEXT=REVOCATION_TEXT, ACTION_TEXT=ACTION_TEXT
)


def cookie_name(ctx: ServerContext) -> str:
    # The __Host- prefix pins the cookie to this origin, path / and Secure.
    return "__Host-bk_session" if ctx.settings.secure_cookies else "bk_session"


LOGIN_CSRF = "bk_login_csrf"


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServerContext, Depends(_ctx)]


class NeedLogin(Exception):
    pass


class Forbidden(Exception):
    pass


def current(request: Request, ctx: Ctx) -> Principal:
    token = request.cookies.get(cookie_name(ctx))
    found = ctx.auth.resolve(token, SessionKind.CONSOLE) if token else None
    if found is None:
        raise NeedLogin
    return found


User = Annotated[Principal, Depends(current)]


def require(page: str) -> Callable[[Principal], Principal]:
    def check(user: User) -> Principal:
        if user.role not in PAGES[page]:
            raise Forbidden
        return user

    return check


def check_csrf(user: Principal, token: str) -> None:
    expected = user.csrf_token or ""
    if not expected or not hmac.compare_digest(expected.encode(), token.encode()):
        raise Forbidden


def render(
    request: Request, name: str, user: Principal | None, status_code: int = 200, **data: Any
) -> HTMLResponse:
    nav = (
        [
            p
            for p in ("queue", "search", "expiring", "clients", "audit", "accounts")
            if user.role in PAGES[p]
        ]
        if user
        else []
    )
    return templates.TemplateResponse(
        request, name, {"user": user, "nav": nav, **data}, status_code=status_code
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def home_of(user: Principal) -> str:
    if user.role == Role.CLIENT_SIGNER:
        return "/client/"
    if user.role == Role.ADMINISTRATOR:
        return "/console/audit"
    return "/console/"


# --- sign-in ---------------------------------------------------------------------------------


@router.get("/console/static/style.css")
def stylesheet() -> FileResponse:
    return FileResponse(HERE / "static" / "style.css", media_type="text/css")


@router.get("/console/login")
def login_page(request: Request, ctx: Ctx, next: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, csrf=token, next=_safe_next(next))
    _set_cookie(ctx, response, LOGIN_CSRF, token, 600)
    return response


def _safe_next(url: str) -> str:
    # Only local paths: never an open redirect.
    return url if url.startswith(("/console/", "/client/")) and "//" not in url else ""


def _set_cookie(ctx: ServerContext, response: Response, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        httponly=True,
        secure=ctx.settings.secure_cookies,
        samesite="strict",
        path="/",
    )


def _login_csrf_ok(request: Request, token: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), token.encode())


@router.post("/console/login")
def login_submit(
    request: Request,
    ctx: Ctx,
    login: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    if not _login_csrf_ok(request, csrf_token):
        return render(request, "login.html", None, 400, csrf="", error="Обновите страницу")
    try:
        issued = ctx.auth.check_password(login, password)
    except AuthError as exc:
        return render(request, "login.html", None, 401, csrf=csrf_token, error=str(exc), next=next)
    return render(
        request, "second_factor.html", None, challenge=issued.token, csrf=csrf_token, next=next
    )


@router.post("/console/second-factor")
def second_factor_submit(
    request: Request,
    ctx: Ctx,
    challenge: Annotated[str, Form(max_length=200)],
    code: Annotated[str, Form(max_length=10)],
    csrf_token: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    if not _login_csrf_ok(request, csrf_token):
        return render(request, "login.html", None, 400, csrf="", error="Обновите страницу")
    try:
        issued = ctx.auth.check_second_factor(challenge, code.strip(), SessionKind.CONSOLE)
    except AuthError as exc:
        return render(
            request,
            "second_factor.html",
            None,
            401,
            challenge=challenge,
            csrf=csrf_token,
            error=str(exc),
            next=next,
        )
    response = redirect(_safe_next(next) or home_of(issued.principal))
    age = int(timedelta(minutes=ctx.settings.session_ttl_minutes).total_seconds())
    _set_cookie(ctx, response, cookie_name(ctx), issued.token, age)
    response.delete_cookie(LOGIN_CSRF, path="/")
    return response


@router.post("/console/logout")
def logout(
    request: Request, ctx: Ctx, user: User, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    check_csrf(user, csrf_token)
    token = request.cookies.get(cookie_name(ctx))
    if token:
        ctx.auth.sign_out(token)
    response = redirect("/console/login")
    response.delete_cookie(cookie_name(ctx), path="/")
    return response


# --- the queue and a request ----------------------------------------------------------------


@router.get("/console/")
def queue_page(
    request: Request, ctx: Ctx, user: Annotated[Principal, Depends(require("queue"))]
) -> HTMLResponse:
    with ctx.db.transaction() as session:
        waiting = queries.queue(session, (RequestState.ACCEPTED,))
        to_approve = queries.queue(session, (RequestState.DOCUMENTS_RECEIVED,))
        approved = queries.queue(session, (RequestState.APPROVED,))
        transfer_acts = queries.awaiting_transfer_act(session, ctx.clock())
    return render(
        request,
        "queue.html",
        user,
        waiting=waiting,
        to_approve=to_approve,
        approved=approved,
        transfer_acts=transfer_acts,
        four_eyes=ctx.workflow.policy.four_eyes,
    )


@router.get("/console/requests/{request_id}")
def request_page(
    request: Request,
    ctx: Ctx,
    request_id: int,
    user: Annotated[Principal, Depends(require("request"))],
    error: str = "",
) -> HTMLResponse:
    with ctx.db.transaction() as session:
        req = session.get(RekeyRequest, request_id)
        if req is None:
            return render(request, "error.html", user, 404, message="Запрос не найден")
        signer = session.get(Signer, req.signer_id)
        assert signer is not None
        now = ctx.clock()
        status = derive_status(load_facts(session, signer.id, now), now, ctx.workflow.policy)
        docs = views.printed_documents(session, req.id)
        required = PATHS[RenewalPathName(req.path)].required_documents
        subject = views.subject_from(req)
        old = session.get(Certificate, req.old_certificate_id) if req.old_certificate_id else None
        issued = session.execute(
            select(Certificate).where(Certificate.request_id == req.id)
        ).scalar_one_or_none()
        approvals = queries.approvals_of(session, req.id)
        org = signer.organization
        transfer_act = documents.transfer_act_available(session, req)
    # Its own transaction: on SQLite a nested one would wait for the outer write lock.
    history = ctx.workflow.history(request_id)
    return render(
        request,
        "request.html",
        user,
        req=req,
        signer=signer,
        org=org,
        status=status,
        docs=docs,
        required=required,
        paper=PATHS[RenewalPathName(req.path)].paper,
        subject=subject,
        old=old,
        issued=issued,
        approvals=approvals,
        history=history,
        error=error,
        can_receive=user.role in PAGES["receive_documents"],
        transfer_act=transfer_act,
        transfer_doc=docs.get(documents.TRANSFER_ACT),
        can_receive_transfer_act=user.role in PAGES["receive_transfer_act"],
        can_decide=user.role in PAGES["approve"],
        already_approved=any(a.operator == user.login for a in approvals),
        required_approvals=2 if ctx.workflow.policy.four_eyes else 1,
        ACTION_TEXT=ACTION_TEXT,
    )


def _act(page: str, work: Callable[[], object]) -> Response:
    """Do it and go back to ``page``, with the bank's refusal shown there if it refused."""
    try:
        work()
    except BankError as exc:
        from urllib.parse import quote

        return redirect(f"{page}?error={quote(str(exc))}")
    return redirect(page)


@router.post("/console/requests/{request_id}/documents")
def receive_documents(
    ctx: Ctx,
    request_id: int,
    user: Annotated[Principal, Depends(require("receive_documents"))],
    csrf_token: Annotated[str, Form(max_length=100)],
    kinds: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(user, csrf_token)
    chosen = [DocumentKind(k) for k in (kinds or []) if k in set(DocumentKind)]
    return _act(
        f"/console/requests/{request_id}",
        lambda: ctx.workflow.receive_documents(user.actor, request_id, chosen),
    )


@router.get("/console/requests/{request_id}/documents/transfer_act.pdf")
def transfer_act_pdf(
    request: Request,
    ctx: Ctx,
    request_id: int,
    user: Annotated[Principal, Depends(require("transfer_act"))],
) -> Response:
    """The bank's view of the «Акт приема-передачи»: the very bytes the client printed, to hold
    the returned original against."""
    with ctx.db.reading() as session:
        req = session.get(RekeyRequest, request_id)
        if req is None:
            return render(request, "error.html", user, 404, message="Запрос не найден")
        try:
            pdf = documents.render_transfer(session, ctx.settings, req)
        except ApiError as exc:
            return render(request, "error.html", user, exc.status, message=str(exc))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="transfer_act-{request_id}.pdf"'},
    )


@router.post("/console/requests/{request_id}/transfer-act/received")
def receive_transfer_act(
    ctx: Ctx,
    request_id: int,
    user: Annotated[Principal, Depends(require("receive_transfer_act"))],
    csrf_token: Annotated[str, Form(max_length=100)],
) -> Response:
    check_csrf(user, csrf_token)
    return _act(
        f"/console/requests/{request_id}",
        lambda: ctx.workflow.receive_transfer_act(user.actor, request_id),
    )


@router.post("/console/requests/{request_id}/approve")
def approve(
    ctx: Ctx,
    request_id: int,
    user: Annotated[Principal, Depends(require("approve"))],
    csrf_token: Annotated[str, Form(max_length=100)],
) -> Response:
    check_csrf(user, csrf_token)
    return _act(
        f"/console/requests/{request_id}", lambda: ctx.workflow.approve(user.actor, request_id)
    )


@router.post("/console/requests/{request_id}/reject")
def reject(
    ctx: Ctx,
    request_id: int,
    user: Annotated[Principal, Depends(require("reject"))],
    csrf_token: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_csrf(user, csrf_token)
    return _act(
        f"/console/requests/{request_id}",
        lambda: ctx.workflow.reject(user.actor, request_id, reason),
    )


# --- certificates, search, expiring, audit ----------------------------------------------------


@router.get("/console/signers/{signer_id}")
def signer_page(
    request: Request,
    ctx: Ctx,
    signer_id: int,
    user: Annotated[Principal, Depends(require("signer"))],
    error: str = "",
) -> HTMLResponse:
    with ctx.db.transaction() as session:
        signer = session.get(Signer, signer_id)
        if signer is None:
            return render(request, "error.html", user, 404, message="Владелец не найден")
        profile = views.profile(session, ctx.workflow, signer)
        certificates = queries.certificates_of(session, signer_id)
        requests = queries.requests_of(session, signer_id)
        org = signer.organization
        payment_right = queries.payment_right_of(session, signer)
    return render(
        request,
        "signer.html",
        user,
        signer=signer,
        org=org,
        profile=profile,
        certificates=certificates,
        requests=requests,
        error=error,
        reasons=REVOCATION_TEXT,
        can_revoke=user.role in PAGES["revoke"],
        payment_right=payment_right,
        rights=RIGHT_TEXT,
        can_set_right=user.role in PAGES["payment_right"],
        now=ctx.clock(),
    )


@router.post("/console/signers/{signer_id}/payment-right")
def set_payment_right(
    ctx: Ctx,
    signer_id: int,
    user: Annotated[Principal, Depends(require("payment_right"))],
    csrf_token: Annotated[str, Form(max_length=100)],
    right: Annotated[str, Form(max_length=20)],
) -> Response:
    """Право первой / второй подписи: the payment desk authorises and audits the change."""
    check_csrf(user, csrf_token)
    page = f"/console/signers/{signer_id}"
    try:
        chosen = SigningRight(right)
    except ValueError:
        from urllib.parse import quote

        return redirect(f"{page}?error={quote('Неизвестное право подписи')}")
    return _act(
        page, lambda: PaymentDesk(ctx.workflow).set_signing_right(user.actor, signer_id, chosen)
    )


@router.post("/console/certificates/{serial}/revoke")
def revoke(
    ctx: Ctx,
    serial: str,
    user: Annotated[Principal, Depends(require("revoke"))],
    csrf_token: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=40)] = "unspecified",
) -> Response:
    check_csrf(user, csrf_token)
    with ctx.db.transaction() as session:
        signer_id = session.execute(
            select(Certificate.signer_id).where(Certificate.serial == serial)
        ).scalar_one_or_none()
    if signer_id is None:
        return redirect("/console/search")
    try:
        chosen = RevocationReason(reason)
    except ValueError:
        chosen = RevocationReason.UNSPECIFIED
    return _act(
        f"/console/signers/{signer_id}", lambda: ctx.workflow.revoke(user.actor, serial, chosen)
    )


@router.get("/console/search")
def search_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, Depends(require("search"))],
    q: str = "",
) -> HTMLResponse:
    with ctx.db.transaction() as session:
        signers, certificates = queries.search(session, q[:200])
        rows = [(s, s.organization) for s in signers]
        cert_rows = [
            (c, session.get(Signer, c.signer_id) if c.signer_id else None) for c in certificates
        ]
    return render(request, "search.html", user, q=q, rows=rows, cert_rows=cert_rows)


@router.get("/console/expiring")
def expiring_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, Depends(require("expiring"))],
    days: int = 30,
) -> HTMLResponse:
    days = max(1, min(days, 3660))
    with ctx.db.transaction() as session:
        rows = queries.expiring(session, ctx.clock(), days)
    return render(request, "expiring.html", user, rows=rows, days=days)


@router.get("/console/audit")
def audit_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, Depends(require("audit"))],
    before: int | None = None,
) -> HTMLResponse:
    with ctx.db.transaction() as session:
        rows = queries.audit_page(session, before)
    return render(request, "audit.html", user, rows=rows)


@router.get("/console/accounts")
def accounts_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, Depends(require("accounts"))],
) -> HTMLResponse:
    return render(
        request, "accounts.html", user, accounts=_accounts(ctx), created=None, reset=None, error=""
    )


def _accounts(ctx: ServerContext) -> list[Account]:
    with ctx.db.reading() as session:
        rows = session.execute(select(Account).order_by(Account.role, Account.login)).scalars()
        accounts = list(rows)
        session.expunge_all()  # the reading unit's rollback would expire them for the template
    return accounts


def _reset_page(
    request: Request,
    ctx: ServerContext,
    user: Principal,
    account_id: int,
    status_code: int = 200,
    error: str = "",
) -> HTMLResponse:
    with ctx.db.reading() as session:
        account = session.get(Account, account_id)
        session.expunge_all()
    if account is None:
        return render(request, "error.html", user, 404, message="Учётная запись не найдена")
    return render(request, "reset_totp.html", user, status_code, account=account, error=error)


@router.get("/console/accounts/{account_id}/reset-totp")
def reset_totp_page(
    request: Request,
    ctx: Ctx,
    account_id: int,
    user: Annotated[Principal, Depends(require("reset_totp"))],
) -> HTMLResponse:
    """The confirmation: what re-enrolment does, before it is done."""
    return _reset_page(request, ctx, user, account_id)


@router.post("/console/accounts/{account_id}/reset-totp")
def reset_totp(
    request: Request,
    ctx: Ctx,
    account_id: int,
    user: Annotated[Principal, Depends(require("reset_totp"))],
    csrf_token: Annotated[str, Form(max_length=100)],
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """«Выдать новый секрет TOTP» (a lost phone): the new secret is shown once, stored sealed."""
    check_csrf(user, csrf_token)
    if confirm != "yes":
        return _reset_page(
            request, ctx, user, account_id, 422, "Подтвердите, что личность владельца проверена"
        )
    keys = ctx.auth.totp_keys
    if keys is None:
        return _reset_page(
            request, ctx, user, account_id, 503, "Ключ секретов TOTP не загружен сервером"
        )
    try:
        secret = reenrol.reset_totp(ctx.db, keys, user.actor, account_id, ctx.clock())
    except BankError as exc:
        return _reset_page(request, ctx, user, account_id, 422, str(exc))
    accounts = _accounts(ctx)
    login = next(a.login for a in accounts if a.id == account_id)
    reset = {"login": login, "totp_secret": secret, "uri": reenrol.otpauth_uri(login, secret)}
    response = render(
        request, "accounts.html", user, accounts=accounts, created=None, reset=reset, error=""
    )
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@router.post("/console/accounts")
def create_account(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, Depends(require("accounts"))],
    csrf_token: Annotated[str, Form(max_length=100)],
    login: Annotated[str, Form(min_length=1, max_length=100)],
    role: Annotated[str, Form(max_length=30)],
    display_name: Annotated[str, Form(max_length=300)] = "",
) -> HTMLResponse:
    """Create an account: bank staff by role, or a client signer's (login = the signer's login).
    The one-time password and the TOTP secret are shown once."""
    check_csrf(user, csrf_token)
    created: dict[str, str] | None = None
    error = ""
    try:
        created = provision_account(ctx, login.strip(), Role(role), display_name.strip())
    except (ValueError, IntegrityError) as exc:
        error = (
            "Учётная запись с таким логином уже есть"
            if isinstance(exc, IntegrityError)
            else str(exc)
        )
    response = render(
        request,
        "accounts.html",
        user,
        200 if created else 422,
        accounts=_accounts(ctx),
        created=created,
        reset=None,
        error=error,
    )
    if created:
        response.headers["Cache-Control"] = "no-store"  # the password and secret, shown once
    return response


# --- the signer's page (the e-mail's link) -----------------------------------------------------


@router.get("/client/")
def client_home(request: Request, ctx: Ctx, user: User) -> HTMLResponse:
    if user.role != Role.CLIENT_SIGNER or user.signer_id is None:
        raise Forbidden
    with ctx.db.transaction() as session:
        signer = session.get(Signer, user.signer_id)
        assert signer is not None
        profile = views.profile(session, ctx.workflow, signer)
        requests = queries.requests_of(session, signer.id)
    return render(request, "client.html", user, profile=profile, requests=requests, req=None)


@router.get("/client/requests/{request_id}")
def client_request(request: Request, ctx: Ctx, request_id: int, user: User) -> HTMLResponse:
    if user.role != Role.CLIENT_SIGNER:
        raise Forbidden
    with ctx.db.transaction() as session:
        req = views.own_request(session, request_id, user.signer_id)
        if req is None:
            return render(request, "error.html", user, 404, message="Запрос не найден")
        view = views.request_view(session, ctx.workflow, req)
    return render(request, "client.html", user, profile=None, requests=[], req=view)


@router.get("/client/requests/{request_id}/certificate.cer")
def client_certificate(ctx: Ctx, request_id: int, user: User) -> Response:
    if user.role != Role.CLIENT_SIGNER:
        raise Forbidden
    with ctx.db.transaction() as session:
        req = views.own_request(session, request_id, user.signer_id)
        cert = (
            session.execute(
                select(Certificate).where(Certificate.request_id == request_id)
            ).scalar_one_or_none()
            if req
            else None
        )
    if cert is None:
        return Response("Не найдено", status_code=404)
    return Response(
        cert.der,
        media_type="application/pkix-cert",
        headers={"Content-Disposition": f'attachment; filename="{cert.serial}.cer"'},
    )


def install_handlers(app: Any) -> None:
    async def need_login(request: Request, exc: Exception) -> Response:
        from urllib.parse import quote

        return redirect(f"/console/login?next={quote(request.url.path)}")

    async def forbidden(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", None, 403, message="Доступ запрещён")

    app.add_exception_handler(NeedLogin, need_login)
    app.add_exception_handler(Forbidden, forbidden)
