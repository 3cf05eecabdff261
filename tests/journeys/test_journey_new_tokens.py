"""Journeys 2, 3 and 4: a first key with the activation code; migration from Рутокен ЭЦП 2.0 to 3.0
with the default PINs changed (seed 003); a key container on a removable disk (seed 004).

The client's UI and the operator console run in Chromium; tokens are software key containers with
Rutoken-style serials (2000…/3220…), so the wizard tells the models apart as a user would."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from journey_support import (
    USER_PIN,
    Bank,
    Person,
    add_operator,
    bank_on,
    chromium,
    cli_home_fixture,
    client_sign_in,
    client_ui,
    console_approve,
    console_register_signer,
    console_sign_in,
    container_with_serial,
    db_fixture,
    install,
    new_page,
    ready_container,
)

from bankkeys.client.home import ClientHome
from bankkeys.tokens import SoftwareContainer
from conftest import pdf_words

__all__ = ["cli_home_fixture", "db_fixture"]
NEW_PIN, NEW_ADMIN = "Novyi-Pin-2026!", "Novyi-Admin-2026#"


def _change_default_pins(page: Any) -> None:
    """Seed 003 steps 7–8: the default PINs are refused until replaced by strong, different ones."""
    for sel in ("#user", "#user2", "#admin", "#admin2"):
        page.fill(sel, NEW_PIN)
    page.click("#change-pins")
    assert "должны отличаться" in page.inner_text("#error")
    page.shots("pins-must-differ")
    for sel, value in (("#user", NEW_PIN), ("#user2", NEW_PIN), ("#admin", NEW_ADMIN),
                       ("#admin2", NEW_ADMIN)):  # fmt: skip
        page.fill(sel, value)
    page.shots("new-pins")
    page.click("#change-pins")


def _operator_approves(browser: Any, bank: Bank, person: Person, db: str, journey: str) -> None:
    console = new_page(browser, (f"{journey}-console", False, f"{journey}-console-{db}"))
    console_sign_in(console, bank, add_operator(bank))
    console_approve(console, bank, bank.open_request(person))
    console.context.close()


def test_journey_first_key_with_activation_code(db: str, tmp_path: Path, cli_home: Path) -> None:
    with bank_on(db, tmp_path) as bank, chromium() as browser, client_ui(cli_home) as ui:
        # At the bank: the operator registers the new owner and hands over the activation code.
        registrar = new_page(browser, ("clients", db == "sqlite", f"first-key-registrar-{db}"))
        console_sign_in(registrar, bank, add_operator(bank, "registrar"))
        person = console_register_signer(registrar, bank, "accountant", "Сидорова", "223344556")
        assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", person.activation_code)
        registrar.shots("console-clients")
        registrar.context.close()
        folder = tmp_path / "token" / "NEW.000"
        container_with_serial(folder, "3220000555", "Рутокен ЭЦП 3.0").close()  # factory PINs
        ClientHome(cli_home).add_container(folder)
        page = new_page(browser, ("first-key", db == "sqlite", f"first-key-{db}"))
        client_sign_in(page, ui, bank, person, shots=False)
        assert "Необходима начальная генерация" in page.inner_text(f"#profile-{person.signer_id}")
        page.shots("home")
        page.click(f"#profile-{person.signer_id} a.action")
        page.click("#start")
        page.click("#fields-next")
        page.check("#token-3220000555")
        page.click("#token-next")
        _change_default_pins(page)
        page.fill("#pin", NEW_PIN)
        page.click("#generate")
        page.fill("#activation_code", "AAAA-BBBB-CCCC-DDDD")
        page.click("#send")
        assert "Код активации неверен" in page.inner_text("#error")
        page.shots("bad-activation-code")
        page.fill("#activation_code", person.activation_code)
        page.shots("activation-code")
        page.click("#send")
        assert "Принят банком" in page.inner_text("#notice")
        page.shots("accepted")

        _operator_approves(browser, bank, person, db, "first-key")
        page.reload()
        install(page, NEW_PIN)
        assert len(SoftwareContainer(folder).certificates()) == 1
        assert bank.status_text(person) in (
            "Действует",
            "Вы переведены на работу с новым комплектом ключей",
        )


def _transfer_act(page: Any, ui: Any, person: Person, tmp_path: Path) -> str:
    """Seed 003, step 21: «Просмотреть акт» in the client's UI, then «Распечатан»."""
    act = page.inner_text("#transfer-act")
    assert "Рутокен ЭЦП 3.0 № 3220000777" in act and "оригинал Акта приема-передачи" in act
    page.shots("transfer-act")
    href = page.get_attribute("#doc-transfer_act", "href")
    assert href == f"/profile/{person.signer_id}/documents/transfer_act.pdf"
    answer = page.request.get(f"{ui.base}{href}")  # the browser's session cookie
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    page.click("#printed-transfer_act")
    assert "(распечатан)" in page.inner_text("#transfer-act")
    return pdf_words(answer.body())


