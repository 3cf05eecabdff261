"""Journeys 1 and 5: planned renewal on the same token (seeds 000, 001, 002) — with paper documents
brought to the bank, and remotely, where the bank's policy lets the still-valid key sign the act.

Each walks the whole way: the client's UI in Chromium says «Необходима плановая замена
сертификата»; the key is generated on the token; the bank answers «Принят банком»; the operator
works the request in the console (Chromium too); the client installs the certificate; the first
payment signed with the new key is accepted and the old certificate is then revoked (superseded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journey_support import (
    USER_PIN,
    Bank,
    Cli,
    Person,
    add_operator,
    bank_on,
    chromium,
    cli_home_fixture,
    client_sign_in,
    client_ui,
    console_approve,
    console_sign_in,
    db_fixture,
    install,
    new_page,
    payment_file,
    ready_container,
    revoked_serials,
)

from bankkeys.client.home import ClientHome
from bankkeys.tokens import SoftwareContainer

__all__ = ["cli_home_fixture", "db_fixture"]
SERIAL = "2100456789"  # a Rutoken ECP 2.0 serial: renewal on the same token keeps it


def _director_with_key(bank: Bank, tmp_path: Path, home: Path) -> tuple[Person, str, Path]:
    person = bank.add_signer("director", "Петров", "112233445")
    folder = tmp_path / "token" / "DIRECTOR.000"
    token = ready_container(folder, SERIAL)
    old_serial = bank.issue_current(person, token, days_left=20)
    token.close()
    ClientHome(home).add_container(folder)
    return person, old_serial, folder


def _generate_and_send(page: Any, person: Person) -> None:
    row = page.inner_text(f"#profile-{person.signer_id}")
    assert "Необходима плановая замена сертификата" in row, row
    page.shots("home-renewal-due")
    page.click(f"#profile-{person.signer_id} a.action")
    page.click("#start")
    assert page.input_value("#field-surname") == "Петров"
    page.shots("fields")
    page.click("#fields-next")
    page.check(f"#token-{SERIAL}")
    page.shots("token")
    page.click("#token-next")
    page.fill("#pin", USER_PIN)
    page.shots("pin")
    page.click("#generate")
    page.fill("#pin", USER_PIN)  # the current key signs the request
    page.shots("ready-to-send")
    page.click("#send")
    assert "Принят банком" in page.inner_text("#notice")


def _first_payment_retires_old(
    bank: Bank, person: Person, home: Path, tmp_path: Path, old_serial: str
) -> None:
    assert revoked_serials(bank, person)[old_serial] is None  # still valid until then
    out = Cli(home)("pay", str(payment_file(tmp_path)), "--yes", input=f"{USER_PIN}\n").output
    assert "Принято: 1" in out, out
    certificates = revoked_serials(bank, person)
    assert len(certificates) == 2
    assert certificates[old_serial] == "superseded", certificates
    (new_serial,) = (s for s in certificates if s != old_serial)
    assert certificates[new_serial] is None


def _console_shows_revoked(page: Any, bank: Bank, person: Person, old_serial: str) -> None:
    page.goto(f"{bank.url}/console/signers/{person.signer_id}")
    row = page.locator("tr", has=page.locator(f"code:text-is('{old_serial}')"))
    assert "superseded" in row.inner_text() or "замен" in row.inner_text(), row.inner_text()
    page.shots("console-old-revoked")


def test_journey_planned_renewal_with_paper_documents(
    db: str, tmp_path: Path, cli_home: Path
) -> None:
    with bank_on(db, tmp_path) as bank, chromium() as browser:
        person, old_serial, folder = _director_with_key(bank, tmp_path, cli_home)
        operator = add_operator(bank)
        with client_ui(cli_home) as ui:
            page = new_page(browser, ("renewal", db == "sqlite", f"renewal-{db}"))
            client_sign_in(page, ui, bank, person)
            _generate_and_send(page, person)
            page.shots("accepted")
            # The acts to print: two copies of the acceptance act, one application.
            with page.expect_popup() as popup:
                page.click("#doc-acceptance_act")
            assert popup.value.url.endswith("acceptance_act.pdf")
            popup.value.close()
            documents = page.inner_text("#documents")
            assert "2 экз." in documents and "Заявление" in documents, documents
            page.click("#printed-acceptance_act")
            assert "(распечатан)" in page.inner_text("#documents")
            page.shots("documents")

            console = new_page(browser, ("console", db == "sqlite", f"console-{db}"))
            console_sign_in(console, bank, operator, shots=True)
            console.shots("queue")
            console_approve(console, bank, bank.open_request(person))

            page.reload()
            install(page, USER_PIN)
            assert len(SoftwareContainer(folder).certificates()) == 2  # same token, both sets
            _first_payment_retires_old(bank, person, cli_home, tmp_path, old_serial)
            _console_shows_revoked(console, bank, person, old_serial)
            assert bank.status_text(person) not in ("Необходима плановая замена сертификата",)


def test_journey_remote_renewal_without_a_visit(db: str, tmp_path: Path, cli_home: Path) -> None:
    with (
        bank_on(db, tmp_path, renewal_path="remote-signed-act") as bank,
        chromium() as browser,
    ):
        person, old_serial, _folder = _director_with_key(bank, tmp_path, cli_home)
        operator = add_operator(bank)
        with client_ui(cli_home) as ui:
            page = new_page(browser, ("remote", db == "sqlite", f"remote-{db}"))
            client_sign_in(page, ui, bank, person, shots=False)
            _generate_and_send(page, person)
            # No paper: the act is signed with the still-valid key, on the same token.
            assert "без визита" in page.content()
            page.shots("sign-act")
            page.fill("#pin", "Wrong-Pin-1!")
            page.click("#sign-act")
            assert "Неверный PIN-код" in page.inner_text("#error")
            page.fill("#pin", USER_PIN)
            page.click("#sign-act")
            page.shots("act-signed")

            console = new_page(browser, ("remote-console", False, f"remote-console-{db}"))
            console_sign_in(console, bank, operator)
            request_id = bank.open_request(person)
            console.goto(f"{bank.url}/console/requests/{request_id}")
            assert console.locator("#receive").count() == 0  # nothing on paper to register
            console_approve(console, bank, request_id, paper=False)

            page.goto(f"{ui.base}/profile/{person.signer_id}")
            install(page, USER_PIN)
            _first_payment_retires_old(bank, person, cli_home, tmp_path, old_serial)
