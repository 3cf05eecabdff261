"""Fixtures of the client tests: a real bank server (uvicorn on a free port, SQLite or
PostgreSQL) with its CA, signers and TOTP; client homes; tokens (software containers with
Rutoken-style serials, SoftHSM2 slots). Imported by the test modules (fixtures by name)."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
import types
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import uvicorn
from typer.testing import CliRunner, Result

import bankkeys.tokens.container as container_module
from bankkeys.bank.ca import BankCA, IssuanceOrder, init_ca
from bankkeys.bank.policy import RenewalPathName
from bankkeys.bank.workflow import Actor, DocumentKind, Role
from bankkeys.cli import app as bankkeys_app
from bankkeys.client import cli as client_cli
from bankkeys.pki.names import Name
from bankkeys.server.app import create_app
from bankkeys.server.bootstrap import ensure_ca, key_spec
from bankkeys.server.config import Settings
from bankkeys.server.context import ServerContext, build_context
from bankkeys.tokens import KdfParams, SoftwareContainer, Token
from bankkeys.tokens.setup import replace_factory_pins
from conftest import missing

FAST_KDF = KdfParams(time_cost=1, memory_cost_kib=256, parallelism=1)
USER_PIN = "Rabota-2026!"
ADMIN_PIN = "Admin#Strong9"
NEW_USER_PIN = "Novyi-Pin-2026!"
NEW_ADMIN_PIN = "Novyi-Admin-2026#"
PASSWORD = "Client-Password-2026"
OPERATOR = Actor.operator("operator-test")
OFFICER = Actor.security_officer("officer-test")
ORG = {
    "name": "ООО «Ромашка»",
    "inn": "7707083893",
    "kpp": "770701001",
    "ogrn": "1027700132195",
    "address": "г. Москва, ул. Тверская, д. 1",
}


def _snils(nine: str) -> str:
    total = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    control = total % 101 if total > 101 else total
    return nine + f"{0 if control in (100, 101) else control:02d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ThreadServer:
    """uvicorn in a thread; stop() and start() again on the same port (the bank "goes away")."""

    def __init__(self, app: Any, port: int) -> None:
        self.app, self.port = app, port
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=20)
            self.server = None


@dataclass
class Person:
    signer_id: int
    login: str
    totp_secret: str
    activation_code: str
    surname: str
    last_step: int = 0

    def code(self) -> str:
        """A TOTP code for a step not used yet (the bank accepts each step once, ±1 drift).

        The current or the next step, never the previous one: a code of the previous step may
        fall out of the bank's window while a loaded machine gets from typing to checking."""
        while True:
            current = int(time.time()) // 30
            step = max(self.last_step + 1, current)
            if step <= current + 1:
                self.last_step = step
                return pyotp.TOTP(self.totp_secret).generate_otp(step)
            time.sleep(1)


@dataclass
class Bank:
    ctx: ServerContext
    ca: BankCA
    server: ThreadServer
    org_id: int
    people: list[Person] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def add_signer(self, login: str, surname: str, nine: str) -> Person:
        wf = self.ctx.workflow
        reg = wf.register_signer(
            OPERATOR, self.org_id, login=login, surname=surname, given_name="Пётр Петрович",
            position="Генеральный директор", snils=_snils(nine),
            email=f"{login}@romashka.example", phone="+7 495 123-45-67", acting_on="Устава",
        )  # fmt: skip
        secret = pyotp.random_base32()
        self.ctx.auth.create_account(
            login=login, password=PASSWORD, role=Role.CLIENT_SIGNER,
            display_name=surname, signer_id=reg.signer_id, totp_secret=secret,
        )  # fmt: skip
        person = Person(reg.signer_id, login, secret, reg.activation_code, surname)
        self.people.append(person)
        return person

    def subject(self, person: Person) -> Name:
        with self.ctx.db.transaction() as session:
            from bankkeys.bank.store.models import Signer

            s = session.get(Signer, person.signer_id)
            assert s is not None
            return Name(
                common_name=ORG["name"], organization=ORG["name"], surname=s.surname,
                given_name=s.given_name, title=s.position, country="RU", innle=ORG["inn"],
                ogrn=ORG["ogrn"], snils=s.snils, email=s.email,
            )  # fmt: skip

    def issue_current(self, person: Person, token: Token, days_left: int = 20) -> str:
        """A current key and certificate "from the previous system", ``days_left`` before expiry;
        ``token`` is logged in."""
        key = token.generate_key(key_spec_for(token), "old key")
        now = datetime.now(UTC)
        not_after = (now + timedelta(days=days_left)).replace(microsecond=0)
        not_before = not_after - timedelta(days=365)
        serial = secrets.randbits(127) | (1 << 126)
        order = IssuanceOrder(
            serial, self.subject(person), key.public_key_info, not_before, not_after
        )
        der = self.ca.issue(order)
        token.import_certificate(der, "old certificate", key.id)
        self.ctx.workflow.import_certificate(
            OFFICER, person.signer_id, serial=serial, der=der,
            public_key_info=key.public_key_info, not_before=not_before, not_after=not_after,
        )  # fmt: skip
        return format(serial, "x")

    def open_request(self, person: Person) -> int:
        status = self.ctx.workflow.status(person.signer_id)
        assert status.request_id is not None, status
        return status.request_id

    def approve(self, person: Person) -> None:
        """The operator registers the paper documents (if the path needs them) and approves."""
        wf = self.ctx.workflow
        request_id = self.open_request(person)
        req = wf.request(request_id)
        if req.path != str(RenewalPathName.REMOTE_SIGNED_ACT):
            wf.receive_documents(
                OPERATOR,
                request_id,
                [DocumentKind.ACCEPTANCE_ACT, DocumentKind.CERTIFICATE_APPLICATION],
            )
        wf.approve(OPERATOR, request_id)

    def status_text(self, person: Person) -> str:
        return self.ctx.workflow.status(person.signer_id).text


