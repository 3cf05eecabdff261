"""The pages of the local UI. Each page shows where the process stands (derived anew on every
request) and offers the one next step; a form posts one step to :class:`ClientService`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bankkeys.client.errors import ClientError, NotSignedIn, TokenNeeded
from bankkeys.client.progress import OLD_DEVICE_ADVICE, SWITCHED_TEXT, UNPLUG_WARNING, Stage
from bankkeys.client.service import ClientService
from bankkeys.client.web.payments_pages import payment_routes
from bankkeys.client.web.security import COOKIE, LaunchSecret
from bankkeys.pki.errors import PkiError
from bankkeys.tokens import DefaultPinRefused, TokenError

TEMPLATES = Path(__file__).parent / "templates"
TOKEN_STAGES = frozenset(
    {Stage.NEED_REQUEST, Stage.SEND_PENDING, Stage.SIGN_ACT, Stage.INSTALL_CERTIFICATE}
)


@dataclass
class Draft:
    """The wizard's choices before the key exists (fields, token); lost on exit, on purpose:
    they are re-entered in seconds, and nothing else depends on them."""

    corrections: dict[str, str] = field(default_factory=dict)
    target: str | None = None


@dataclass
class UiState:
    service: ClientService
    secret: LaunchSecret
    challenge: str | None = None
    drafts: dict[int, Draft] = field(default_factory=dict)

    def draft(self, signer_id: int) -> Draft:
        return self.drafts.setdefault(signer_id, Draft())


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
    )
    env.filters["date"] = lambda v: v.strftime("%d.%m.%Y") if v else "—"
    return env


class Guard(BaseHTTPMiddleware):
    """Host check, launch key → cookie, cookie on every page, Origin on every POST (the CSRF
    token is checked where the form is read: :func:`create_app`'s ``checked``)."""

    def __init__(self, app: Any, secret: LaunchSecret) -> None:
        super().__init__(app)
        self.secret = secret

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        s = self.secret
        if not s.host_ok(request.headers.get("host")):
            return Response("Misdirected request", status_code=421)
        if request.url.path == "/launch":
            if not s.launch_ok(request.query_params.get("key")):
                return _forbidden()
            response: Response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, s.session_value, httponly=True, samesite="strict")
            return _secure(response)
        if not s.session_ok(request.cookies.get(COOKIE)):
            return _forbidden()
        if request.method == "POST" and not s.origin_ok(request.headers.get("origin")):
            return _forbidden()
        return _secure(await call_next(request))


