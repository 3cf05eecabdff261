"""Public endpoints: the CA certificate and the CRL (the URLs written in certificates), and the
liveness/readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from bankkeys.bank.ca import ca_record
from bankkeys.bank.errors import CaError
from bankkeys.bank.store.models import Crl
from bankkeys.server.api.routes import Ctx

router = APIRouter()


@router.get(
    "/ca/ca.cer",
    response_class=Response,
    tags=["public"],
    responses={200: {"content": {"application/pkix-cert": {}}}, 404: {}},
)
def ca_certificate(ctx: Ctx) -> Response:
    """The bank CA's certificate, DER."""
    try:
        der = ca_record(ctx.db).certificate_der
    except CaError:
        return JSONResponse({"error": {"code": "NotFound", "message": "УЦ банка не создан"}}, 404)
    return Response(
        der, media_type="application/pkix-cert", headers={"Cache-Control": "max-age=3600"}
    )


@router.get(
    "/ca/crl.crl",
    response_class=Response,
    tags=["public"],
    responses={200: {"content": {"application/pkix-crl": {}}}, 404: {}},
)
def crl(ctx: Ctx) -> Response:
    """The newest CRL (список отозванных сертификатов), DER."""
    with ctx.db.transaction() as session:
        row = session.execute(select(Crl).order_by(Crl.number.desc()).limit(1)).scalar_one_or_none()
        if row is None:
            return JSONResponse(
                {"error": {"code": "NotFound", "message": "Список отзыва ещё не выпущен"}}, 404
            )
        der, next_update = row.der, row.next_update
    return Response(
        der,
        media_type="application/pkix-crl",
        headers={
            "Cache-Control": "max-age=300",
            "Expires": next_update.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        },
    )


@router.get("/healthz", tags=["operations"])
def liveness() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["operations"], responses={503: {}})
def readiness(request: Request, ctx: Ctx) -> Response:
    """The database answers; ``ca_key_open`` tells whether issuance is possible."""
    problems: list[str] = []
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        problems.append("database")
    body = {
        "status": "ok" if not problems else "not ready",
        "problems": problems,
        "ca_key_open": ctx.ca is not None,
    }
    return JSONResponse(body, 200 if not problems else 503)
