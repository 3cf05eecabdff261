"""The console's «Клиенты» page: the bank's organizations and their certificate owners, and the
forms that register them (the first step of seed 001's initial generation: the owner then gets
the activation code from the printed «Реквизиты»)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from bankkeys.bank.errors import BankError
from bankkeys.bank.store.models import Organization, Signer
from bankkeys.server.auth import Principal
from bankkeys.server.console.routes import Ctx, check_csrf, redirect, render, require

router = APIRouter(include_in_schema=False)
Staff = Annotated[Principal, Depends(require("clients"))]
Csrf = Annotated[str, Form(max_length=100)]
Line = Annotated[str, Form(max_length=1000)]


@router.get("/console/clients")
def clients_page(request: Request, ctx: Ctx, user: Staff) -> HTMLResponse:
    return _page(request, ctx, user)


@router.post("/console/clients/organizations")
def register_organization(
    request: Request,
    ctx: Ctx,
    user: Staff,
    csrf_token: Csrf,
    name: Line,
    inn: Annotated[str, Form(max_length=20)],
    ogrn: Annotated[str, Form(max_length=20)],
    address: Line,
    kpp: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    check_csrf(user, csrf_token)
    try:
        ctx.workflow.register_organization(
            user.actor,
            name=name,
            inn=inn.strip(),
            ogrn=ogrn.strip(),
            address=address,
            kpp=kpp.strip() or None,
        )
    except BankError as exc:
        return _page(request, ctx, user, 422, error=str(exc))
    return redirect("/console/clients")


@router.post("/console/clients/signers")
def register_signer(
    request: Request,
    ctx: Ctx,
    user: Staff,
    csrf_token: Csrf,
    organization_id: Annotated[int, Form()],
    login: Annotated[str, Form(max_length=100)],
    surname: Line,
    given_name: Line,
    position: Line,
    snils: Annotated[str, Form(max_length=20)],
    email: Annotated[str, Form(max_length=300)],
    phone: Annotated[str, Form(max_length=50)],
    acting_on: Line,
) -> HTMLResponse:
    """Register a certificate owner; the activation code is shown once, never again."""
    check_csrf(user, csrf_token)
    try:
        registered = ctx.workflow.register_signer(
            user.actor,
            organization_id,
            login=login.strip(),
            surname=surname,
            given_name=given_name,
            position=position,
            snils=snils,
            email=email.strip(),
            phone=phone,
            acting_on=acting_on,
        )
    except BankError as exc:
        return _page(request, ctx, user, 422, error=str(exc))
    created = {"login": login.strip(), "signer_id": registered.signer_id,
               "activation_code": registered.activation_code}  # fmt: skip
    response = _page(request, ctx, user, created=created)
    response.headers["Cache-Control"] = "no-store"  # the code must not stay in a cache
    return response


def _page(
    request: Request,
    ctx: Ctx,
    user: Principal,
    status_code: int = 200,
    *,
    error: str = "",
    created: dict[str, Any] | None = None,
) -> HTMLResponse:
    with ctx.db.reading() as session:
        organizations = session.execute(
            select(
                Organization.id, Organization.name, Organization.inn, Organization.kpp,
                Organization.ogrn,
            ).order_by(Organization.name)
        ).all()  # fmt: skip
        signers = session.execute(
            select(
                Signer.id, Signer.organization_id, Signer.login, Signer.surname,
                Signer.given_name, Signer.position,
            ).order_by(Signer.surname, Signer.given_name)
        ).all()  # fmt: skip
    signers_of: dict[int, list[Any]] = {}
    for signer in signers:
        signers_of.setdefault(signer.organization_id, []).append(signer)
    return render(
        request,
        "clients.html",
        user,
        status_code,
        organizations=organizations,
        signers_of=signers_of,
        error=error,
        created=created,
    )
