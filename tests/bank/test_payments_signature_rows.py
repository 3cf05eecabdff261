"""The signature rows a batch stores carry the Streebog-256 of each CMS as it arrived (their
unique key): computed by the verifying threads with the documents' signatures (one call per
thread's share, the GIL released), for a batch split between threads and for one that is not."""

from __future__ import annotations

from datetime import date

from bank_support import ORG, Bank, bank, clock, db, db_url, pg_worker_database, sqlite_template
from sqlalchemy import select

from bankkeys.bank.payments import PaymentDesk, PaymentState, SignedPayment
from bankkeys.bank.payments_store import PaymentSignature
from bankkeys.gost.streebog import streebog256
from bankkeys.payments import Party, PaymentOrder, canonical_bytes
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.cms import sign_cms

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]

PAYEE = Party(
    name='ООО "Лютик"', inn="5009876546", kpp="500901001", account="40702810910000000777",
    bank_name="Банк ГПБ (АО)", bank_city="г. Москва", bic="044525823",
    correspondent_account="30101810200000000823",
)  # fmt: skip


def test_pay_rows_signature_hash_is_the_cms_digest(bank: Bank) -> None:
    client = bank.new_client()
    serial = bank.first_key(client)
    assert client.key is not None and client.certificate_der is not None
    certificate = parse_certificate(client.certificate_der)
    payer = Party(
        name=ORG["name"], inn=ORG["inn"], kpp=ORG["kpp"], account="40702810538000077777",
        bank_name="ПАО Сбербанк", bank_city="г. Москва", bic="044525225",
        correspondent_account="30101810400000000225",
    )  # fmt: skip

    def item(number: int) -> SignedPayment:
        document = canonical_bytes(
            PaymentOrder(
                number=str(number),
                date=date(2026, 3, 2),
                amount_kopecks=100 * number,
                payer=payer,
                payee=PAYEE,
                priority=5,
                payment_kind="электронно",
                purpose=f"Оплата по счету № {number}. НДС не облагается",
            )
        )
        signature = sign_cms(document, client.key, certificate, signing_time=bank.clock())
        return SignedPayment(document, signature, serial)

    desk = PaymentDesk(bank.workflow)
    split = [item(n) for n in range(1, 8)]  # shared between the verifying threads
    alone = [item(8)]  # verified by the submitting thread
    for batch in (split, alone):
        result = desk.submit(client.actor, batch)
        assert [v.state for v in result.verdicts] == [PaymentState.ACCEPTED] * len(batch)
    with bank.db.transaction() as session:
        stored = dict(
            session.execute(select(PaymentSignature.signature_hash, PaymentSignature.cms)).all()
        )
    expected = {streebog256(i.signature).hexdigest(): i.signature for i in split + alone}
    assert {h: bytes(c) for h, c in stored.items()} == expected
