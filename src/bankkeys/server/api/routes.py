"""The client API: sign-in, profiles, re-key requests, documents, certificates.

Every object is looked up through the caller: a signer reaches only their own profile and
requests; another signer's id answers 404, exactly as an id that does not exist.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankkeys.bank.store.models import Certificate, RekeyRequest
from bankkeys.bank.store.models import Signer as SignerRow
from bankkeys.bank.workflow import DocumentKind, Role
from bankkeys.pki.certificates import certificate_to_pem
from bankkeys.server import documents, views
from bankkeys.server.api import schemas as s
from bankkeys.server.auth import Principal, SessionKind, password_problems
from bankkeys.server.context import ServerContext
from bankkeys.server.errors import NOT_FOUND_MESSAGE, ApiError

router = APIRouter(prefix="/api/v1")
bearer = HTTPBearer(auto_error=False, description="Token from /api/v1/auth/second-factor")

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": s.ErrorResponse, "description": text}
    for code, text in (
        (401, "Not signed in (no or expired bearer token)"),
        (403, "The caller's role may not do this"),
        (404, "No such object for this caller"),
        (409, "Not possible in the current status"),
        (422, "Invalid input or refused request"),
        (429, "Too many failed sign-ins"),
        (503, "The CA is not available"),
    )
}


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` one in a worker
# thread, and each such hop costs more than the work.
async def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServerContext, Depends(context)]


def principal(
    ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "NotAuthenticated", "Требуется вход: передайте токен Bearer")
    found = ctx.auth.resolve(credentials.credentials, SessionKind.API)
    if found is None:
        raise ApiError(401, "NotAuthenticated", "Сеанс истёк или токен неверен; войдите снова")
    return found


Caller = Annotated[Principal, Depends(principal)]


async def signer_caller(caller: Caller) -> Principal:
    if caller.role != Role.CLIENT_SIGNER or caller.signer_id is None:
        raise ApiError(403, "NotAllowed", "Доступно только владельцу сертификата (клиенту банка)")
    return caller


Signer = Annotated[Principal, Depends(signer_caller)]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SignerId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "RequestInvalid", f"{what}: не base64") from None


def _not_found() -> ApiError:
    return ApiError(404, "NotFound", NOT_FOUND_MESSAGE)


def _own_request(session: Session, caller: Principal, request_id: int) -> RekeyRequest:
    """The caller's request; another signer's reads as absent (404, ids do not leak)."""
    req = views.own_request(session, request_id, caller.signer_id)
    if req is None:
        raise _not_found()
    return req


def _own_request_view(ctx: ServerContext, caller: Principal, request_id: int) -> s.RequestView:
    # Only reads: on SQLite it does not take the database-wide write lock.
    with ctx.db.reading() as session:
        req = _own_request(session, caller, request_id)
        return views.request_view(session, ctx.workflow, req)


def _check_own(ctx: ServerContext, caller: Principal, request_id: int) -> None:
    with ctx.db.reading() as session:
        _own_request(session, caller, request_id)


# --- sign-in -------------------------------------------------------------------------------------


@router.post("/auth/login", response_model=s.LoginChallenge, responses=ERRORS, tags=["sign-in"])
def login(body: s.LoginRequest, ctx: Ctx) -> s.LoginChallenge:
    """Step one: login and password. Answers a challenge for the second factor (TOTP)."""
    issued = ctx.auth.check_password(body.login, body.password)
    return s.LoginChallenge(challenge=issued.token, expires_at=issued.expires_at)


@router.post(
    "/auth/second-factor", response_model=s.TokenResponse, responses=ERRORS, tags=["sign-in"]
)
def second_factor(body: s.SecondFactorRequest, ctx: Ctx) -> s.TokenResponse:
    """Step two: the one-time code («Дополнительная авторизация»). Answers a bearer token."""
    issued = ctx.auth.check_second_factor(body.challenge, body.code, SessionKind.API)
    return s.TokenResponse(
        access_token=issued.token,
        expires_at=issued.expires_at,
        role=str(issued.principal.role),
        login=issued.principal.login,
    )


@router.post(
    "/auth/logout", status_code=204, response_class=Response, responses=ERRORS, tags=["sign-in"]
)
def logout(
    ctx: Ctx,
    caller: Caller,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    assert credentials is not None
    ctx.auth.sign_out(credentials.credentials)
    return Response(status_code=204)


@router.post(
    "/auth/password", status_code=204, response_class=Response, responses=ERRORS, tags=["sign-in"]
)
def change_password(body: s.ChangePasswordRequest, ctx: Ctx, caller: Caller) -> Response:
    """Change the password; every session of the account ends (sign in again)."""
    problem = password_problems(body.new_password)
    if problem:
        raise ApiError(422, "WeakPassword", problem)
    ctx.auth.change_password(caller.account_id, body.old_password, body.new_password)
    return Response(status_code=204)


@router.get("/me", response_model=s.Me, responses=ERRORS, tags=["sign-in"])
def me(caller: Caller) -> s.Me:
    return s.Me(login=caller.login, role=str(caller.role), signer_id=caller.signer_id)


# --- profiles ------------------------------------------------------------------------------------


@router.get("/profiles", response_model=list[s.Profile], responses=ERRORS, tags=["profiles"])
def profiles(ctx: Ctx, caller: Signer) -> list[s.Profile]:
    """The caller's profiles with their derived statuses and the next thing to do."""
    with ctx.db.transaction() as session:
        signer = session.get(SignerRow, caller.signer_id)
        return [views.profile(session, ctx.workflow, signer)] if signer else []


