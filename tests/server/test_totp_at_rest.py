"""TOTP secrets at rest on a running server (SQLite and PostgreSQL): the column holds only
ciphertext bound to its account; sign-in works with the right code; a tampered value, a value
moved to another account and a wrong key file are refused, and nothing changes; key rotation."""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyotp
import pytest
from server_support import (
    PASSWORD,
    STAFF_LOGINS,
    RunningServer,
    db_kind,
    server,
    server_factory,
    templates,
)
from sqlalchemy import text

from bankkeys.bank.workflow import Role
from bankkeys.server import bootstrap
from bankkeys.server.accounts import provision_account
from bankkeys.server.auth import SessionKind
from bankkeys.server.context import build_context
from bankkeys.server.secrets_at_rest import SecretKeyError, read_key_file, write_key_file
from bankkeys.server.totp_at_rest import rotate

__all__ = ["db_kind", "server", "server_factory", "templates"]

LOGIN = "/api/v1/auth/login"
SECOND = "/api/v1/auth/second-factor"
UNAVAILABLE = "Второй фактор учётной записи недоступен"


def stored(running: RunningServer) -> dict[str, dict[str, Any]]:
    """Every account's row as the database has it (no ORM, no decryption)."""
    with running.ctx.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT login, totp_secret, failed_attempts, last_totp_step, locked_until "
                "FROM server_accounts"
            )
        ).mappings()
        return {row["login"]: dict(row) for row in rows}


def set_secret(running: RunningServer, login: str, value: str) -> None:
    with running.ctx.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE server_accounts SET totp_secret = :v WHERE login = :l"),
            {"v": value, "l": login},
        )


def live_challenges(running: RunningServer) -> int:
    with running.ctx.db.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM server_sessions "
                    "WHERE kind = 'challenge' AND revoked_at IS NULL"
                )
            ).scalar_one()
        )


def secret_forms(base32: str) -> list[str]:
    """The secret as an attacker would look for it: base32 (either case), hex, base64."""
    raw = base64.b32decode(base32 + "=" * (-len(base32) % 8))
    return [base32, base32.lower(), raw.hex(), base64.b64encode(raw).decode()]


def test_totp_at_rest_column_holds_no_secret(server: RunningServer) -> None:
    created = provision_account(server.ctx, "operator9", Role.OPERATOR, "Девятый")
    rows = stored(server)
    assert set(STAFF_LOGINS) | {"director", "accountant", "operator9"} <= set(rows)
    for login, row in rows.items():
        value = row["totp_secret"]
        assert value.startswith("v1:"), (login, value)
        for secret in (bootstrap.DEMO_TOTP_SEED, created["totp_secret"]):
            for form in secret_forms(secret):
                assert form not in value, (login, form)
    # Every demo account shares one seed, yet no two stored values are alike (random nonces).
    values = [row["totp_secret"] for row in rows.values()]
    assert len(set(values)) == len(values)
    key_file = server.settings.resolved_totp_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert server.ctx.db.dialect in ("sqlite", "postgresql")


def test_totp_at_rest_right_code_signs_in(server: RunningServer) -> None:
    for login in ("operator", "director"):
        token = server.sign_in(login)
        with server.client(token) as c:
            assert c.get("/api/v1/me").json()["login"] == login
    server.clock.advance(seconds=31)
    with server.client() as c:
        challenge = c.post(LOGIN, json={"login": "officer", "password": PASSWORD}).json()
        wrong = f"{(int(server.totp()) + 1) % 1_000_000:06d}"
        bad = c.post(SECOND, json={"challenge": challenge["challenge"], "code": wrong})
        assert bad.status_code == 401 and "Неверный одноразовый код" in bad.text


def test_totp_at_rest_enrolled_secret_shown_once_works(server: RunningServer) -> None:
    created = provision_account(server.ctx, "operator8", Role.OPERATOR, "Восьмой")
    server.clock.advance(seconds=31)
    with server.client() as c:
        challenge = c.post(LOGIN, json={"login": "operator8", "password": created["password"]})
        code = pyotp.TOTP(created["totp_secret"]).at(server.clock())
        ok = c.post(SECOND, json={"challenge": challenge.json()["challenge"], "code": code})
        assert ok.status_code == 200, ok.text


