"""Payments end to end: the server tests' running bank (tests/server/server_support.py) plus
keys, certificates, orders and signed batches for the demo organization ООО «Ромашка».

Keys are software keys (GOST 2012-256 when the core is built); certificates come from the
running bank's own CA (``ctx.workflow.ca``) and are recorded through the bank core, exactly as
certificates issued by the bank's previous system are imported.
"""

from __future__ import annotations

import base64
import secrets
import sys
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent
for folder in ("server", "payments"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

from payments_samples import (  # noqa: E402
    GPB_BIC,
    GPB_CORR,
    PAYEE_ACCOUNT,
    PAYEE_INN,
    SBER_BIC,
    SBER_CORR,
    make_account,
    make_inn10,
)
from server_support import (  # noqa: E402
    Console,
    RunningServer,
    ServerFactory,
    b64,
    db_kind,
    director_token,
    renewal_submission,
    server,
    server_factory,
    templates,
)

from bankkeys.bank.ca import IssuanceOrder  # noqa: E402
from bankkeys.bank.store.models import Organization, Signer  # noqa: E402
from bankkeys.bank.workflow import Actor, Role  # noqa: E402
from bankkeys.payments import Party, PaymentOrder, canonical_bytes  # noqa: E402
from bankkeys.pki.certificates import Certificate, parse_certificate  # noqa: E402
from bankkeys.pki.cms import sign_cms  # noqa: E402
from bankkeys.pki.names import Name  # noqa: E402
from bankkeys.pki.signer import Signer as KeySigner  # noqa: E402
from bankkeys.pki.software import SoftwareSigner  # noqa: E402
from bankkeys.server import bootstrap  # noqa: E402

__all__ = [
    "Console",
    "RunningServer",
    "ServerFactory",
    "db_kind",
    "server",
    "server_factory",
    "templates",
]

ORG_INN = bootstrap.ORGANIZATION["inn"]
ORG_ACCOUNT = make_account("40702810", "38000077777", SBER_BIC)
OTHER_ACCOUNT = make_account("40702810", "38000088888", SBER_BIC)
OPERATOR = Actor.operator("operator")
OFFICER = Actor.security_officer("officer")


@dataclass(frozen=True)
class KeyHolder:
    """A signer's key and the bank-issued certificate that names it."""

    signer_id: int
    key: KeySigner
    certificate: Certificate

    @property
    def serial(self) -> str:
        return format(self.certificate.serial, "x")


def order(
    number: str,
    *,
    amount_kopecks: int = 150_000,
    payer_inn: str = ORG_INN,
    payer_account: str = ORG_ACCOUNT,
    on: date | None = None,
    purpose: str = "Оплата по счету № 12 за канцелярские товары. НДС не облагается",
) -> PaymentOrder:
    payer = Party(
        name=bootstrap.ORGANIZATION["name"],
        inn=payer_inn,
        kpp=bootstrap.ORGANIZATION["kpp"],
        account=payer_account,
        bank_name="ПАО Сбербанк",
        bank_city="г. Москва",
        bic=SBER_BIC,
        correspondent_account=SBER_CORR,
    )
    payee = Party(
        name='ООО "Лютик"',
        inn=PAYEE_INN,
        kpp="500901001",
        account=PAYEE_ACCOUNT,
        bank_name="Банк ГПБ (АО)",
        bank_city="г. Москва",
        bic=GPB_BIC,
        correspondent_account=GPB_CORR,
    )
    return PaymentOrder(
        number=number,
        date=on or date(2026, 11, 20),
        amount_kopecks=amount_kopecks,
        payer=payer,
        payee=payee,
        purpose=purpose,
        priority=5,
        payment_kind="электронно",
    )


def signed_item(
    running: RunningServer,
    payment: PaymentOrder | bytes,
    holder: KeyHolder,
    *,
    signing_time: datetime | None = None,
) -> dict[str, str]:
    """One batch item signed now by the bank's (test) clock, or at ``signing_time``."""
    document = payment if isinstance(payment, bytes) else canonical_bytes(payment)
    at = signing_time or running.clock()
    cms = sign_cms(document, holder.key, holder.certificate, signing_time=at)
    return {"document": b64(document), "signature": b64(cms), "certificate_serial": holder.serial}


def post(running: RunningServer, login: str, items: list[dict[str, str]]) -> dict[str, Any]:
    with running.as_user(login) as c:
        r = c.post("/api/v1/payments", json={"documents": items})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert [x["position"] for x in body["results"]] == list(range(1, len(items) + 1))
    return body


def signer_id_of(running: RunningServer, login: str) -> int:
    from sqlalchemy import select

    with running.ctx.db.transaction() as session:
        found = session.execute(select(Signer.id).where(Signer.login == login)).scalar_one()
    return int(found)


def organization_id(running: RunningServer, inn: str = ORG_INN) -> int:
    from sqlalchemy import select

    with running.ctx.db.transaction() as session:
        return int(
            session.execute(select(Organization.id).where(Organization.inn == inn)).scalar_one()
        )


def director(running: RunningServer) -> KeyHolder:
    """The demo director's key on the demo software token and its imported certificate."""
    token = director_token(running)
    (key_info,) = token.key_pairs()
    (cert_info,) = token.certificates()
    return KeyHolder(
        signer_id_of(running, "director"),
        token.signer(key_info.id),
        parse_certificate(cert_info.der),
    )


def issue(
    running: RunningServer,
    signer_id: int,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> KeyHolder:
    """A new key for ``signer_id`` and a certificate from the bank's CA, recorded by the bank."""
    ca = running.ctx.workflow.ca
    assert ca is not None, "the running bank has no CA"
    key = SoftwareSigner.generate(bootstrap.key_spec())
    now = running.clock().replace(microsecond=0)
    start = not_before or now - timedelta(days=30)
    end = not_after or now + timedelta(days=300)
    serial = secrets.randbits(120) | (1 << 119)
    subject = Name(common_name=f"Подписант {signer_id}", surname="Тестов", country="RU")
    der = ca.issue(IssuanceOrder(serial, subject, key.public_key_info, start, end))
    running.ctx.workflow.import_certificate(
        OFFICER, signer_id, serial=serial, der=der, public_key_info=key.public_key_info,
        not_before=start, not_after=end,
    )  # fmt: skip
    return KeyHolder(signer_id, key, parse_certificate(der))


def add_signer(running: RunningServer, login: str, *, org_id: int | None = None) -> int:
    """A registered signer with a client account (password and TOTP of the demo)."""
    wf = running.ctx.workflow
    registered = wf.register_signer(
        OPERATOR, org_id or organization_id(running), login=login, surname="Кузнецова",
        given_name="Мария Ивановна", position="Главный бухгалтер", snils=_snils(),
        email=f"{login}@example.org", phone="+7 495 000-00-00", acting_on="Доверенности",
    )  # fmt: skip
    running.ctx.auth.create_account(
        login=login, password=bootstrap.DEMO_PASSWORD, role=Role.CLIENT_SIGNER,
        display_name=login, signer_id=registered.signer_id, totp_secret=bootstrap.DEMO_TOTP_SEED,
    )  # fmt: skip
    return registered.signer_id


def add_organization(running: RunningServer) -> tuple[int, str]:
    inn = make_inn10(f"77{secrets.randbelow(10**7):07d}")
    org_id = running.ctx.workflow.register_organization(
        OPERATOR, name="ООО «Василёк»", inn=inn, ogrn="1027700132195",
        address="г. Москва, ул. Садовая, д. 2", kpp="770701001",
    )  # fmt: skip
    return org_id, inn


def _snils() -> str:
    nine = f"{secrets.randbelow(10**9 - 10**8) + 10**8:09d}"
    total = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    control = total % 101 if total > 101 else total
    return nine + f"{0 if control in (100, 101) else control:02d}"


def renew_director(running: RunningServer) -> KeyHolder:
    """The director's planned renewal over the API: request signed with the old key, operator
    approval in the console, certificate downloaded, installation confirmed."""
    signer_id = signer_id_of(running, "director")
    with running.as_user("director") as c:
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        key, submission = renewal_submission(running, fields)
        r = c.post(f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
    operator = Console(running, "operator")
    assert operator.receive_documents(rid).status_code in (200, 303)
    assert operator.approve(rid).status_code in (200, 303)
    operator.close()
    with running.as_user("director") as c:
        r = c.get(f"/api/v1/requests/{rid}/certificate")
        assert r.status_code == 200, r.text
        der = base64.b64decode(r.json()["certificate"])
        assert c.post(f"/api/v1/requests/{rid}/confirm-installation").status_code == 200
    return KeyHolder(signer_id, key, parse_certificate(der))


def with_payer(payment: PaymentOrder, **changes: str) -> PaymentOrder:
    return replace(payment, payer=replace(payment.payer, **changes))