def _forbidden() -> Response:
    return _secure(
        HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Доступ запрещён</title>"
            "<p>Откройте ссылку, которую напечатала команда «bankkeys client ui».</p>",
            status_code=403,
        )
    )


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"  # "no-referrer" makes Origin: null
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def create_app(service: ClientService, secret: LaunchSecret) -> Starlette:
    ui = UiState(service, secret)
    env = _env()

    def page(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("error", None)
        ctx.setdefault("notice", None)
        html = env.get_template(name).render(csrf=secret.csrf_token, path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status_code)

    class Forged(Exception):
        pass

    async def checked(request: Request) -> FormData:
        form = await request.form()
        token = form.get("csrf")
        if not secret.csrf_ok(token if isinstance(token, str) else None):
            raise Forged()
        return form

    def go(url: str) -> Response:
        return RedirectResponse(url, status_code=303)

    def field_(form: FormData, name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    # ------------------------------------------------------------------ home

    async def home(request: Request) -> Response:
        config = service.home.load()
        if config.current_bank is None:
            return go("/connect")
        if not service.signed_in():
            return go("/login")
        try:
            states = service.overview()
        except NotSignedIn:
            return go("/login")
        except ClientError as exc:
            return page(request, "home.html", states=[], error=str(exc), warn=False, advice=[])
        working = any(s.progress.stage in TOKEN_STAGES for s in states)
        warn = not working and any("unplug" in s.progress.notes for s in states)
        advice = [s for s in states if "destroy_old_token" in s.progress.notes]
        return page(
            request, "home.html", states=states, warn=warn, unplug=UNPLUG_WARNING,
            advice=advice, advice_text=OLD_DEVICE_ADVICE, bank=config.current_bank,
        )  # fmt: skip

    # ------------------------------------------------------------------ bank and sign-in

    async def connect(request: Request) -> Response:
        if request.method == "GET":
            return page(request, "connect.html", result=None)
        form = await checked(request)
        url = field_(form, "url").strip()
        ca_pem = field_(form, "ca_pem").strip()
        proxy = field_(form, "proxy").strip() or None
        try:
            ca_file = None
            if ca_pem:
                tmp = service.home.path / "given-ca.pem"
                tmp.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_text(ca_pem, encoding="utf-8")
                ca_file = tmp
            result = service.connect(url, ca_file=ca_file, proxy=proxy)
        except (ClientError, OSError) as exc:
            return page(request, "connect.html", result=None, error=str(exc), url=url)
        return page(request, "connect.html", result=result, url=url)

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return page(request, "login.html", step="password")
        form = await checked(request)
        try:
            ui.challenge = service.sign_in_start(field_(form, "login"), field_(form, "password"))
        except ClientError as exc:
            return page(request, "login.html", step="password", error=str(exc))
        return page(request, "login.html", step="code")

    async def login_code(request: Request) -> Response:
        form = await checked(request)
        if ui.challenge is None:
            return go("/login")
        try:
            service.sign_in_finish(ui.challenge, field_(form, "code"))
        except ClientError as exc:
            return page(request, "login.html", step="password", error=str(exc))
        finally:
            ui.challenge = None
        return go("/")

    async def logout(request: Request) -> Response:
        with contextlib.suppress(ClientError):
            service.sign_out()
        return go("/login")

    # ------------------------------------------------------------------ tokens

    async def tokens(request: Request) -> Response:
        error = None
        if request.method == "POST":
            form = await checked(request)
            folder = field_(form, "folder").strip()
            try:
                if field_(form, "action") == "create":
                    made = service.create_container(Path(folder), field_(form, "label") or "Ключи")
                    return go(f"/tokens/{quote(made.serial)}/pins?next=/tokens")
                service.add_container(Path(folder))
            except (ClientError, TokenError, OSError) as exc:
                error = str(exc)
        return page(request, "tokens.html", tokens=service.tokens(), error=error)

    async def token_pins(request: Request) -> Response:
        serial = request.path_params["serial"]
        nxt = request.query_params.get("next", "/")
        nxt = nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"
        present = service.devices().find(serial)
        if request.method == "GET":
            return page(request, "pins.html", token=present, serial=serial, next=nxt)
        form = await checked(request)
        try:
            service.change_default_pins(
                serial, field_(form, "user"), field_(form, "user2"),
                field_(form, "admin"), field_(form, "admin2"),
            )  # fmt: skip
        except (ClientError, TokenError) as exc:
            return page(
                request, "pins.html", token=present, serial=serial, next=nxt, error=str(exc)
            )
        return go(nxt)

    # ------------------------------------------------------------------ the wizard

    def _state_or_login(request: Request, signer_id: int) -> Any:
        try:
            return service.state(signer_id)
        except NotSignedIn:
            return go("/login")

    async def profile(request: Request) -> Response:
        signer_id = int(request.path_params["signer_id"])
        return _profile_page(request, signer_id)

    def _profile_page(
        request: Request, signer_id: int, error: str | None = None, notice: str | None = None,
        status_code: int = 200,
    ) -> Response:  # fmt: skip
        try:
            st = service.state(signer_id)
        except NotSignedIn:
            return go("/login")
        except ClientError as exc:
            return page(request, "error.html", error=str(exc), status_code=502)
        pr = st.progress
        present = service.tokens()
        return page(
            request, "profile.html", st=st, pr=pr, Stage=Stage, tokens=present,
            draft=ui.draft(signer_id), error=error, notice=notice, unplug=UNPLUG_WARNING,
            advice_text=OLD_DEVICE_ADVICE, switched=SWITCHED_TEXT, status_code=status_code,
        )  # fmt: skip

    async def fields(request: Request) -> Response:
        signer_id = int(request.path_params["signer_id"])
        draft = ui.draft(signer_id)
        try:
            items = service.fields(signer_id)
        except NotSignedIn:
            return go("/login")
        except ClientError as exc:
            return page(request, "error.html", error=str(exc), status_code=502)
        if request.method == "GET":
            return page(request, "fields.html", items=items, draft=draft, signer_id=signer_id)
        form = await checked(request)
        draft.corrections = {
            f.name: field_(form, f.name)
            for f in items
            if f.editable and field_(form, f.name).strip() and field_(form, f.name) != f.value
        }
        return go(f"/profile/{signer_id}/token")

    async def choose_token(request: Request) -> Response:
        signer_id = int(request.path_params["signer_id"])
        draft = ui.draft(signer_id)
        if request.method == "GET":
            st = _state_or_login(request, signer_id)
            if isinstance(st, Response):
                return st
            return page(
                request, "choose_token.html", tokens=service.tokens(), st=st,
                draft=draft, signer_id=signer_id,
            )  # fmt: skip
        form = await checked(request)
        serial = field_(form, "serial")
        present = service.devices().find(serial)
        if present is None:
            return _profile_page(request, signer_id, error="Выберите подключённый носитель")
        draft.target = serial
        if present.must_change_pins:
            return go(f"/tokens/{quote(serial)}/pins?next=/profile/{signer_id}/pin")
        return go(f"/profile/{signer_id}/pin")

    async def pin(request: Request) -> Response:
        signer_id = int(request.path_params["signer_id"])
        draft = ui.draft(signer_id)
        if draft.target is None:
            return go(f"/profile/{signer_id}/token")
        present = service.devices().find(draft.target)
        if request.method == "GET":
            return page(
                request, "pin.html", token=present, serial=draft.target, signer_id=signer_id
            )
        form = await checked(request)
        try:
            service.generate(signer_id, draft.target, field_(form, "pin"), draft.corrections)
        except DefaultPinRefused:
            return go(f"/tokens/{quote(draft.target)}/pins?next=/profile/{signer_id}/pin")
        except (ClientError, TokenError, PkiError) as exc:
            return page(
                request, "pin.html", token=present, serial=draft.target,
                signer_id=signer_id, error=str(exc), status_code=400,
            )  # fmt: skip
        return go(f"/profile/{signer_id}")

    async def step(request: Request) -> Response:
        """POST /profile/{id}/{action}: send, sign-act, install, printed."""
        signer_id = int(request.path_params["signer_id"])
        action = request.path_params["action"]
        form = await checked(request)
        try:
            if action == "send":
                answer = service.send(
                    signer_id,
                    pin=field_(form, "pin") or None,
                    activation_code=field_(form, "activation_code") or None,
                )
                ui.drafts.pop(signer_id, None)
                return _profile_page(
                    request, signer_id, notice=f"Статус запроса: «{answer.status.text}»"
                )
            if action == "sign-act":
                answer = service.sign_act(signer_id, field_(form, "pin"))
                return _profile_page(
                    request, signer_id, notice=f"Акт подписан. «{answer.status.text}»"
                )
            if action == "install":
                text = service.install(signer_id, field_(form, "pin"))
                return _profile_page(request, signer_id, notice=text)
            if action == "printed":
                kind = field_(form, "kind")
                service.mark_printed(signer_id, kind, int(field_(form, "copies") or "1"))
                return go(f"/profile/{signer_id}")
        except NotSignedIn:
            return go("/login")
        except TokenNeeded as exc:
            return _profile_page(request, signer_id, error=str(exc), status_code=409)
        except (ClientError, TokenError, PkiError) as exc:
            return _profile_page(request, signer_id, error=str(exc), status_code=400)
        return Response(status_code=404)

    async def document(request: Request) -> Response:
        signer_id = int(request.path_params["signer_id"])
        kind = request.path_params["kind"]
        if kind not in ("acceptance_act", "certificate_application", "transfer_act"):
            return Response(status_code=404)
        try:
            pdf = service.document_pdf(signer_id, kind)
        except NotSignedIn:
            return go("/login")
        except ClientError as exc:
            return page(request, "error.html", error=str(exc), status_code=502)
        return Response(pdf, media_type="application/pdf")

    routes = [
        Route("/", home),
        Route("/launch", home),
        Route("/connect", connect, methods=["GET", "POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/login/code", login_code, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/tokens", tokens, methods=["GET", "POST"]),
        Route("/tokens/{serial}/pins", token_pins, methods=["GET", "POST"]),
        Route("/profile/{signer_id:int}", profile),
        Route("/profile/{signer_id:int}/fields", fields, methods=["GET", "POST"]),
        Route("/profile/{signer_id:int}/token", choose_token, methods=["GET", "POST"]),
        Route("/profile/{signer_id:int}/pin", pin, methods=["GET", "POST"]),
        Route("/profile/{signer_id:int}/documents/{kind}.pdf", document),
        Route("/profile/{signer_id:int}/{action}", step, methods=["POST"]),
        *payment_routes(service, secret),
    ]

    async def forged(request: Request, exc: Exception) -> Response:
        return _forbidden()

    return Starlette(
        routes=routes,
        middleware=[Middleware(Guard, secret=secret)],
        exception_handlers={Forged: forged},
    )
