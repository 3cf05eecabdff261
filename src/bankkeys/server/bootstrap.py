"""First start: the CA and demo data in an empty database, and the credentials to print.

Demo data (DESIGN.md, issue 6): one organization; a director whose certificate (imported, as from
the bank's previous system) is in the renewal window, with its key in a software key container
under ``var/demo/``; an accountant who needs initial generation (activation code); two operators
(four eyes needs two), a security officer and an administrator. Every demo account shares one
fixed TOTP seed, printed with the credentials.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bankkeys.bank.ca import BankCA, IssuanceOrder, create_ca_key, init_ca
from bankkeys.bank.store.models import ActivationCode, CaRecord, Organization
from bankkeys.bank.workflow import Actor, Role
from bankkeys.pki.names import Name
from bankkeys.pki.signer import KeySpec
from bankkeys.server.accounts import provision_account
from bankkeys.server.context import ServerContext, open_bank_ca
from bankkeys.server.store.models import Account
from bankkeys.tokens import SoftwareContainer
from bankkeys.tokens.setup import replace_factory_pins

DEMO_TOTP_SEED = "BANKKEYSDEMOTOTPSEEDAAAA"  # base32; for demo accounts only
DEMO_PASSWORD = "Demo-Password-2026"  # noqa: S105 - printed demo credentials
DEMO_TOKEN_PIN = "Demo-Pin-2026!"  # noqa: S105
DEMO_TOKEN_ADMIN_PIN = "Demo-Admin-2026!"  # noqa: S105
CREDENTIALS_FILE = "demo-credentials.txt"

ORGANIZATION = {
    "name": "ООО «Ромашка»",
    "inn": "7707083893",
    "kpp": "770701001",
    "ogrn": "1027700132195",
    "address": "г. Москва, ул. Тверская, д. 1",
}
STAFF = (
    ("operator", Role.OPERATOR, "Оператор Банка Первый"),
    ("operator2", Role.OPERATOR, "Оператор Банка Второй"),
    ("officer", Role.SECURITY_OFFICER, "Офицер Безопасности"),
    ("admin", Role.ADMINISTRATOR, "Администратор УЦ"),
)
SETUP = Actor.administrator("bootstrap")
SETUP_OPERATOR = Actor.operator("bootstrap")
SETUP_OFFICER = Actor.security_officer("bootstrap")


def key_spec() -> KeySpec:
    """GOST R 34.10-2012 (256) when the GOST core is built, else ECDSA P-256."""
    if importlib.util.find_spec("bankkeys.gost.gost3410") is not None:
        return KeySpec("gost2012-256", "tc26-256-A")
    return KeySpec("ecdsa-p256", "P-256")


def _strong_pin() -> str:
    # Satisfies the token PIN policy (upper, lower, digit, special) with 96 random bits.
    return secrets.token_urlsafe(12) + "Aa1!"


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def ensure_ca(ctx: ServerContext) -> BankCA:
    """Create the CA (key in a software container under var/, PIN in var/ca-pin) if there is
    none; open it into the workflow."""
    with ctx.db.transaction() as session:
        exists = session.execute(select(CaRecord.id)).first() is not None
    if not exists:
        settings = ctx.settings
        pin = settings.ca_pin or _strong_pin()
        if not settings.ca_pin:
            _write_secret(settings.resolved_ca_pin_file, pin + "\n")
        signer, ref = create_ca_key(
            spec=key_spec(), pin=pin, admin_pin=_strong_pin(), container=settings.ca_container
        )
        subject = Name(
            common_name=f"УЦ {settings.bank_name}",
            organization=settings.bank_name,
            country="RU",
            innle=settings.bank_inn,
        )
        init_ca(ctx.db, SETUP.login, signer=signer, subject=subject, key_ref=ref, now=ctx.clock())
    ca = open_bank_ca(ctx.db, ctx.settings)
    if ca is None:
        raise RuntimeError("the CA exists but its key could not be opened (PIN?)")
    ctx.workflow.ca = ca
    return ca


def has_accounts(ctx: ServerContext) -> bool:
    with ctx.db.transaction() as session:
        return session.execute(select(Account.id).limit(1)).first() is not None


def _snils(nine: str) -> str:
    total = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    control = total % 101 if total > 101 else total
    return nine + f"{0 if control in (100, 101) else control:02d}"


def create_demo(ctx: ServerContext) -> str:
    """Demo organization, signers and staff in an empty database; returns the credentials text
    (also written, mode 0600, to var/demo-credentials.txt)."""
    ca = ensure_ca(ctx)
    wf = ctx.workflow
    now = ctx.clock()
    with ctx.db.transaction() as session:
        org = session.execute(
            select(Organization).where(Organization.inn == ORGANIZATION["inn"])
        ).scalar_one_or_none()
        org_id = org.id if org else None
    if org_id is None:
        org_id = wf.register_organization(SETUP_OPERATOR, **ORGANIZATION)
    director = wf.register_signer(
        SETUP_OPERATOR, org_id, login="director", surname="Петров",
        given_name="Пётр Петрович", position="Генеральный директор",
        snils=_snils("112233445"), email="director@romashka.example",
        phone="+7 495 123-45-67", acting_on="Устава",
    )  # fmt: skip
    accountant = wf.register_signer(
        SETUP_OPERATOR, org_id, login="accountant", surname="Сидорова",
        given_name="Анна Сергеевна", position="Главный бухгалтер",
        snils=_snils("223344556"), email="accountant@romashka.example",
        phone="+7 495 123-45-68", acting_on="Доверенности № 7 от 15.01.2026",
    )  # fmt: skip
    token_dir = ctx.settings.var_dir / "demo" / "director-token"
    _director_certificate(ctx, ca, director.signer_id, token_dir, now)
    # The director came with a key from the previous system: the code from registration must not
    # stay usable (the workflow has no "withdraw" transition of its own yet).
    with ctx.db.transaction() as session:
        session.execute(
            update(ActivationCode)
            .where(
                ActivationCode.signer_id == director.signer_id,
                ActivationCode.used_at.is_(None),
            )
            .values(withdrawn_at=now)
        )
    for login, signer_id, name in (
        ("director", director.signer_id, "Петров Пётр Петрович"),
        ("accountant", accountant.signer_id, "Сидорова Анна Сергеевна"),
    ):
        ctx.auth.create_account(
            login=login, password=DEMO_PASSWORD, role=Role.CLIENT_SIGNER,
            display_name=name, signer_id=signer_id, totp_secret=DEMO_TOTP_SEED,
        )  # fmt: skip
    for login, role, name in STAFF:
        ctx.auth.create_account(
            login=login, password=DEMO_PASSWORD, role=role, display_name=name,
            totp_secret=DEMO_TOTP_SEED,
        )  # fmt: skip
    text = credentials_text(
        ctx,
        accountant_code=accountant.activation_code,
        token_dir=token_dir,
    )
    _write_secret(ctx.settings.var_dir / CREDENTIALS_FILE, text)
    return text


def _director_certificate(
    ctx: ServerContext, ca: BankCA, signer_id: int, token_dir: Path, now: datetime
) -> None:
    """The director's key on a software token and a certificate from "the previous system",
    20 days before expiry: inside the 30-day renewal window."""
    token = SoftwareContainer.create(token_dir, "Петров П. П.")
    replace_factory_pins(token, token.policy, DEMO_TOKEN_PIN, DEMO_TOKEN_ADMIN_PIN)
    token.login(DEMO_TOKEN_PIN)
    key = token.generate_key(key_spec(), "director")
    signer = token.signer(key.id)
    not_after = (now + timedelta(days=20)).replace(microsecond=0)
    not_before = not_after - timedelta(days=365)
    serial = secrets.randbits(127) | (1 << 126)
    subject = Name(
        common_name=ORGANIZATION["name"], organization=ORGANIZATION["name"],
        surname="Петров", given_name="Пётр Петрович", title="Генеральный директор",
        country="RU", innle=ORGANIZATION["inn"], ogrn=ORGANIZATION["ogrn"],
        snils=_snils("112233445"), email="director@romashka.example",
    )  # fmt: skip
    der = ca.issue(IssuanceOrder(serial, subject, signer.public_key_info, not_before, not_after))
    token.import_certificate(der, "director", key.id)
    ctx.workflow.import_certificate(
        SETUP_OFFICER, signer_id, serial=serial, der=der,
        public_key_info=signer.public_key_info, not_before=not_before, not_after=not_after,
    )  # fmt: skip


def credentials_text(ctx: ServerContext, *, accountant_code: str, token_dir: Path) -> str:
    url = ctx.settings.resolved_public_url
    lines = [
        "Демо-данные bankkeys (только для демонстрации!)",
        f"  Консоль оператора:  {url}/console/",
        f"  API клиента:        {url}/api/v1  (описание: {url}/api/docs)",
        f"  Сертификат УЦ:      {url}/ca/ca.cer     СОС: {url}/ca/crl.crl",
        "",
        f"  Пароль всех демо-учётных записей: {DEMO_PASSWORD}",
        f"  Второй фактор (TOTP, RFC 6238): общий демо-секрет {DEMO_TOTP_SEED}",
        f"    otpauth://totp/bankkeys-demo?secret={DEMO_TOTP_SEED}&issuer=bankkeys",
        "",
        "  Клиенты (ООО «Ромашка»):",
        "    director   — Петров П. П., Генеральный директор: сертификат истекает через 20 дней",
        "                 («Необходима плановая замена сертификата»)",
        f"                 ключ: программный носитель {token_dir}",
        f"                 ПИН-код пользователя {DEMO_TOKEN_PIN}, администратора "
        f"{DEMO_TOKEN_ADMIN_PIN}",
        "    accountant — Сидорова А. С., Главный бухгалтер: «Необходима начальная генерация»",
        f"                 код активации: {accountant_code}",
        "",
        "  Сотрудники банка:",
        "    operator, operator2 — операторы;  officer — офицер безопасности;",
        "    admin — администратор",
    ]
    return "\n".join(lines) + "\n"


def saved_credentials(ctx: ServerContext) -> str | None:
    path = ctx.settings.var_dir / CREDENTIALS_FILE
    return path.read_text(encoding="utf-8") if path.is_file() else None


def prepare(ctx: ServerContext, *, demo: bool) -> str | None:
    """On start: with ``demo`` and an empty database, create everything and return the
    credentials; with demo data present, return the saved credentials; else ensure the CA is
    open if it exists."""
    if demo:
        if not has_accounts(ctx):
            return create_demo(ctx)
        ensure_ca(ctx)
        return saved_credentials(ctx)
    if not has_accounts(ctx):
        # A production first start: one administrator, who creates everyone else.
        admin = provision_account(ctx, "admin", Role.ADMINISTRATOR, "Администратор")
        return (
            "Первый запуск: создана учётная запись администратора (показывается один раз)\n"
            f"  логин: {admin['login']}\n  пароль: {admin['password']}\n"
            f"  секрет одноразовых кодов (TOTP): {admin['totp_secret']}\n"
        )
    return None