@router.get("/profiles/{signer_id}", response_model=s.Profile, responses=ERRORS, tags=["profiles"])
def get_profile(signer_id: SignerId, ctx: Ctx, caller: Signer) -> s.Profile:
    if signer_id != caller.signer_id:
        raise _not_found()
    with ctx.db.transaction() as session:
        signer = session.get(SignerRow, signer_id)
        if signer is None:
            raise _not_found()
        return views.profile(session, ctx.workflow, signer)


@router.get(
    "/profiles/{signer_id}/subject-template",
    response_model=s.SubjectTemplate,
    responses=ERRORS,
    tags=["profiles"],
)
def get_subject_template(signer_id: SignerId, ctx: Ctx, caller: Signer) -> s.SubjectTemplate:
    """The certificate subject the bank expects in the PKCS#10 (the wizard shows it to check)."""
    if signer_id != caller.signer_id:
        raise _not_found()
    with ctx.db.transaction() as session:
        signer = session.get(SignerRow, signer_id)
        if signer is None:
            raise _not_found()
        return views.subject_template(signer)


@router.post(
    "/profiles/{signer_id}/requests",
    response_model=s.RequestView,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    tags=["requests"],
)
def submit(signer_id: SignerId, body: s.SubmitRequest, ctx: Ctx, caller: Signer) -> Response:
    """Submit a re-key request («Принят банком» on success)."""
    if signer_id != caller.signer_id:
        raise _not_found()
    submitted = _b64(body.request, "request")
    request_id = ctx.workflow.submit_request(
        caller.actor, signer_id, submitted, activation_code=body.activation_code
    )
    with ctx.db.statements() as conn:
        view = views.accepted_request_view(conn, ctx.workflow, request_id, signer_id)
    if view is None:  # it moved on already, or has documents: the full view
        view = _own_request_view(ctx, caller, request_id)
    return _json(view, status.HTTP_201_CREATED)


def _json(view: BaseModel, status_code: int) -> Response:
    """The view as the answer, serialized here: a plain ``def`` route returning a model has it
    validated again in another worker thread (the response model still documents it)."""
    return Response(view.model_dump_json(), status_code, media_type="application/json")


# --- requests ------------------------------------------------------------------------------------


@router.get("/requests", response_model=list[s.RequestView], responses=ERRORS, tags=["requests"])
def list_requests(ctx: Ctx, caller: Signer) -> list[s.RequestView]:
    with ctx.db.transaction() as session:
        rows = (
            session.execute(
                select(RekeyRequest)
                .where(RekeyRequest.signer_id == caller.signer_id)
                .order_by(RekeyRequest.id.desc())
                .limit(50)
            )
            .scalars()
            .all()
        )
        return [views.request_view(session, ctx.workflow, r) for r in rows]


@router.get(
    "/requests/{request_id}", response_model=s.RequestView, responses=ERRORS, tags=["requests"]
)
def get_request(request_id: RequestId, ctx: Ctx, caller: Signer) -> s.RequestView:
    return _own_request_view(ctx, caller, request_id)


@router.get(
    "/requests/{request_id}/documents/{kind}.pdf",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "PDF"}},
    tags=["documents"],
)
def get_document(
    request_id: RequestId, kind: s.DocumentKindCode, ctx: Ctx, caller: Signer
) -> Response:
    """The printable document (PDF); the same request always gives the same bytes.

    ``transfer_act`` («Акт приема-передачи», seed 003) exists once the certificate is issued and
    its installation was confirmed with the token's model and serial (409 before)."""
    with ctx.db.transaction() as session:
        req = _own_request(session, caller, request_id)
        pdf = documents.render(session, ctx.settings, req, kind.value)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{kind.value}-{request_id}.pdf"'},
    )


