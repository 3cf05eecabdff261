"""The operator console in Debian's Chromium, driven by Playwright: an operator signs in (password
and TOTP), finds the request, registers the paper documents and approves; with four eyes on, a
second operator's approval issues the certificate. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_support import (
    PASSWORD,
    RunningServer,
    ServerFactory,
    artifacts_dir,
    b64,
    db_kind,
    renewal_submission,
    server_factory,
    templates,
)

from conftest import missing, screenshot

__all__ = ["db_kind", "server_factory", "templates"]

CHROMIUM = os.environ.get("BANKKEYS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        missing("Chromium is not installed (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def sign_in(page: Any, server: RunningServer, login: str, shots: Path, tag: str) -> None:
    page.goto(f"{server.url}/console/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("input[name=code]")
    server.clock.advance(seconds=31)
    page.fill("input[name=code]", server.totp())
    screenshot(page, shots / f"{tag}-second-factor.png")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/$"))


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_operators_approve_with_four_eyes(
    browser: Any, server_factory: ServerFactory, db_kind: str
) -> None:
    server = server_factory(four_eyes=True)
    shots = artifacts_dir() / "console"
    shots.mkdir(exist_ok=True)
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        fields = c.get(f"/api/v1/profiles/{profile['signer_id']}/subject-template").json()
        _, submission = renewal_submission(server, fields["fields"])
        r = c.post(
            f"/api/v1/profiles/{profile['signer_id']}/requests",
            json={"request": b64(submission)},
        )
        assert r.status_code == 201, r.text
        rid = r.json()["id"]

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    sign_in(page, server, "operator", shots, "01-operator")
    assert page.locator(f"a[href='/console/requests/{rid}']").count() == 1
    screenshot(page, shots / "02-queue.png", full_page=True)

    # Find it by the signer's surname, then open the request from the signer's page.
    page.click("header >> text=Поиск")
    page.fill("#q", "Петров")
    page.click("#search")
    page.click("text=Петров Пётр Петрович")
    page.click(f"a[href='/console/requests/{rid}']")
    assert page.locator("#signer-card").is_visible() and page.locator("#request-data").is_visible()
    assert "Принят банком" in page.inner_text("#request-status")
    screenshot(page, shots / "03-request.png", full_page=True)

    page.click("#receive")
    page.wait_for_selector("#approve")
    assert "Документы получены банком" in page.inner_text("#request-status")
    page.click("#approve")
    page.wait_for_load_state()
    assert "Ожидает подтверждения второго сотрудника банка" in page.inner_text("#request-status")
    assert page.locator("#approve").is_disabled()  # the same operator cannot approve twice
    screenshot(page, shots / "04-first-approval.png", full_page=True)
    context.close()

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    sign_in(page, server, "operator2", shots, "05-operator2")
    page.goto(f"{server.url}/console/requests/{rid}")
    page.click("#approve")
    page.wait_for_load_state()
    assert "Получен новый сертификат" in page.inner_text("#request-status")
    screenshot(page, shots / "06-issued.png", full_page=True)
    context.close()

    with server.as_user("director") as c:
        assert c.get(f"/api/v1/requests/{rid}/certificate").status_code == 200