def _refused_and_unchanged(running: RunningServer, login: str) -> str:
    """Password accepted, the right code refused as unavailable; the row and the challenge are
    as before. Returns the challenge (still usable)."""
    running.clock.advance(seconds=31)
    before = stored(running)[login]
    with running.client() as c:
        challenge = c.post(LOGIN, json={"login": login, "password": PASSWORD}).json()["challenge"]
        challenges = live_challenges(running)
        r = c.post(SECOND, json={"challenge": challenge, "code": running.totp()})
        assert r.status_code == 401 and UNAVAILABLE in r.text, r.text
    assert stored(running)[login] == before
    assert live_challenges(running) == challenges
    return challenge


def test_totp_at_rest_tampered_value_refused(server: RunningServer) -> None:
    original = stored(server)["operator"]["totp_secret"]
    version, key_id, nonce, sealed = original.split(":")
    raw = bytearray(base64.b64decode(sealed))
    raw[0] ^= 1
    tampered = ":".join((version, key_id, nonce, base64.b64encode(raw).decode()))
    for bad in (tampered, original[:-4], "v1:nonsense", bootstrap.DEMO_TOTP_SEED):
        set_secret(server, "operator", bad)
        challenge = _refused_and_unchanged(server, "operator")
    # Put back, the very same challenge passes: the refusals spent nothing.
    set_secret(server, "operator", original)
    with server.client() as c:
        ok = c.post(SECOND, json={"challenge": challenge, "code": server.totp()})
        assert ok.status_code == 200, ok.text


def test_totp_at_rest_value_moved_to_another_account_refused(server: RunningServer) -> None:
    # Both accounts have the same (demo) secret: only the binding to the login refuses the copy.
    rows = stored(server)
    set_secret(server, "operator", rows["operator2"]["totp_secret"])
    _refused_and_unchanged(server, "operator")
    server.sign_in("operator2")  # the original row still works


def test_totp_at_rest_wrong_key_file_refused(server: RunningServer, tmp_path: Path) -> None:
    before = stored(server)
    current = read_key_file(server.settings.resolved_totp_key_file).current_id
    same_id = tmp_path / "same-id-other-key"
    write_key_file(same_id, [(current, bytearray(os.urandom(32)))], exclusive=True)
    other_id = tmp_path / "other-key"
    write_key_file(other_id, [("0123abcd", bytearray(os.urandom(32)))], exclusive=True)
    for path in (same_id, other_id):
        settings = replace(server.settings, totp_key_file=str(path))
        with pytest.raises(SecretKeyError, match="не подходит к базе данных") as info:
            build_context(settings, clock=server.clock)
        assert str(path) in str(info.value)
    assert stored(server) == before
    server.sign_in("operator")  # the right key still serves


def test_totp_at_rest_rotation(server: RunningServer) -> None:
    path = server.settings.resolved_totp_key_file
    old = read_key_file(path)
    before = stored(server)
    new_id, count = rotate(server.ctx.db, path)
    assert count == len(before) and new_id != old.current_id
    ring = read_key_file(path)
    assert ring.key_ids == (new_id,)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    after = stored(server)
    for login, row in after.items():
        assert row["totp_secret"].split(":")[1] == new_id
        assert row["totp_secret"] != before[login]["totp_secret"]
        assert {k: v for k, v in row.items() if k != "totp_secret"} == {
            k: v for k, v in before[login].items() if k != "totp_secret"
        }
    # The running server still holds the old key: the rows no longer decrypt for it...
    _refused_and_unchanged(server, "operator")
    # ...while a server started with the rotated file signs in.
    fresh = build_context(server.settings, clock=server.clock)
    try:
        server.clock.advance(seconds=31)
        challenge = fresh.auth.check_password("operator", PASSWORD)
        issued = fresh.auth.check_second_factor(challenge.token, server.totp(), SessionKind.API)
        assert issued.principal.login == "operator"
    finally:
        fresh.dispose()
