"""The journeys' stage: a real bank server (tests/client's ``make_bank``, SQLite or PostgreSQL), the
client's local web UI on its own home, the operator console, and Debian's Chromium driven by
Playwright for both. Screenshots go to ``docs/screenshots/`` when ``BANKKEYS_SCREENSHOTS=docs``
(the guides' pictures; SQLite runs only), else to ``test-artifacts/journeys/``."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
for folder in ("client", "payments"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

from client_support import (  # noqa: E402
    ORG,
    PASSWORD,
    PG_ADMIN_URL,
    USER_PIN,
    Bank,
    Cli,
    Person,
    _snils,
    container_with_serial,
    free_port,
    make_bank,
    ready_container,
)
from payments_samples import encode_file, file_text, ordinary_document, replace  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bankkeys.bank.workflow import Role  # noqa: E402
from bankkeys.client.home import ClientHome  # noqa: E402
from bankkeys.client.service import ClientService  # noqa: E402
from bankkeys.client.web.server import prepare  # noqa: E402
from conftest import missing, screenshot  # noqa: E402

__all__ = [
    "ORG", "USER_PIN", "Bank", "Cli", "Person", "container_with_serial", "free_port",
    "ready_container",
]  # fmt: skip

CHROMIUM = os.environ.get("BANKKEYS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
VIEWPORT = {"width": 1200, "height": 800}
DOCS_SHOTS = ROOT / "docs" / "screenshots"


# --------------------------------------------------------------------------- the bank


@contextlib.contextmanager
def bank_on(kind: str, tmp: Path, **policy: Any) -> Iterator[Bank]:
    """The bank on SQLite, or on a fresh PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        made = make_bank(tmp / "bank-sqlite", **policy)
        try:
            yield made
        finally:
            made.server.stop()
            made.ctx.dispose()
        return
    import psycopg

    name = f"bankkeys_journey_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    made = make_bank(tmp / "bank-pg", database_url=url, **policy)
    try:
        yield made
    finally:
        made.server.stop()
        made.ctx.dispose()
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_operator(bank: Bank, login: str = "operator") -> Person:
    """A bank operator's console account (password and TOTP), as the administrator creates it."""
    import pyotp

    secret = pyotp.random_base32()
    bank.ctx.auth.create_account(
        login=login, password=PASSWORD, role=Role.OPERATOR,
        display_name="Оператор Банка", totp_secret=secret,
    )  # fmt: skip
    return Person(0, login, secret, "", "Оператор")


# --------------------------------------------------------------------------- the client UI


class Ui:
    """``bankkeys client ui`` in a thread, on the client's home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.secret, self.url, self.server = prepare(ClientService(ClientHome(home)), 0)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the UI did not start"
            time.sleep(0.02)
        self.base = self.url.split("/launch")[0]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@contextlib.contextmanager
def client_ui(home: Path) -> Iterator[Ui]:
    ui = Ui(home)
    try:
        yield ui
    finally:
        ui.stop()


# --------------------------------------------------------------------------- the browser


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        missing(f"Debian's Chromium not installed ({CHROMIUM})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright (Python) not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Shots:
    """Numbered screenshots of one page: the guides' pictures or a test's artifacts."""

    def __init__(self, page: Any, journey: str, for_docs: bool, test: str) -> None:
        self.page, self.journey, self.n = page, journey, 0
        if for_docs and os.environ.get("BANKKEYS_SCREENSHOTS") == "docs":
            self.folder = DOCS_SHOTS
        else:
            self.folder = ROOT / "test-artifacts" / "journeys" / re.sub(r"[^\w.-]", "_", test)
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = ROOT / "test-artifacts" / ".gitignore"
        if ignore.parent.is_dir() and not ignore.exists():
            ignore.write_text("*\n")

    def __call__(self, name: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.journey}-{self.n:02d}-{name}.png"
        screenshot(self.page, path)
        return path


def new_page(browser: Any, shots: tuple[str, bool, str]) -> Any:
    context = browser.new_context(locale="ru-RU", viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.shots = Shots(page, *shots)
    return page


# --------------------------------------------------------------------------- steps


def client_sign_in(page: Any, ui: Ui, bank: Bank, person: Person, *, shots: bool = True) -> None:
    """Connect the workstation to the bank, sign in with password and one-time code."""
    page.goto(ui.url)
    page.fill("#url", bank.url)
    page.click("#connect")
    assert "подключён" in page.content(), page.inner_text("body")
    if shots:
        page.shots("connected")
    page.click("#to-login")
    page.fill("#login", person.login)
    page.fill("#password", PASSWORD)
    if shots:
        page.shots("login")
    page.click("#sign-in")
    page.fill("#code", person.code())
    if shots:
        page.shots("second-factor")
    page.click("#confirm-code")
    page.wait_for_selector("#profiles, #error")
    assert page.locator("#profiles").count() == 1, page.inner_text("body")


def console_sign_in(page: Any, bank: Bank, staff: Person, *, shots: bool = False) -> None:
    page.goto(f"{bank.url}/console/login")
    page.fill("input[name=login]", staff.login)
    page.fill("input[name=password]", PASSWORD)
    if shots:
        page.shots("console-login")
    page.click("button[type=submit]")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", staff.code())
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/$"))


def console_register_signer(page: Any, bank: Bank, login: str, surname: str, nine: str) -> Person:
    """Seed 001's first step at the bank: the operator registers the owner on «Клиенты» and
    reads the activation code off the page (shown once); the administrator then makes the
    client's account (done directly here, as in :meth:`Bank.add_signer`)."""
    import pyotp

    from bankkeys.bank.store.models import Signer

    page.goto(f"{bank.url}/console/clients")
    form = "form[action='/console/clients/signers']"
    page.select_option(f"{form} select[name=organization_id]", str(bank.org_id))
    for name, value in (("login", login), ("surname", surname), ("given_name", "Пётр Петрович"),
                        ("position", "Главный бухгалтер"), ("snils", _snils(nine)),
                        ("email", f"{login}@romashka.example"), ("phone", "+7 495 123-45-67"),
                        ("acting_on", "Доверенности № 7 от 01.11.2026")):  # fmt: skip
        page.fill(f"{form} input[name={name}]", value)
    page.click(f"{form} button[type=submit]")
    code = page.inner_text("#created code")
    with bank.ctx.db.reading() as session:
        found = session.execute(select(Signer.id).where(Signer.login == login))
        signer_id = int(found.scalar_one())
    secret = pyotp.random_base32()
    bank.ctx.auth.create_account(
        login=login, password=PASSWORD, role=Role.CLIENT_SIGNER,
        display_name=surname, signer_id=signer_id, totp_secret=secret,
    )  # fmt: skip
    person = Person(signer_id, login, secret, code, surname)
    bank.people.append(person)
    return person