def test_journey_migration_rutoken_2_to_3(db: str, tmp_path: Path, cli_home: Path) -> None:
    with bank_on(db, tmp_path) as bank, chromium() as browser, client_ui(cli_home) as ui:
        person = bank.add_signer("director", "Петров", "112233445")
        old = tmp_path / "usb" / "OLD.000"
        token = ready_container(old, "2000123456", "Рутокен ЭЦП 2.0")
        bank.issue_current(person, token, days_left=25)
        token.close()
        new = tmp_path / "usb" / "NEW.000"
        container_with_serial(new, "3220000777", "Рутокен ЭЦП 3.0").close()
        home = ClientHome(cli_home)
        home.add_container(old)
        home.add_container(new)

        page = new_page(browser, ("migration", db == "sqlite", f"migration-{db}"))
        client_sign_in(page, ui, bank, person, shots=False)
        page.click(f"#profile-{person.signer_id} a.action")
        page.click("#start")
        page.click("#fields-next")
        assert "устаревший смарт-ключ" in page.content()
        page.shots("choose-new-token")
        page.check("#token-3220000777")
        page.click("#token-next")
        _change_default_pins(page)
        parked = tmp_path / "parked"
        shutil.move(old, parked)  # only the new smart key is plugged in now
        page.fill("#pin", NEW_PIN)
        page.click("#generate")
        assert "вставьте в компьютер действующий (устаревший)" in page.inner_text("#swap")
        page.shots("swap-to-old")
        shutil.move(parked, old)
        page.click("#ok")
        page.fill("#pin", USER_PIN)  # the old key signs the request for the new one
        page.click("#send")
        assert "Принят банком" in page.inner_text("#notice")
        page.shots("accepted")

        _operator_approves(browser, bank, person, db, "migration")
        page.reload()
        install(page, NEW_PIN)
        assert "уничтожьте старый смарт-ключ" in page.inner_text("#destroy-old")
        page.shots("destroy-old")
        assert len(SoftwareContainer(new).certificates()) == 1
        # The default PINs no longer open the new smart key.
        assert not SoftwareContainer(new).info().pins.must_change
        text = _transfer_act(page, ui, person, tmp_path)
        assert "АКТ ПРИЕМА-ПЕРЕДАЧИ" in text and "Петров" in text
        assert "Рутокен ЭЦП 3.0" in text and "3220000777" in text
        serial = bank.ctx.workflow.status(person.signer_id).certificate_serial
        assert serial is not None and serial.upper() in text.replace(" ", "")


def test_journey_key_container_on_a_removable_disk(db: str, tmp_path: Path, cli_home: Path) -> None:
    with bank_on(db, tmp_path) as bank, chromium() as browser, client_ui(cli_home) as ui:
        person = bank.add_signer("director", "Петров", "112233445")
        on_disk = tmp_path / "workstation" / "A1B2C3.000"
        token = ready_container(on_disk, "5A17C0DE")
        bank.issue_current(person, token, days_left=15)
        token.close()
        # Seed 004, step I.3: copy the folder ХХХХХХ.000 to the flash drive.
        flash = tmp_path / "media" / "FLASH"
        shutil.copytree(on_disk, flash / "A1B2C3.000")
        shutil.rmtree(on_disk.parent)

        page = new_page(browser, ("flash", db == "sqlite", f"flash-{db}"))
        client_sign_in(page, ui, bank, person, shots=False)
        page.goto(f"{ui.base}/tokens")
        page.fill("#folder", str(flash / "A1B2C3.000"))
        page.shots("add-container")
        page.click("#add-container")
        assert "5A17C0DE" in page.inner_text("#tokens")
        page.shots("container-added")
        page.goto(f"{ui.base}/profile/{person.signer_id}")
        assert "Необходима плановая замена сертификата" in page.inner_text("#status")
        page.click("#start")
        page.click("#fields-next")
        page.check("#token-5A17C0DE")
        page.click("#token-next")
        page.fill("#pin", USER_PIN)
        page.click("#generate")
        page.fill("#pin", USER_PIN)
        page.click("#send")
        assert "Принят банком" in page.inner_text("#notice")

        _operator_approves(browser, bank, person, db, "flash")
        pulled = tmp_path / "pulled-out"
        shutil.move(flash, pulled)  # the flash drive is not in the computer
        page.goto(f"{ui.base}/profile/{person.signer_id}")
        assert "Вставьте в компьютер носитель с новым ключом" in page.inner_text("#swap")
        page.shots("insert-flash")
        shutil.move(pulled, flash)
        page.click("#ok")
        install(page, USER_PIN)
        assert len(SoftwareContainer(flash / "A1B2C3.000").certificates()) == 2