@router.post(
    "/requests/{request_id}/documents/{kind}/printed",
    response_model=s.RequestView,
    responses=ERRORS,
    tags=["documents"],
)
def printed(
    request_id: RequestId,
    kind: s.DocumentKindCode,
    body: s.PrintedRequest,
    ctx: Ctx,
    caller: Signer,
) -> s.RequestView:
    """Note that the client printed the document (the bank keeps the hash of its rendering)."""
    with ctx.db.transaction() as session:
        req = _own_request(session, caller, request_id)
        pdf = documents.render(session, ctx.settings, req, kind.value)
    ctx.workflow.record_printed(
        caller.actor, request_id, DocumentKind(kind.value), content=pdf, copies=body.copies
    )
    return _own_request_view(ctx, caller, request_id)


@router.post(
    "/requests/{request_id}/documents/acceptance_act/signature",
    response_model=s.RequestView,
    responses=ERRORS,
    tags=["documents"],
)
def sign_act(
    request_id: RequestId, body: s.SignedActRequest, ctx: Ctx, caller: Signer
) -> s.RequestView:
    """Remote renewal: the acceptance act signed with the current key instead of paper."""
    signature = _b64(body.signature, "signature")
    with ctx.db.transaction() as session:
        req = _own_request(session, caller, request_id)
        act = documents.render(session, ctx.settings, req, DocumentKind.ACCEPTANCE_ACT)
    ctx.workflow.sign_act_electronically(caller.actor, request_id, act=act, signature=signature)
    return _own_request_view(ctx, caller, request_id)


@router.post(
    "/requests/{request_id}/cancel",
    response_model=s.RequestView,
    responses=ERRORS,
    tags=["requests"],
)
def cancel(request_id: RequestId, ctx: Ctx, caller: Signer) -> s.RequestView:
    _check_own(ctx, caller, request_id)
    ctx.workflow.cancel(caller.actor, request_id)
    return _own_request_view(ctx, caller, request_id)


@router.post(
    "/requests/{request_id}/confirm-installation",
    response_model=s.RequestView,
    responses=ERRORS,
    tags=["requests"],
)
def confirm_installation(
    request_id: RequestId,
    ctx: Ctx,
    caller: Signer,
    body: s.ConfirmInstallationRequest | None = None,
) -> s.RequestView:
    """The certificate is on the token: «Вы переведены на работу с новым комплектом ключей».

    The body (optional) names the token it was written to; then the «Акт приема-передачи» is
    available (``…/documents/transfer_act.pdf``)."""
    _check_own(ctx, caller, request_id)
    ctx.workflow.confirm_installation(
        caller.actor,
        request_id,
        token_model=body.token_model if body else None,
        token_serial=body.token_serial if body else None,
    )
    return _own_request_view(ctx, caller, request_id)


def _issued(ctx: ServerContext, caller: Principal, request_id: int) -> Certificate:
    with ctx.db.transaction() as session:
        _own_request(session, caller, request_id)
        cert = session.execute(
            select(Certificate).where(Certificate.request_id == request_id)
        ).scalar_one_or_none()
        if cert is None:
            raise ApiError(409, "NotIssued", "Сертификат по этому запросу ещё не выпущен")
        return cert


def _chain(ctx: ServerContext) -> list[bytes]:
    ca = ctx.ca
    if ca is not None:
        return [ca.certificate_der]
    from bankkeys.bank.ca import ca_record

    return [ca_record(ctx.db).certificate_der]


@router.get(
    "/requests/{request_id}/certificate",
    response_model=s.CertificateView,
    responses=ERRORS,
    tags=["certificates"],
)
def get_certificate(request_id: RequestId, ctx: Ctx, caller: Signer) -> s.CertificateView:
    """The issued certificate («Получить сертификат») with the CA chain."""
    cert = _issued(ctx, caller, request_id)
    return s.CertificateView(
        serial=cert.serial,
        not_before=cert.not_before,
        not_after=cert.not_after,
        certificate=base64.b64encode(cert.der).decode("ascii"),
        pem=certificate_to_pem(cert.der),
        chain=[certificate_to_pem(der) for der in _chain(ctx)],
    )


@router.get(
    "/requests/{request_id}/certificate.cer",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/pkix-cert": {}}, "description": "DER"}},
    tags=["certificates"],
)
def get_certificate_der(request_id: RequestId, ctx: Ctx, caller: Signer) -> Response:
    cert = _issued(ctx, caller, request_id)
    return Response(
        cert.der,
        media_type="application/pkix-cert",
        headers={"Content-Disposition": f'attachment; filename="{cert.serial}.cer"'},
    )


@router.get("/ca/chain", response_model=s.ChainView, responses=ERRORS, tags=["certificates"])
def chain(ctx: Ctx) -> s.ChainView:
    """The bank CA's certificate chain (public)."""
    return s.ChainView(
        certificates=[certificate_to_pem(der) for der in _chain(ctx)],
        crl_url=ctx.settings.crl_url,
        ca_url=ctx.settings.ca_url,
    )
