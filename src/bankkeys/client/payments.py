"""Payment orders on the client's workstation: read the accountant's file, sign each order on the
token, send the signed orders to the bank in batches, and read back the bank's verdicts.

The file (1CClientBankExchange or the JSON form) is checked as a whole first: a file that does
not decode, is cut short, or is not a payment file is refused with the reason and *nothing* is
signed or sent. Documents that fail the bank's field checks are shown with their errors; they
are never signed (``pay`` refuses the file unless told to send only the good ones).

Each order is signed on its own — CMS SignedData, detached, over the canonical bytes
(:func:`bankkeys.payments.canonical_bytes`) — with the signer's current key and certificate
found on a present token, so the bank can accept or refuse each document separately.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bankkeys.client import pins, rekey
from bankkeys.client.errors import BankRefused, ClientError, TokenNeeded, WizardError
from bankkeys.client.service import ClientService
from bankkeys.payments import (
    DocumentStatus,
    ExportEntry,
    ImportedDocument,
    PaymentOrder,
    PaymentsError,
    Verdict,
    canonical_bytes,
    import_orders,
    write_exchange,
)
from bankkeys.pki.cms import sign_cms

API: Final = "/api/v1"
BATCH_SIZE: Final = 200  # ~0.5 MiB of JSON: well under the bank's request size limit
STATUS_TEXT: Final = {
    "accepted": "Принят банком",
    "awaiting_second": "Ожидает второй подписи",
    "refused": "Отклонён",
}


class PaymentFileRefused(ClientError):
    """The whole file is refused (encoding, truncation, structure); nothing was signed or sent."""


# --- reading the file -------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFile:
    """The documents of one file, each with its order or its errors."""

    documents: tuple[ImportedDocument, ...]

    @property
    def orders(self) -> list[PaymentOrder]:
        return [d.order for d in self.documents if d.order is not None]

    @property
    def invalid(self) -> list[ImportedDocument]:
        return [d for d in self.documents if d.order is None]

    @property
    def total_kopecks(self) -> int:
        return sum(o.amount_kopecks for o in self.orders)


def read_payment_file(data: bytes) -> PaymentFile:
    """Read a 1C or JSON payment file; raises :class:`PaymentFileRefused` for the whole file."""
    if not data.strip():
        raise PaymentFileRefused("Файл пуст: платежных поручений нет. Ничего не отправлено")
    try:
        documents = import_orders(data)
    except PaymentsError as exc:
        raise PaymentFileRefused(f"Файл не принят, ничего не отправлено: {exc}") from None
    if not documents:
        raise PaymentFileRefused("В файле нет платежных поручений. Ничего не отправлено")
    return PaymentFile(documents)


# --- signing and sending ----------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """Where the signer's current key is: the present token and the certificate's serial."""

    signer_id: int
    token_serial: str
    token_title: str
    certificate_serial: str


@dataclass(frozen=True)
class SignedOrder:
    order: PaymentOrder
    document: bytes
    signature: bytes
    certificate_serial: str


class _Result(BaseModel):
    model_config = ConfigDict(extra="ignore")
    position: int
    number: str
    status: Literal["accepted", "awaiting_second", "refused"]
    reason: str


class _BatchAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    results: list[_Result]
    retired_certificates: list[str]


@dataclass(frozen=True)
class PaymentResult:
    """The bank's verdict on one sent order."""

    order: PaymentOrder
    status: Literal["accepted", "awaiting_second", "refused"]
    reason: str

    @property
    def text(self) -> str:
        return STATUS_TEXT[self.status] + (f": {self.reason}" if self.reason else "")

    @property
    def document_status(self) -> DocumentStatus | None:
        if self.status == "accepted":
            return DocumentStatus(Verdict.ACCEPTED)
        if self.status == "refused":
            return DocumentStatus(Verdict.REFUSED, self.reason)
        return None


