"""What a support line hears about: a certificate that expired without renewal («Срок действия
истёк»), a request the operator rejected and the client redid, a request never confirmed that
expires (the bank's tick run with a ``now`` 31 days ahead). SQLite; the client's UI and the
operator console in Chromium."""

from __future__ import annotations

from datetime import timedelta
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
    console_open_request,
    console_sign_in,
    install,
    new_page,
    ready_container,
)

from bankkeys.bank.tick import tick
from bankkeys.client.home import ClientHome

__all__ = ["cli_home_fixture"]
SERIAL = "2000654321"


def _director(bank: Bank, tmp_path: Path, home: Path, days_left: int) -> Person:
    person = bank.add_signer("director", "Петров", "112233445")
    folder = tmp_path / "token" / "KEYS.000"
    token = ready_container(folder, SERIAL)
    bank.issue_current(person, token, days_left=days_left)
    token.close()
    ClientHome(home).add_container(folder)
    return person


def _registration_code_expired(bank: Bank, person: Person) -> None:
    """The activation code from the signer's registration, a year ago, has long expired (the
    certificate here was imported, so the code was never used)."""
    from sqlalchemy import update

    from bankkeys.bank.store.models import ActivationCode

    with bank.ctx.db.transaction() as session:
        session.execute(
            update(ActivationCode)
            .where(ActivationCode.signer_id == person.signer_id)
            .values(expires_at=bank.ctx.clock() - timedelta(days=300))
        )


def _renew(page: Any, ui: Any, person: Person) -> None:
    page.goto(f"{ui.base}/profile/{person.signer_id}")
    page.click("#start")
    page.click("#fields-next")
    page.check(f"#token-{SERIAL}")
    page.click("#token-next")
    page.fill("#pin", USER_PIN)
    page.click("#generate")
    page.fill("#pin", USER_PIN)
    page.click("#send")
    assert "Принят банком" in page.inner_text("#notice")


def test_journey_expired_without_renewal(tmp_path: Path, cli_home: Path) -> None:
    with bank_on("sqlite", tmp_path) as bank, chromium() as browser, client_ui(cli_home) as ui:
        person = _director(bank, tmp_path, cli_home, days_left=-3)
        _registration_code_expired(bank, person)
        page = new_page(browser, ("expired", True, "expired"))
        client_sign_in(page, ui, bank, person, shots=False)
        assert "Срок действия истёк" in page.inner_text(f"#profile-{person.signer_id}")
        page.goto(f"{ui.base}/profile/{person.signer_id}")
        assert "Срок действия истёк" in page.inner_text("#status")
        assert "обратитесь в банк лично" in page.inner_text("#explanation").lower()
        assert page.locator("#start").count() == 0  # only an in-person application helps
        page.shots("expired")

        console = new_page(browser, ("expired-console", False, "expired-console"))
        console_sign_in(console, bank, add_operator(bank))
        console.goto(f"{bank.url}/console/signers/{person.signer_id}")
        assert "Срок действия истёк" in console.inner_text("body")


def test_journey_rejected_then_redone(tmp_path: Path, cli_home: Path) -> None:
    with bank_on("sqlite", tmp_path) as bank, chromium() as browser, client_ui(cli_home) as ui:
        person = _director(bank, tmp_path, cli_home, days_left=20)
        operator = add_operator(bank)
        page = new_page(browser, ("rejected", True, "rejected"))
        client_sign_in(page, ui, bank, person, shots=False)
        _renew(page, ui, person)
        first = bank.open_request(person)

        console = new_page(browser, ("rejected-console", True, "rejected-console"))
        console_sign_in(console, bank, operator)
        console_open_request(console, bank, first)
        reason = "Подпись руководителя в акте не совпадает с образцом"
        console.fill("#reject-reason", reason)
        console.shots("reject")
        console.click("#reject")
        console.wait_for_load_state()
        assert "Запрос отклонён банком" in console.inner_text("#request-status")

        page.goto(f"{ui.base}/profile/{person.signer_id}")
        assert "Запрос отклонён банком" in page.inner_text("#status")
        assert reason in page.inner_text("body")
        page.shots("rejected")
        _renew(page, ui, person)  # redone: a new key, a new request
        second = bank.open_request(person)
        assert second != first
        console_approve(console, bank, second)
        page.goto(f"{ui.base}/profile/{person.signer_id}")
        install(page, USER_PIN)


def test_journey_unconfirmed_request_expires(tmp_path: Path, cli_home: Path) -> None:
    with bank_on("sqlite", tmp_path) as bank, chromium() as browser, client_ui(cli_home) as ui:
        person = _director(bank, tmp_path, cli_home, days_left=25)
        page = new_page(browser, ("unconfirmed", True, "unconfirmed"))
        client_sign_in(page, ui, bank, person, shots=False)
        _renew(page, ui, person)
        request_id = bank.open_request(person)
        policy = bank.ctx.workflow.policy
        report = tick(bank.ctx.db, bank.ctx.clock() + policy.request_ttl + timedelta(days=1),
                      policy)  # fmt: skip
        assert report.requests_expired == 1, report

        page.goto(f"{ui.base}/profile/{person.signer_id}")
        assert "Запрос не подтверждён в срок" in page.inner_text("#status")
        page.shots("request-expired")
        console = new_page(browser, ("unconfirmed-console", False, "unconfirmed-console"))
        console_sign_in(console, bank, add_operator(bank))
        console.goto(f"{bank.url}/console/requests/{request_id}")
        assert "Запрос не подтверждён в срок" in console.inner_text("#request-status")
        assert console.locator("#approve").count() == 0 or console.locator("#approve").is_disabled()
        # The certificate is still valid: the client may simply start again.
        assert page.locator("#start").count() == 1
