"""Re-enrolling a lost second factor from the console's «Учётные записи» page (administrators only),
on SQLite and PostgreSQL: a confirmation first; the new secret shown once (not cached), the old
one and the account's sessions ended, the CLI's audit event with the administrator's login; one's
own account, other roles, a forged form and an unconfirmed form change nothing."""

from __future__ import annotations

import json
import re

import httpx
import pyotp
from server_support import (
    PASSWORD,
    Console,
    RunningServer,
    db_kind,
    server,
    server_factory,
    templates,
)
from sqlalchemy import select

from bankkeys.bank import audit
from bankkeys.bank.store.models import AuditEvent
from bankkeys.server.store.models import Account

__all__ = ["db_kind", "server", "server_factory", "templates"]


def _account(server: RunningServer, login: str) -> tuple[int, str]:
    with server.ctx.db.reading() as s:
        row = s.execute(select(Account).where(Account.login == login)).scalar_one()
        return row.id, row.totp_secret


def _resets(server: RunningServer) -> list[tuple[str, str, dict[str, object]]]:
    with server.ctx.db.reading() as s:
        query = select(AuditEvent).where(AuditEvent.action == "totp-secrets-reset")
        return [
            (e.actor, e.role, json.loads(e.details))
            for e in s.execute(query.order_by(AuditEvent.seq)).scalars()
        ]


def _second_factor(server: RunningServer, login: str, code: str) -> httpx.Response:
    """The console's sign-in with a given one-time code; answers the second step."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        page = http.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        r = http.post(
            "/console/login",
            data={"login": login, "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
        challenge = re.search(r'name="challenge" value="([^"]+)"', r.text)
        assert challenge, r.text
        return http.post(
            "/console/second-factor",
            data={"challenge": challenge.group(1), "code": code, "csrf_token": csrf.group(1)},
        )


def test_console_totp_reset_by_an_administrator(server: RunningServer) -> None:
    operator_id, sealed_before = _account(server, "operator")
    admin_id, admin_sealed = _account(server, "admin")
    reset_url = f"/console/accounts/{operator_id}/reset-totp"
    operator = Console(server, "operator")  # a session the reset must end
    assert operator.http.get("/console/").status_code == 200
    admin = Console(server, "admin")

    listing = admin.http.get("/console/accounts").text
    assert f'href="{reset_url}"' in listing
    assert f'href="/console/accounts/{admin_id}/reset-totp"' not in listing  # not one's own
    confirm_page = admin.http.get(reset_url)
    assert confirm_page.status_code == 200
    assert "operator" in confirm_page.text and "Выдать новый секрет TOTP" in confirm_page.text
    assert "открытые сеансы этой учётной записи будут завершены" in confirm_page.text

    unconfirmed = admin.post(reset_url)
    assert unconfirmed.status_code == 422 and "личность владельца проверена" in unconfirmed.text
    forged = admin.http.post(reset_url, data={"csrf_token": "x" * 43, "confirm": "yes"})
    assert forged.status_code == 403
    own = admin.post(f"/console/accounts/{admin_id}/reset-totp", confirm="yes")
    assert own.status_code == 422 and "Свой секрет" in own.text
    assert admin.post("/console/accounts/999999/reset-totp", confirm="yes").status_code == 404
    for login in ("officer", "operator2"):
        other = Console(server, login)
        assert other.http.get(reset_url).status_code == 403
        assert other.post(reset_url, confirm="yes").status_code == 403
        other.close()
    assert _account(server, "operator")[1] == sealed_before
    assert _account(server, "admin")[1] == admin_sealed
    assert _resets(server) == []

    done = admin.post(reset_url, confirm="yes")
    assert done.status_code == 200, done.text
    assert done.headers["cache-control"] == "no-store"
    found = re.search(r"секрет одноразовых кодов \(TOTP\): <code>([A-Z2-7]{16,})</code>", done.text)
    assert found, done.text
    secret = found.group(1)
    assert f"otpauth://totp/bankkeys:operator?secret={secret}&amp;issuer=bankkeys" in done.text
    assert _account(server, "operator")[1] != sealed_before
    assert secret not in _account(server, "operator")[1]  # stored sealed, never in clear
    assert admin.http.get("/console/accounts").text.count(secret) == 0  # shown once

    # The old session is over; the old authenticator no longer signs in, the new one does.
    assert operator.http.get("/console/").status_code == 303
    operator.close()
    server.clock.advance(seconds=31)
    assert _second_factor(server, "operator", server.totp()).status_code == 401
    server.clock.advance(seconds=31)
    code = pyotp.TOTP(secret).at(server.clock())
    assert _second_factor(server, "operator", code).status_code == 303

    [(actor, role, details)] = _resets(server)
    assert (actor, role) == ("admin", "administrator")
    assert details["logins"] == ["operator"] and details["key_id"]
    assert secret not in json.dumps(details)
    admin.close()
    with server.ctx.db.reading() as s:
        assert audit.verify(s) == []