@dataclass(frozen=True)
class SendOutcome:
    results: tuple[PaymentResult, ...]
    retired_certificates: tuple[str, ...]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _chunks(items: Sequence[SignedOrder], size: int) -> Iterator[Sequence[SignedOrder]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class PaymentClient:
    """Signing and sending on top of :class:`ClientService` (its bank session and tokens)."""

    def __init__(self, service: ClientService) -> None:
        self.service = service

    def signing_key(self, signer_id: int | None = None, bank_id: str | None = None) -> SigningKey:
        """The signer's current certificate and the present token holding its key."""
        overview = self.service.overview(bank_id)
        if signer_id is None:
            if len(overview) != 1:
                raise WizardError("Укажите, чьим ключом подписывать (--signer НОМЕР)")
            state = overview[0]
        else:
            found = [s for s in overview if s.profile.signer_id == signer_id]
            if not found:
                raise WizardError(f"Владелец сертификата № {signer_id} не найден")
            state = found[0]
        current = state.profile.current_certificate
        if current is None:
            raise WizardError("Нет действующего сертификата: подписывать платежи нечем")
        holder = state.progress.current_key_on
        if holder is None:
            raise TokenNeeded(
                "Подключите к компьютеру ключевой носитель с действующим ключом",
                serial=state.binding.token_serial,
            )
        return SigningKey(
            state.profile.signer_id, holder.token.serial, holder.token.title, current.serial
        )

    def sign(
        self,
        orders: Iterable[PaymentOrder],
        key: SigningKey,
        pin: str,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> list[SignedOrder]:
        """Sign every order on the token (one PIN entry); the key never leaves the token."""
        now = clock or self.service.clock
        signed = []
        with self.service.open_token(key.token_serial) as (_present, token):
            pins.login_for_work(token, pin)
            try:
                info, certificate = rekey.find_certificate(token, key.certificate_serial)
                signer = token.signer(info.id)
                for order in orders:
                    document = canonical_bytes(order)
                    signature = sign_cms(document, signer, certificate, signing_time=now())
                    signed.append(SignedOrder(order, document, signature, key.certificate_serial))
            finally:
                token.logout()
        return signed

    def send(
        self,
        signed: Sequence[SignedOrder],
        *,
        batch_size: int = BATCH_SIZE,
        bank_id: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> SendOutcome:
        """Send in batches; one verdict per order, in order. A batch the bank could not take
        (network) raises — the earlier batches' verdicts stand, and resending is harmless: the
        bank answers a document it already holds with its current state."""
        results: list[PaymentResult] = []
        retired: list[str] = []
        with self.service.session(bank_id) as (_chosen, _entry, api):
            for chunk in _chunks(signed, batch_size):
                body = {
                    "documents": [
                        {
                            "document": _b64(s.document),
                            "signature": _b64(s.signature),
                            "certificate_serial": s.certificate_serial,
                        }
                        for s in chunk
                    ]
                }
                response = api.call("POST", f"{API}/payments", json=body)
                answer = _parse(_BatchAnswer, response.json(), response.status_code)
                if len(answer.results) != len(chunk):
                    raise BankRefused(200, "BadAnswer", "Банк ответил не на все документы")
                for item, result in zip(chunk, answer.results, strict=True):
                    results.append(PaymentResult(item.order, result.status, result.reason))
                retired += answer.retired_certificates
                if progress is not None:
                    progress(len(chunk))
        return SendOutcome(tuple(results), tuple(retired))

    def export(self, bank_id: str | None = None, **params: str) -> bytes:
        """The bank's statuses of the organization's documents as a 1C file (Windows-1251)."""
        with self.service.session(bank_id) as (_chosen, _entry, api):
            return api.call("GET", f"{API}/payments/export", params=params).content


def _parse(model: type[_BatchAnswer], value: Any, status: int) -> _BatchAnswer:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise BankRefused(status, "BadAnswer", "Сервер банка прислал непонятный ответ") from exc


def statuses_file(outcome: SendOutcome, created: datetime) -> bytes:
    """The verdicts of a sent file in 1C form (``СтатусБанка``, ``ПричинаОтказа``) for 1C."""
    entries = [ExportEntry.of_order(r.order, r.document_status) for r in outcome.results]
    return write_exchange(entries, created=created)
