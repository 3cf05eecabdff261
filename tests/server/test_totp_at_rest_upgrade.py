"""Upgrading a database whose TOTP secrets are in clear (schema s0001) on SQLite and PostgreSQL:
the first start (or ``bankkeys server encrypt-totp-secrets``) creates the key file and seals
them, idempotently; a process that does not migrate refuses clear secrets; a missing or malformed
key file stops the start with an error naming it. The TOTP arithmetic is judged by pyotp."""

from __future__ import annotations

import base64
import re
import secrets
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyotp
import pytest
from argon2 import PasswordHasher
from server_support import (
    PASSWORD,
    PG_ADMIN_URL,
    Clock,
    base_settings,
    db_kind,
    drop_pg_database,
    pg_database_url,
)
from sqlalchemy import text
from typer.testing import CliRunner

from bankkeys.bank.store.db import open_database
from bankkeys.cli import app
from bankkeys.server import bootstrap
from bankkeys.server.auth import SessionKind
from bankkeys.server.config import Settings, check
from bankkeys.server.context import ServerContext, build_context
from bankkeys.server.secrets_at_rest import SecretKeyError, read_key_file
from bankkeys.server.store.migrate import upgrade
from bankkeys.server.totp_at_rest import (
    TotpSecretsError,
    encrypt_clear_secrets,
    hotp,
    raw_secret,
)
from conftest import missing

__all__ = ["db_kind"]

OTHER_SECRET = pyotp.random_base32()
CLEAR = {"operator": bootstrap.DEMO_TOTP_SEED, "admin": OTHER_SECRET}


@pytest.fixture()
def fresh_url(db_kind: str, tmp_path: Path) -> Iterator[str]:
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"bk_totp_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(
            PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"),
            autocommit=True,
            connect_timeout=5,
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield pg_database_url(name)
    drop_pg_database(name)


def old_database(url: str) -> None:
    """The schema before sealing (s0001) with two accounts whose secrets are in clear."""
    db = open_database(url)
    try:
        upgrade(db, "s0001")
        now = datetime.now(UTC).replace(tzinfo=None)
        password_hash = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)
        with db.engine.begin() as conn:
            for login, secret in CLEAR.items():
                conn.execute(
                    text(
                        "INSERT INTO server_accounts (login, role, display_name, password_hash, "
                        "totp_secret, last_totp_step, failed_attempts, disabled, created_at, "
                        "password_changed_at) VALUES (:login, :role, :name, :hash, :secret, 0, 0, "
                        ":no, :now, :now)"
                    ),
                    {"login": login, "role": "operator" if login == "operator" else
                     "administrator", "name": login, "hash": password_hash, "secret": secret,
                     "no": False, "now": now},
                )  # fmt: skip
    finally:
        db.dispose()


def column(ctx: ServerContext) -> dict[str, str]:
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT login, totp_secret FROM server_accounts"))
        return {login: value for login, value in rows}


