"""The local UI's payments page: upload a 1C (or JSON) file → review the documents → PIN, sign
and send → the bank's verdicts, and the verdicts as a file for 1C.

The uploaded file lives in memory only until it is signed (or the UI exits); a refused file
(encoding, truncation…) is answered on the upload page and nothing is kept or sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bankkeys.client.errors import ClientError, NotSignedIn
from bankkeys.client.payments import (
    STATUS_TEXT,
    PaymentClient,
    PaymentFile,
    SendOutcome,
    SigningKey,
    read_payment_file,
    statuses_file,
)
from bankkeys.client.service import ClientService
from bankkeys.client.web.security import LaunchSecret
from bankkeys.payments.keys import format_amount
from bankkeys.pki.errors import PkiError
from bankkeys.tokens import TokenError

TEMPLATES = Path(__file__).parent / "templates"
MAX_FILE_BYTES = 5 * 1024 * 1024
KEEP_DRAFTS = 5


@dataclass
class _Draft:
    loaded: PaymentFile
    outcome: SendOutcome | None = None


def payment_routes(service: ClientService, secret: LaunchSecret) -> list[Route]:
    """The routes of the payments page, for the UI's route list."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
    )
    env.filters["date"] = lambda v: v.strftime("%d.%m.%Y") if v else "—"
    drafts: dict[str, _Draft] = {}
    payments = PaymentClient(service)

    def page(request: Request, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("error", None)
        ctx.setdefault("notice", None)
        html = env.get_template("payments.html").render(
            csrf=secret.csrf_token,
            path=request.url.path,
            amount=format_amount,
            status_text=STATUS_TEXT,
            **ctx,
        )
        return HTMLResponse(html, status_code=status_code)

    def forbidden() -> Response:
        return HTMLResponse("Запрос отклонён (CSRF)", status_code=403)

    def key_or_error() -> tuple[SigningKey | None, str | None]:
        try:
            return payments.signing_key(), None
        except (ClientError, TokenError, PkiError) as exc:
            return None, str(exc)

    async def upload(request: Request) -> Response:
        if not service.signed_in():
            return RedirectResponse("/login", status_code=303)
        return page(request)

    async def review(request: Request) -> Response:
        async with request.form(max_files=1, max_fields=5) as form:
            if not secret.csrf_ok(_text(form.get("csrf"))):
                return forbidden()
            upload_ = form.get("file")
            if not isinstance(upload_, UploadFile):
                return page(request, 400, error="Выберите файл платежных поручений")
            data = await upload_.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return page(request, 400, error="Файл больше 5 МиБ: разделите его в 1С")
        try:
            loaded = read_payment_file(data)
        except ClientError as exc:
            return page(request, 400, error=str(exc))
        draft_id = secrets.token_urlsafe(16)
        drafts[draft_id] = _Draft(loaded)
        while len(drafts) > KEEP_DRAFTS:
            drafts.pop(next(iter(drafts)))
        key, problem = key_or_error() if loaded.orders else (None, None)
        return page(request, loaded=loaded, draft_id=draft_id, key=key, error=problem)

    async def sign(request: Request) -> Response:
        form = await request.form()
        if not secret.csrf_ok(_text(form.get("csrf"))):
            return forbidden()
        draft = drafts.get(request.path_params["draft_id"])
        if draft is None:
            return page(request, 404, error="Файл не найден: загрузите его снова")
        key, problem = key_or_error()
        if key is None:
            return page(
                request,
                409,
                loaded=draft.loaded,
                error=problem,
                draft_id=request.path_params["draft_id"],
            )
        try:
            signed = payments.sign(draft.loaded.orders, key, _text(form.get("pin")) or "")
            draft.outcome = payments.send(signed)
        except NotSignedIn:
            return RedirectResponse("/login", status_code=303)
        except (ClientError, TokenError, PkiError) as exc:
            return page(
                request,
                400,
                loaded=draft.loaded,
                key=key,
                error=str(exc),
                draft_id=request.path_params["draft_id"],
            )
        outcome = draft.outcome
        counts = {s: outcome.count(s) for s in STATUS_TEXT}
        return page(
            request,
            results=outcome.results,
            counts=counts,
            retired=outcome.retired_certificates,
            draft_id=request.path_params["draft_id"],
        )

    async def statuses(request: Request) -> Response:
        draft = drafts.get(request.path_params["draft_id"])
        if draft is None or draft.outcome is None:
            return Response(status_code=404)
        return Response(
            statuses_file(draft.outcome, datetime.now(UTC)),
            media_type="text/plain; charset=windows-1251",
            headers={"Content-Disposition": 'attachment; filename="kl_to_1c.txt"'},
        )

    return [
        Route("/payments", upload),
        Route("/payments/review", review, methods=["POST"]),
        Route("/payments/{draft_id}/sign", sign, methods=["POST"]),
        Route("/payments/{draft_id}/statuses.txt", statuses),
    ]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