def console_open_request(page: Any, bank: Bank, request_id: int) -> None:
    page.goto(f"{bank.url}/console/")
    page.click(f"a[href='/console/requests/{request_id}']")
    assert page.locator("#signer-card").is_visible()


def console_approve(page: Any, bank: Bank, request_id: int, *, paper: bool = True) -> None:
    """Register the paper documents (when the path needs them) and approve."""
    console_open_request(page, bank, request_id)
    status = page.inner_text("#request-status")
    assert ("Принят банком" if paper else "Документы получены банком") in status, status
    page.shots("console-request")
    if paper:
        page.click("#receive")
        page.wait_for_selector("#approve")
        assert "Документы получены банком" in page.inner_text("#request-status")
    page.click("#approve")
    page.wait_for_load_state()
    assert "Получен новый сертификат" in page.inner_text("#request-status")
    page.shots("console-issued")


def choose_token_and_generate(page: Any, serial: str, pin: str) -> None:
    page.click("#start")
    page.shots("fields")
    page.click("#fields-next")
    page.check(f"#token-{serial}")
    page.shots("token")
    page.click("#token-next")
    page.fill("#pin", pin)
    page.shots("pin")
    page.click("#generate")


def install(page: Any, pin: str) -> None:
    assert "Получен новый сертификат" in page.inner_text("#status")
    page.shots("issued")
    page.fill("#pin", pin)
    page.click("#install")
    assert "Вы переведены на работу с новым комплектом ключей" in page.inner_text("#notice")
    page.shots("switched")


def payment_file(folder: Path, number: str = "101") -> Path:
    """A one-document 1C export (kl_to_bank.txt) paid by the test organization."""
    doc = replace(replace(ordinary_document(), "ПлательщикИНН", ORG["inn"]), "Плательщик", None)
    doc = replace(doc, "Номер", number)
    path = folder / f"kl_to_bank-{number}.txt"
    path.write_bytes(encode_file(file_text([doc])))
    return path


def revoked_serials(bank: Bank, person: Person) -> dict[str, str | None]:
    """Certificate serial (hex) → revocation reason (None: not revoked), from the bank's store."""
    from sqlalchemy import select

    from bankkeys.bank.store.models import Certificate

    with bank.ctx.db.transaction() as session:
        rows = session.execute(
            select(Certificate).where(Certificate.signer_id == person.signer_id)
        ).scalars()
        return {c.serial: c.revocation_reason if c.revoked_at is not None else None for c in rows}


@pytest.fixture(name="db", params=["sqlite", "postgresql"])
def db_fixture(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture(name="cli_home")
def cli_home_fixture(tmp_path: Path) -> Path:
    return tmp_path / "client-home"
