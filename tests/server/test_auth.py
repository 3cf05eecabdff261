"""Sign-in over HTTP: password + TOTP, lock-out, single-use codes and challenges, sign-out,
password change; secrets stay out of the logs. Configuration checks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from server_support import PASSWORD, RunningServer, db_kind, server, server_factory, templates
from typer.testing import CliRunner

from bankkeys.cli import app
from bankkeys.server.config import ConfigError, check, load_settings

__all__ = ["db_kind", "server", "server_factory", "templates"]

LOGIN = "/api/v1/auth/login"
SECOND = "/api/v1/auth/second-factor"


def test_wrong_password_and_unknown_login_look_the_same(server: RunningServer) -> None:
    with server.client() as c:
        a = c.post(LOGIN, json={"login": "director", "password": "wrong"})
        b = c.post(LOGIN, json={"login": "nobody", "password": "wrong"})
    assert a.status_code == b.status_code == 401
    assert a.json()["error"]["message"] == b.json()["error"]["message"]
    assert a.headers["www-authenticate"] == "Bearer"


def test_lockout_after_failures_then_back(server: RunningServer) -> None:
    with server.client() as c:
        for _ in range(5):
            assert c.post(LOGIN, json={"login": "operator", "password": "wrong"}).status_code == 401
        locked = c.post(LOGIN, json={"login": "operator", "password": PASSWORD})
        assert locked.status_code == 429
        assert "заблокирован" in locked.json()["error"]["message"]
        server.clock.advance(minutes=16)
        assert c.post(LOGIN, json={"login": "operator", "password": PASSWORD}).status_code == 200
        # One more failure after the lock doubles it (back-off).
        assert c.post(LOGIN, json={"login": "operator", "password": "wrong"}).status_code == 401
        server.clock.advance(minutes=16)
        assert c.post(LOGIN, json={"login": "operator", "password": PASSWORD}).status_code == 429


def test_totp_codes_and_challenges_are_single_use(server: RunningServer) -> None:
    server.clock.advance(seconds=31)
    with server.client() as c:
        challenge = c.post(LOGIN, json={"login": "accountant", "password": PASSWORD}).json()
        code = server.totp()
        bad = c.post(SECOND, json={"challenge": challenge["challenge"], "code": "000000"})
        assert bad.status_code == 401
        ok = c.post(SECOND, json={"challenge": challenge["challenge"], "code": code})
        assert ok.status_code == 200 and ok.json()["role"] == "client_signer"
        again = c.post(SECOND, json={"challenge": challenge["challenge"], "code": code})
        assert again.status_code == 401  # the challenge is spent
        fresh = c.post(LOGIN, json={"login": "accountant", "password": PASSWORD}).json()
        replay = c.post(SECOND, json={"challenge": fresh["challenge"], "code": code})
        assert replay.status_code == 401  # the code is spent
        server.clock.advance(minutes=6)
        stale = c.post(SECOND, json={"challenge": fresh["challenge"], "code": server.totp()})
        assert stale.status_code == 401  # the challenge expired


def test_logout_and_password_change(server: RunningServer) -> None:
    token = server.sign_in("accountant")
    with server.client(token) as c:
        assert c.get("/api/v1/me").json()["login"] == "accountant"
        url = "/api/v1/auth/password"
        new = "Новый-Пароль-2027"
        weak = c.post(url, json={"old_password": PASSWORD, "new_password": "aaaaaaaaaaaa"})
        assert weak.status_code == 422 and weak.json()["error"]["code"] == "WeakPassword"
        wrong = c.post(url, json={"old_password": "nope", "new_password": new})
        assert wrong.status_code == 401
        same = c.post(url, json={"old_password": PASSWORD, "new_password": PASSWORD})
        assert same.status_code == 422
        ok = c.post(url, json={"old_password": PASSWORD, "new_password": new})
        assert ok.status_code == 204
        assert c.get("/api/v1/me").status_code == 401  # every session ended
    with server.client() as c:
        assert c.post(LOGIN, json={"login": "accountant", "password": PASSWORD}).status_code == 401
    token = server.sign_in("accountant", "Новый-Пароль-2027")
    with server.client(token) as c:
        assert c.post("/api/v1/auth/logout").status_code == 204
        assert c.get("/api/v1/me").status_code == 401


def test_secrets_stay_out_of_logs(server: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = server.sign_in("director")
    with server.client(token) as c:
        c.get("/api/v1/profiles")
        c.get("/api/v1/profiles?token=" + "q" * 10)
    text = "\n".join(
        r.getMessage() + json.dumps(getattr(r, "fields", {}), ensure_ascii=False)
        for r in caplog.records
        if r.name.startswith(("bankkeys", "uvicorn"))  # the server's, not the test client's
    )
    assert "/api/v1/profiles" in text  # the access log is there
    for secret in (token, PASSWORD, "qqqqqqqqqq"):
        assert secret not in text


def test_config_file_env_and_check(tmp_path: Path) -> None:
    good = tmp_path / "bankkeys.toml"
    good.write_text('port = 9443\nfour_eyes = true\nsmtp_url = "smtp://u:p4ss@mail:25"\n')
    settings = load_settings(good, {"BANKKEYS_PORT": "9444", "BANKKEYS_CA_PIN": "x"})
    assert settings.port == 9444 and settings.four_eyes  # the environment wins over the file
    assert "p4ss" not in json.dumps(settings.redacted()) and "***" in settings.redacted()["ca_pin"]
    assert check(settings) == []
    bad = tmp_path / "bad.toml"
    bad.write_text("port = 0\nunknown = 1\n")
    with pytest.raises(ConfigError, match="unknown"):
        load_settings(bad, {})
    with pytest.raises(ConfigError, match="BANKKEYS_PORT"):
        load_settings(None, {"BANKKEYS_PORT": "много"})
    problems = check(load_settings(None, {"BANKKEYS_PORT": "0", "BANKKEYS_CERTFILE": "/nope",
                                          "BANKKEYS_SMTP_URL": "http://x"}))  # fmt: skip
    assert any("port" in p for p in problems)
    assert any("certfile" in p for p in problems)
    assert any("smtp_url" in p for p in problems)
    assert any("ПИН-код ключа УЦ" in p for p in problems)


def test_config_check_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    monkeypatch.setenv("BANKKEYS_SMTP_URL", "smtp://user:secret-pass@mail.example:25")
    monkeypatch.setenv("BANKKEYS_CA_PIN", "ca-pin-value")
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert "secret-pass" not in result.output and "ca-pin-value" not in result.output
    monkeypatch.setenv("BANKKEYS_TICK_INTERVAL", "-1")
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 1
    assert "tick_interval" in result.output


def test_administrator_creates_accounts(server: RunningServer) -> None:
    import re

    import pyotp
    from server_support import Console

    admin = Console(server, "admin")
    r = admin.post("/console/accounts", login="operator3", role="operator", display_name="Третий")
    assert r.status_code == 200, r.text
    password = re.search(r"пароль: <code>([^<]+)</code>", r.text)
    secret = re.search(r"\(TOTP\): <code>([^<]+)</code>", r.text)
    assert password and secret
    again = admin.post("/console/accounts", login="operator3", role="operator", display_name="x")
    assert again.status_code == 422 and "уже есть" in again.text
    unknown = admin.post("/console/accounts", login="nobody", role="client_signer")
    assert unknown.status_code == 422 and "не зарегистрирован" in unknown.text
    admin.close()
    server.clock.advance(seconds=31)
    with server.client() as c:
        challenge = c.post(LOGIN, json={"login": "operator3", "password": password.group(1)})
        assert challenge.status_code == 200
        code = pyotp.TOTP(secret.group(1)).at(server.clock())
        token = c.post(SECOND, json={"challenge": challenge.json()["challenge"], "code": code})
        assert token.status_code == 200 and token.json()["role"] == "operator"
