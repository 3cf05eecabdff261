"""Payments in the client API: send signed payment orders, read their statuses, export them
to 1C. Thin: it decodes, calls :mod:`bankkeys.bank.payments`, renders.

``POST /api/v1/payments`` answers 200 with one result per document (accepted, awaiting the
second signature, or refused with the reason); a malformed request as a whole answers 422.
"""

from __future__ import annotations

import binascii
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from bankkeys.bank.payments import (
    MAX_BATCH,
    STATE_TEXT,
    PaymentDesk,
    PaymentState,
    SignedPayment,
    SigningRight,
)
from bankkeys.server.api.routes import ERRORS, Ctx, Signer
from bankkeys.server.errors import ApiError

router = APIRouter(prefix="/api/v1")
EXCHANGE_MEDIA_TYPE = "text/plain; charset=windows-1251"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignedDocument(_Strict):
    document: str = Field(
        max_length=24_000, description="Canonical bytes (bankkeys/payment-order/1), base64"
    )
    signature: str = Field(max_length=90_000, description="Detached CMS SignedData DER, base64")
    certificate_serial: str = Field(
        pattern=r"^[0-9a-f]{1,40}$", description="Serial of the signing certificate, lowercase hex"
    )


class PaymentBatch(_Strict):
    documents: list[SignedDocument] = Field(min_length=1, max_length=MAX_BATCH)


class DocumentResult(_Strict):
    position: int = Field(description="1-based position in the batch")
    number: str = Field(description="Document number, empty when the bytes were unreadable")
    status: Literal["accepted", "awaiting_second", "refused"]
    status_text: str = Field(description="The status in Russian")
    reason: str = Field(description="Why it was refused (Russian); empty otherwise")
    content_hash: str = Field(description="Streebog-256 of the canonical bytes, hex")


class BatchResponse(_Strict):
    results: list[DocumentResult]
    retired_certificates: list[str] = Field(
        description="Old certificates retired (superseded) by the first payment under a new key"
    )


class SignatureView(_Strict):
    signer_name: str
    certificate_serial: str
    signing_right: Literal["first", "second", "none"]
    signing_time: datetime


class PaymentView(_Strict):
    number: str
    date: date
    amount: str = Field(description="Rubles, e.g. 1234.50")
    payer_account: str
    payee_name: str
    content_hash: str
    status: Literal["accepted", "awaiting_second"]
    status_text: str
    received_at: datetime
    accepted_at: datetime | None
    signatures: list[SignatureView]


_STATUS: dict[PaymentState, Literal["accepted", "awaiting_second", "refused"]] = {
    PaymentState.ACCEPTED: "accepted",
    PaymentState.AWAITING_SECOND: "awaiting_second",
    PaymentState.REFUSED: "refused",
}
_RIGHTS: dict[SigningRight, Literal["first", "second", "none"]] = {
    SigningRight.FIRST: "first",
    SigningRight.SECOND: "second",
    SigningRight.NONE: "none",
}


def _b64(value: str, what: str, position: int) -> bytes:
    # Strict: only the alphabet, with the padding right and nothing after it, checked by the
    # decoder itself (b64decode's validate runs a regular expression over the text first).
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "RequestInvalid", f"документ {position}: {what} не base64") from None


def _desk(ctx: Ctx) -> PaymentDesk:
    return PaymentDesk(ctx.workflow)


@router.post("/payments", response_model=BatchResponse, responses=ERRORS, tags=["payments"])
def submit_payments(body: PaymentBatch, ctx: Ctx, caller: Signer) -> BatchResponse:
    """Send signed payment orders; each is verified and answered on its own."""
    items = [
        SignedPayment(
            _b64(d.document, "document", i),
            _b64(d.signature, "signature", i),
            d.certificate_serial,
        )
        for i, d in enumerate(body.documents, start=1)
    ]
    result = _desk(ctx).submit(caller.actor, items)
    return BatchResponse(
        results=[
            DocumentResult(
                position=v.position,
                number=v.number,
                status=_STATUS[v.state],
                status_text=STATE_TEXT[v.state],
                reason=v.reason,
                content_hash=v.content_hash,
            )
            for v in result.verdicts
        ],
        retired_certificates=list(result.retired_certificates),
    )


Since = Annotated[date | None, Query(description="Documents dated on or after")]
Until = Annotated[date | None, Query(description="Documents dated on or before")]


@router.get("/payments", response_model=list[PaymentView], responses=ERRORS, tags=["payments"])
def list_payments(
    ctx: Ctx,
    caller: Signer,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[PaymentView]:
    """The organization's documents the bank holds, newest first."""
    received = _desk(ctx).received(caller.actor, since=since, until=until, limit=limit)
    return [
        PaymentView(
            number=p.number,
            date=p.date,
            amount=str(p.order.amount),
            payer_account=p.payer_account,
            payee_name=p.order.payee.name,
            content_hash=p.content_hash,
            status="accepted" if p.state is PaymentState.ACCEPTED else "awaiting_second",
            status_text=STATE_TEXT[p.state],
            received_at=p.received_at,
            accepted_at=p.accepted_at,
            signatures=[
                SignatureView(
                    signer_name=s.signer_name,
                    certificate_serial=s.certificate_serial,
                    signing_right=_RIGHTS[s.signing_right],
                    signing_time=s.signing_time,
                )
                for s in p.signatures
            ],
        )
        for p in received
    ]


@router.get(
    "/payments/export",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {EXCHANGE_MEDIA_TYPE: {}}}},
    tags=["payments"],
)
def export_payments(ctx: Ctx, caller: Signer, since: Since = None, until: Until = None) -> Response:
    """The documents with the bank's statuses as a 1CClientBankExchange file (Windows-1251)."""
    data = _desk(ctx).export(caller.actor, since=since, until=until, sender=ctx.settings.bank_name)
    return Response(
        data,
        media_type=EXCHANGE_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="kl_to_1c.txt"'},
    )