def signs_in(ctx: ServerContext, clock: Clock, login: str) -> bool:
    clock.advance(seconds=31)
    challenge = ctx.auth.check_password(login, PASSWORD)
    code = pyotp.TOTP(CLEAR[login]).at(clock())
    issued = ctx.auth.check_second_factor(challenge.token, code, SessionKind.API)
    return issued.principal.login == login


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {
        "BANKKEYS_VAR_DIR": str(settings.var_dir),
        "BANKKEYS_DATABASE_URL": settings.resolved_database_url,
        "BANKKEYS_ARGON2_MEMORY_KIB": "1024",
        "BANKKEYS_ARGON2_TIME_COST": "1",
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_totp_at_rest_upgrade_seals_clear_rows(fresh_url: str, tmp_path: Path) -> None:
    old_database(fresh_url)
    settings = base_settings(tmp_path / "var", fresh_url)
    key_file = settings.resolved_totp_key_file
    clock = Clock()
    # A process that does not migrate never creates a key: it names the missing file.
    with pytest.raises(SecretKeyError, match="не найден") as info:
        build_context(settings, clock=clock, migrate=False)
    assert str(key_file) in str(info.value) and not key_file.exists()

    ctx = build_context(settings, clock=clock)
    try:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        sealed = column(ctx)
        for login, secret in CLEAR.items():
            assert sealed[login].startswith("v1:") and secret not in sealed[login]
        assert all(signs_in(ctx, clock, login) for login in CLEAR)
        assert encrypt_clear_secrets(ctx.db, read_key_file(key_file)) == 0
        with ctx.db.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM bankkeys_server_version"))
            assert version.scalar_one() == "s0002"
            if ctx.db.dialect == "postgresql":
                width = conn.execute(
                    text(
                        "SELECT character_maximum_length FROM information_schema.columns "
                        "WHERE table_name = 'server_accounts' AND column_name = 'totp_secret'"
                    )
                ).scalar_one()
                assert width == 200
    finally:
        ctx.dispose()

    # Idempotent: a second start and the explicit command leave every value as it is.
    again = build_context(settings, clock=clock)
    try:
        assert column(again) == sealed
    finally:
        again.dispose()
    code, output = cli(settings, "server", "encrypt-totp-secrets")
    assert code == 0, output
    worker = build_context(settings, clock=clock, migrate=False)
    try:
        assert column(worker) == sealed
        # A clear secret written behind the server's back (an older release, a restore)...
        with worker.db.engine.begin() as conn:
            conn.execute(
                text("UPDATE server_accounts SET totp_secret = :s WHERE login = 'admin'"),
                {"s": OTHER_SECRET},
            )
    finally:
        worker.dispose()
    # ...stops a process that does not migrate, and is sealed by the command.
    with pytest.raises(TotpSecretsError, match="encrypt-totp-secrets"):
        build_context(settings, clock=clock, migrate=False)
    code, output = cli(settings, "server", "encrypt-totp-secrets")
    assert code == 0, output
    final = build_context(settings, clock=clock, migrate=False)
    try:
        values = column(final)
        assert values["operator"] == sealed["operator"]
        assert values["admin"].startswith("v1:") and values["admin"] != sealed["admin"]
        assert signs_in(final, clock, "admin")
    finally:
        final.dispose()


def test_totp_at_rest_missing_key_file_stops_start(fresh_url: str, tmp_path: Path) -> None:
    old_database(fresh_url)
    settings = base_settings(tmp_path / "var", fresh_url)
    build_context(settings).dispose()
    key_file = settings.resolved_totp_key_file
    moved = tmp_path / "backup-of-key"
    key_file.rename(moved)
    with pytest.raises(SecretKeyError, match="не найден") as info:
        build_context(settings)
    assert str(key_file) in str(info.value)
    assert not key_file.exists()  # never replaced by a fresh key that decrypts nothing
    code, output = cli(settings, "server", "encrypt-totp-secrets")
    assert code == 1 and str(key_file) in output and "не найден" in output
    code, output = cli(settings, "server", "rotate-totp-key")
    assert code == 1 and str(key_file) in output
    assert not key_file.exists()
    moved.rename(key_file)  # restored from the backup: the server starts again
    code, output = cli(settings, "server", "rotate-totp-key")
    assert code == 0, output
    ctx = build_context(settings)
    try:
        assert signs_in(ctx, Clock(), "operator")
    finally:
        ctx.dispose()


def printed_secrets(output: str) -> dict[str, str]:
    found = re.findall(r"^  (\S+): ([A-Z2-7]+)   otpauth://", output, flags=re.MULTILINE)
    return dict(found)


def test_totp_at_rest_reset_after_lost_key(fresh_url: str, tmp_path: Path) -> None:
    old_database(fresh_url)
    settings = base_settings(tmp_path / "var", fresh_url)
    clock = Clock()
    ctx = build_context(settings, clock=clock)
    assert signs_in(ctx, clock, "admin")
    ctx.dispose()
    key_file = settings.resolved_totp_key_file
    old_key = read_key_file(key_file).current_id
    # One lost phone: one account re-enrolled under the same key, the other untouched.
    before = column_of(settings)
    code, output = cli(settings, "server", "reset-totp", "--login", "operator")
    assert code == 0, output
    one = printed_secrets(output)
    assert set(one) == {"operator"} and one["operator"] != CLEAR["operator"]
    after = column_of(settings)
    assert after["admin"] == before["admin"] and after["operator"] != before["operator"]
    for secret in (*one.values(), CLEAR["operator"]):
        assert secret not in after["operator"]
    code, output = cli(settings, "server", "reset-totp", "--login", "nobody")
    assert code == 1 and "nobody" in output and column_of(settings) == after
    # The key file lost: the start refuses, reset-totp --all makes a new key and new secrets.
    key_file.unlink()
    with pytest.raises(SecretKeyError, match="не найден"):
        build_context(settings, clock=clock)
    code, output = cli(settings, "server", "reset-totp", "--all")
    assert code == 0, output
    fresh = printed_secrets(output)
    assert set(fresh) == set(CLEAR)
    assert read_key_file(key_file).current_id != old_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    reenrolled = dict(fresh)
    ctx = build_context(settings, clock=clock)
    try:
        for login, secret in reenrolled.items():
            clock.advance(seconds=31)
            challenge = ctx.auth.check_password(login, PASSWORD)
            issued = ctx.auth.check_second_factor(
                challenge.token, pyotp.TOTP(secret).at(clock()), SessionKind.API
            )
            assert issued.principal.login == login
    finally:
        ctx.dispose()


def column_of(settings: Settings) -> dict[str, str]:
    db = open_database(settings.resolved_database_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT login, totp_secret FROM server_accounts"))
            return {login: value for login, value in rows}
    finally:
        db.dispose()


MALFORMED = {
    "empty": ("# nothing\n", "нет ни одного ключа"),
    "words": ("v1 0123abcd\n", "строка 1"),
    "version": ("v9 0123abcd " + "A" * 44 + "\n", "строка 1"),
    "id": ("v1 XYZ " + "A" * 44 + "\n", "идентификатор"),
    "base64": ("\nv1 0123abcd not*base64\n", "строка 2"),
    "short": ("v1 0123abcd " + "QUJD" + "\n", "32 байта"),
    "twice": ("v1 0123abcd " + "A" * 43 + "=\n" + "v1 0123abcd " + "B" * 43 + "=\n", "дважды"),
    "binary": (b"\xff\xfe".decode("latin-1"), "не прочитан"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_totp_at_rest_malformed_key_file(case: str, tmp_path: Path) -> None:
    body, message = MALFORMED[case]
    path = tmp_path / "totp-key"
    path.write_bytes(body.encode("latin-1"))
    with pytest.raises(SecretKeyError, match=message) as info:
        read_key_file(path)
    assert str(path) in str(info.value)
    settings = base_settings(tmp_path, "sqlite:///" + str(tmp_path / "x.db"))
    problems = check(settings)
    assert any(p.startswith("totp_key_file:") and str(path) in p for p in problems), problems


def test_totp_at_rest_hotp_matches_pyotp() -> None:
    for _ in range(50):
        size = 14 + secrets.randbelow(51)  # 14..64 bytes, padding or none
        secret = base64.b32encode(secrets.token_bytes(size)).decode().rstrip("=")
        step = secrets.randbelow(2**40)
        raw = raw_secret(secret)
        assert hotp(raw, step) == pyotp.TOTP(secret).generate_otp(step)
    raw = raw_secret(bootstrap.DEMO_TOTP_SEED)  # unpadded base32 of 15 bytes
    assert hotp(raw, 1) == pyotp.TOTP(bootstrap.DEMO_TOTP_SEED).generate_otp(1)
    for bad in ("not base32!", "AAAA", "A" * 200, "1" * 16):
        with pytest.raises(ValueError, match="секрет TOTP"):
            raw_secret(bad)
