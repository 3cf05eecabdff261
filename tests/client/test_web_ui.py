"""The local web UI in Debian's Chromium (Playwright), against a real bank server; screenshots of
every step go to test-artifacts/client/. Also the UI's guards: launch secret, CSRF, Host."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_support import (  # noqa: F401  (fixtures)
    PASSWORD,
    USER_PIN,
    Bank,
    Cli,
    bank_fixture,
    cli_fixture,
    container_with_serial,
    ready_container,
)

from bankkeys.client.home import ClientHome
from bankkeys.client.service import ClientService
from bankkeys.client.web.server import prepare
from bankkeys.tokens import SoftwareContainer
from conftest import missing, screenshot

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "client"
NEW_PIN, NEW_ADMIN = "Veb-Pin-2026!", "Veb-Admin-2026#"


class Ui:
    def __init__(self, home: Path) -> None:
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


@pytest.fixture()
def ui(cli: Cli) -> Iterator[Ui]:
    made = Ui(cli.home)
    yield made
    made.stop()


@pytest.fixture()
def page(request: pytest.FixtureRequest) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        missing("Debian's Chromium not installed (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright (Python) not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )  # fmt: skip
        context = browser.new_context(locale="ru-RU")
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.shots = Shots(pg, request.node.name)  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()


class Shots:
    def __init__(self, page: Any, test: str) -> None:
        self.page, self.n = page, 0
        self.folder = ARTIFACTS / test
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> None:
        self.n += 1
        screenshot(self.page, self.folder / f"{self.n:02d}-{name}.png", full_page=True)


def _sign_in(page: Any, ui: Ui, bank: Bank, person: Any) -> None:
    page.goto(ui.url)
    page.shots("connect")
    page.fill("#url", bank.url)
    page.click("#connect")
    assert "подключён" in page.content(), page.inner_text("body")
    page.shots("connected")
    page.click("#to-login")
    page.fill("#login", person.login)
    page.fill("#password", PASSWORD)
    page.shots("login")
    page.click("#sign-in")
    page.fill("#code", person.code())
    page.shots("second-factor")
    page.click("#confirm-code")


def test_planned_renewal_in_the_browser(
    bank: Bank, cli: Cli, ui: Ui, page: Any, tmp_path: Path
) -> None:
    person = bank.add_signer("director", "Петров", "112233445")
    folder = tmp_path / "flash" / "A1B2C3.000"
    token = ready_container(folder, "2000123456")
    bank.issue_current(person, token)
    token.close()
    ClientHome(cli.home).add_container(folder)

    _sign_in(page, ui, bank, person)
    row = page.inner_text(f"#profile-{person.signer_id}")
    assert "Необходима плановая замена сертификата" in row
    page.shots("home")
    page.click(f"#profile-{person.signer_id} a.action")
    page.click("#start")
    assert page.input_value("#field-surname") == "Петров"
    page.shots("fields")
    page.click("#fields-next")
    page.check("#token-2000123456")
    page.shots("token")
    page.click("#token-next")
    page.fill("#pin", USER_PIN)
    page.shots("pin")
    page.click("#generate")
    assert "Рутокен ЭЦП 2.0 № 2000123456" in page.content()
    page.fill("#pin", USER_PIN)
    page.shots("ready-to-send")
    page.click("#send")
    assert "Принят банком" in page.inner_text("#notice")
    page.shots("accepted")
    with page.expect_popup() as popup:
        page.click("#doc-acceptance_act")
    assert popup.value.url.endswith("acceptance_act.pdf")
    page.click("#printed-acceptance_act")
    assert "(распечатан)" in page.inner_text("#documents")
    page.shots("documents")

    bank.approve(person)
    page.reload()
    assert "Получен новый сертификат" in page.inner_text("#status")
    page.shots("issued")
    page.fill("#pin", "Wrong-Pin-1!")
    page.click("#install")
    assert "Неверный PIN-код" in page.inner_text("#error")
    page.shots("wrong-pin")
    page.fill("#pin", USER_PIN)
    page.click("#install")
    assert "Вы переведены на работу с новым комплектом ключей" in page.inner_text("#notice")
    page.shots("switched")
    assert len(SoftwareContainer(folder).certificates()) == 2
    page.goto(ui.base + "/")
    assert "извлеките его из компьютера" in page.inner_text("#unplug")
    page.shots("home-unplug")


def test_first_key_in_a_container_made_in_the_browser(
    bank: Bank, cli: Cli, ui: Ui, page: Any, tmp_path: Path
) -> None:
    person = bank.add_signer("accountant", "Сидорова", "223344556")
    _sign_in(page, ui, bank, person)
    assert "Необходима начальная генерация" in page.inner_text(f"#profile-{person.signer_id}")
    folder = tmp_path / "flash drive" / "KEYS.000"
    page.goto(ui.base + "/tokens")
    page.fill("#folder", str(folder))
    page.shots("create-container")
    page.click("#create-container")
    page.fill("#user", NEW_PIN)
    page.fill("#user2", NEW_PIN)
    page.fill("#admin", NEW_PIN)
    page.fill("#admin2", NEW_PIN)
    page.click("#change-pins")
    assert "должны отличаться" in page.inner_text("#error")  # user and admin PINs must differ
    page.shots("pins-refused")
    for sel, value in (("#user", NEW_PIN), ("#user2", NEW_PIN), ("#admin", NEW_ADMIN),
                       ("#admin2", NEW_ADMIN)):  # fmt: skip
        page.fill(sel, value)
    page.click("#change-pins")
    assert "задан" in page.inner_text("#tokens")
    page.shots("container-ready")
    serial = SoftwareContainer(folder).info().serial

    page.goto(ui.base + f"/profile/{person.signer_id}")
    page.click("#start")
    page.click("#fields-next")
    page.check(f"#token-{serial}")
    page.click("#token-next")
    page.fill("#pin", NEW_PIN)
    page.click("#generate")
    page.fill("#activation_code", "AAAA-BBBB-CCCC-DDDD")
    page.click("#send")
    assert "Код активации неверен" in page.inner_text("#error")
    page.shots("bad-activation-code")
    page.fill("#activation_code", person.activation_code)
    page.click("#send")
    assert "Принят банком" in page.inner_text("#notice")
    page.shots("accepted")

    bank.approve(person)
    shutil.move(folder.parent, tmp_path / "unplugged")  # the flash drive is pulled out
    page.goto(ui.base + f"/profile/{person.signer_id}")
    assert "Вставьте в компьютер носитель с новым ключом" in page.inner_text("#swap")
    page.shots("insert-token")
    shutil.move(tmp_path / "unplugged", folder.parent)
    page.click("#ok")
    page.fill("#pin", NEW_PIN)
    page.click("#install")
    assert "Вы переведены на работу с новым комплектом ключей" in page.inner_text("#notice")
    page.shots("switched")


def test_migration_in_the_browser_asks_to_swap(
    bank: Bank, cli: Cli, ui: Ui, page: Any, tmp_path: Path
) -> None:
    person = bank.add_signer("director", "Петров", "112233445")
    old = tmp_path / "flash" / "OLD.000"
    token = ready_container(old, "2000123456")
    bank.issue_current(person, token)
    token.close()
    new = tmp_path / "flash" / "NEW.000"
    container_with_serial(new, "3220000777", "Рутокен ЭЦП 3.0").close()
    home = ClientHome(cli.home)
    home.add_container(old)
    home.add_container(new)
    _sign_in(page, ui, bank, person)
    page.click(f"#profile-{person.signer_id} a.action")
    page.click("#start")
    page.click("#fields-next")
    assert "устаревший смарт-ключ" in page.content()
    page.shots("choose-new-token")
    page.check("#token-3220000777")
    page.click("#token-next")
    for sel, value in (("#user", NEW_PIN), ("#user2", NEW_PIN), ("#admin", NEW_ADMIN),
                       ("#admin2", NEW_ADMIN)):  # fmt: skip
        page.fill(sel, value)
    page.shots("default-pins")
    page.click("#change-pins")
    shutil.move(old, tmp_path / "parked")  # only the new token is plugged in now
    page.fill("#pin", NEW_PIN)
    page.click("#generate")
    assert "вставьте в компьютер действующий (устаревший)" in page.inner_text("#swap")
    page.shots("swap-to-old")
    shutil.move(tmp_path / "parked", old)
    page.click("#ok")
    page.fill("#pin", USER_PIN)
    page.click("#send")
    assert "Принят банком" in page.inner_text("#notice")
    bank.approve(person)
    page.reload()
    page.fill("#pin", NEW_PIN)
    page.click("#install")
    assert "Вы переведены на работу с новым комплектом ключей" in page.inner_text("#notice")
    assert "уничтожьте старый смарт-ключ" in page.inner_text("#destroy-old")
    page.shots("switched-destroy-old")
    assert len(SoftwareContainer(new).certificates()) == 1


def test_the_ui_refuses_other_pages_and_forged_forms(cli: Cli, ui: Ui) -> None:
    with httpx.Client(base_url=ui.base) as http:
        assert http.get("/").status_code == 403  # no launch cookie
        assert http.get("/launch?key=wrong").status_code == 403
        launched = http.get(ui.url.replace(ui.base, ""))
        assert launched.status_code == 303
        assert http.get("/connect").status_code == 200
        forged = http.post("/connect", data={"url": "http://evil.example", "csrf": "x"})
        assert forged.status_code == 403
        other_origin = http.post(
            "/connect",
            data={"url": "http://evil.example", "csrf": ui.secret.csrf_token},
            headers={"Origin": "http://evil.example"},
        )
        assert other_origin.status_code == 403
        rebound = http.get("/connect", headers={"Host": "evil.example"})
        assert rebound.status_code == 421
        page = http.get("/connect")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert not (cli.home / "client.json").exists()  # nothing was changed
    assert os.environ.get("BANKKEYS_CLIENT_HOME") is None or True