def key_spec_for(token: Token) -> Any:
    from bankkeys.pki.signer import KeySpec

    return key_spec() if isinstance(token, SoftwareContainer) else KeySpec("ecdsa-p256", "P-256")


def fast_ca(ctx: ServerContext) -> BankCA:
    """The bank's CA as ``ensure_ca`` makes it, but its key container with cheap Argon2id."""
    settings = ctx.settings
    token = SoftwareContainer.create(settings.ca_container, "bank-ca", kdf=FAST_KDF)
    replace_factory_pins(token, token.policy, settings.ca_pin, "Ca-Admin-2026!Strong")
    token.login(settings.ca_pin)
    key = token.generate_key(key_spec(), "bank-ca")
    ref = {
        "backend": "container",
        "path": str(settings.ca_container.resolve()),
        "key_id": key.id.hex(),
    }
    subject = Name(common_name=f"УЦ {settings.bank_name}", organization=settings.bank_name,
                   country="RU", innle=settings.bank_inn)  # fmt: skip
    init_ca(ctx.db, "bootstrap", signer=token.signer(key.id), subject=subject, key_ref=ref,
            now=ctx.clock())  # fmt: skip
    return ensure_ca(ctx)


def make_bank(tmp: Path, database_url: str = "", **policy: Any) -> Bank:
    settings = Settings(
        var_dir=tmp, database_url=database_url, ca_pin="Ca-Pin-2026!Strong", **policy
    )
    ctx = build_context(settings)
    ca = fast_ca(ctx)
    port = free_port()
    settings = Settings(
        var_dir=tmp, database_url=database_url, ca_pin="Ca-Pin-2026!Strong",
        port=port, **policy,
    )  # fmt: skip
    ctx.settings = settings
    app = create_app(settings, context=ctx, run_scheduler=False)
    server = ThreadServer(app, port)
    server.start()
    org_id = ctx.workflow.register_organization(OPERATOR, **ORG)
    return Bank(ctx, ca, server, org_id)


@pytest.fixture(name="bank")
def bank_fixture(tmp_path: Path) -> Iterator[Bank]:
    made = make_bank(tmp_path / f"bank-{uuid.uuid4().hex[:6]}")
    yield made
    made.server.stop()
    made.ctx.dispose()


@pytest.fixture(name="remote_bank")
def remote_bank_fixture(tmp_path: Path) -> Iterator[Bank]:
    made = make_bank(tmp_path / f"bank-{uuid.uuid4().hex[:6]}", renewal_path="remote-signed-act")
    yield made
    made.server.stop()
    made.ctx.dispose()


def container_with_serial(folder: Path, serial: str, label: str) -> SoftwareContainer:
    """A software container with a Rutoken-style serial (SoftwareContainer.create picks a random
    one; the serial is bound into its encryption, so it is chosen at creation)."""
    fake = types.SimpleNamespace(token_hex=lambda n: serial, token_bytes=secrets.token_bytes)
    original = container_module.secrets
    container_module.secrets = fake  # type: ignore[assignment]
    try:
        return SoftwareContainer.create(folder, label, kdf=FAST_KDF)
    finally:
        container_module.secrets = original


def ready_container(folder: Path, serial: str, label: str = "Ключи") -> SoftwareContainer:
    """A container whose factory PINs were replaced, logged in."""
    token = container_with_serial(folder, serial, label)
    replace_factory_pins(token, token.policy, USER_PIN, ADMIN_PIN)
    token.login(USER_PIN)
    return token


class Cli:
    """``bankkeys client …`` through Typer's CliRunner with this test's client home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()
        client_cli.console.width = 400  # whole table cells in the captured output

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        result = self.runner.invoke(
            bankkeys_app,
            ["client", *args, "--home", str(self.home)],
            input=input,
            env={"COLUMNS": "400"},
        )
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"bankkeys client {' '.join(args)} failed ({result.exit_code}):\n{result.output}"
                + (f"\n{result.exception!r}" if result.exception else "")
            )
        return result

    def sign_in(self, bank: Bank, person: Person) -> Result:
        self("connect", bank.url)
        return self("login", "--login", person.login, input=f"{PASSWORD}\n{person.code()}\n")


@pytest.fixture(name="cli")
def cli_fixture(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "client-home")


def default_pins_input() -> str:
    return f"{NEW_USER_PIN}\n{NEW_USER_PIN}\n{NEW_ADMIN_PIN}\n{NEW_ADMIN_PIN}\n"


PG_ADMIN_URL = os.environ.get(
    "BANKKEYS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(name="any_bank", params=["sqlite", "postgresql"])
def any_bank_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bank]:
    """The bank on SQLite and, once, on PostgreSQL (a fresh database, dropped afterwards)."""
    if request.param == "sqlite":
        made = make_bank(tmp_path / "bank-sqlite")
        yield made
        made.server.stop()
        made.ctx.dispose()
        return
    import psycopg

    name = f"bankkeys_client_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    made = make_bank(tmp_path / "bank-pg", database_url=url)
    try:
        yield made
    finally:
        made.server.stop()
        made.ctx.dispose()
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
