"""TOTP shared secrets at rest: sealed with the server's key file, bound to the account's login.

The database holds ``v1:<key id>:<nonce>:<ciphertext>`` of the secret's raw bytes (the base32
text is what the authenticator app is given once, at enrolment). A dump of the database alone
therefore generates no codes.

Encrypting the clear secrets of an older database is not an Alembic step: migrations run without
the server's settings, so they cannot reach the key file. The process that migrates (``bankkeys
serve``, ``bankkeys demo``, ``bankkeys server encrypt-totp-secrets``) encrypts them right after
the migrations, idempotently; a process that does not migrate (a ``--workers`` child) refuses to
start while any clear secret remains.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pyotp
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bankkeys.bank import audit
from bankkeys.bank.store.db import Database
from bankkeys.server.secrets_at_rest import (
    KeyRing,
    SealedSecretError,
    SecretKeyError,
    is_sealed,
    key_id_of,
    new_key,
    read_key_file,
    read_keys,
    write_key_file,
    zeroise,
)
from bankkeys.server.store.models import Account, SessionRecord

log = logging.getLogger(__name__)

MIN_SECRET_BYTES: Final = 14  # 112 bits: what pyotp, used before, accepted
MAX_SECRET_BYTES: Final = 64
TOTP_DIGITS: Final = 6


class TotpSecretsError(Exception):
    """The server cannot use the stored TOTP secrets; the message says what to do."""


def _system_account() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's uid without a name
        return "unknown"


def _audit(session: Session, action: str, *, at: datetime | None = None, **details: Any) -> None:
    # Who can read the key file can sign in as anyone: every change of the keys or of the
    # secrets goes into the bank's tamper-evident log, in the transaction that makes it. These
    # are command-line steps on the server's machine: the actor is the system account running it.
    audit.append(
        session,
        at=at or datetime.now(UTC),
        actor=f"os:{_system_account()}",
        role="administrator",
        action=action,
        details=details,
    )


def associated_data(login: str) -> bytes:
    return b"bankkeys/totp-secret/v1\x00" + login.encode("utf-8")


def raw_secret(base32: str) -> bytearray:
    """The secret's bytes from the base32 text given to authenticator apps (padding optional)."""
    text = base32.strip().replace(" ", "").upper()
    try:
        raw = bytearray(base64.b32decode(text + "=" * (-len(text) % 8)))
    except (binascii.Error, ValueError):
        raise ValueError("секрет TOTP должен быть в base32") from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        zeroise(raw)
        raise ValueError(f"секрет TOTP — от {MIN_SECRET_BYTES} до {MAX_SECRET_BYTES} байт")
    return raw


def seal_secret(keys: KeyRing, login: str, base32: str) -> str:
    raw = raw_secret(base32)
    try:
        return keys.seal(raw, associated_data(login))
    finally:
        zeroise(raw)


def open_secret(keys: KeyRing, login: str, stored: str) -> bytearray:
    """The raw secret (the caller zeroises it); SealedSecretError names the account."""
    if not is_sealed(stored):
        raise SealedSecretError(
            f"секрет TOTP учётной записи «{login}» хранится открыто: "
            "выполните bankkeys server encrypt-totp-secrets"
        )
    try:
        return keys.open(stored, associated_data(login))
    except SealedSecretError as exc:
        raise SealedSecretError(f"секрет TOTP учётной записи «{login}»: {exc}") from None


def hotp(secret: bytearray, counter: int) -> str:
    """RFC 4226 with HMAC-SHA1 and six digits, as RFC 6238 authenticator apps compute it."""
    mac = hmac.new(secret, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**TOTP_DIGITS:0{TOTP_DIGITS}d}"


# --- the database ------------------------------------------------------------------------------


def clear_secret_logins(db: Database) -> list[str]:
    with db.transaction() as session:
        rows = session.execute(select(Account.login, Account.totp_secret)).all()
    return sorted(login for login, stored in rows if not is_sealed(stored))


def sealed_count(db: Database) -> int:
    with db.transaction() as session:
        return int(
            session.execute(
                select(func.count()).where(Account.totp_secret.like("v1:%"))
            ).scalar_one()
        )


def encrypt_clear_secrets(db: Database, keys: KeyRing) -> int:
    """Seal every secret still stored in clear; returns how many. Idempotent: sealed rows are
    left as they are. One transaction: all of them or none."""
    done = 0
    with db.transaction() as session:
        accounts = session.execute(select(Account).with_for_update()).scalars().all()
        for account in accounts:
            if is_sealed(account.totp_secret):
                continue
            try:
                account.totp_secret = seal_secret(keys, account.login, account.totp_secret)
            except ValueError as exc:
                raise TotpSecretsError(
                    f"секрет TOTP учётной записи «{account.login}» не зашифрован: {exc}"
                ) from None
            done += 1
        if done:
            _audit(session, "totp-secrets-sealed", accounts=done, key_id=keys.current_id)
    return done


def undecryptable(db: Database, keys: KeyRing) -> tuple[int, list[str]]:
    """How many sealed secrets there are, and the accounts whose secret does not decrypt."""
    with db.transaction() as session:
        rows = session.execute(select(Account.login, Account.totp_secret)).all()
    sealed, failed = 0, []
    for login, stored in rows:
        if not is_sealed(stored):
            continue
        sealed += 1
        try:
            zeroise(open_secret(keys, login, stored))
        except SealedSecretError:
            failed.append(login)
    return sealed, sorted(failed)


def rotate(db: Database, path: Path) -> tuple[str, int]:
    """A new key in the key file; every secret re-encrypted under it; the old keys removed.

    Crash-safe in three steps: the file first gets the new key beside the old ones (each row then
    decrypts whatever happens next), the rows are re-encrypted in one transaction, and only then
    are the old keys dropped from the file. Returns the new key id and the rows re-encrypted."""
    old = read_key_file(path)
    _, failed = undecryptable(db, old)
    if failed:
        raise TotpSecretsError(
            f"смена ключа отменена: не расшифровываются секреты учётных записей {', '.join(failed)}"
        )
    key_id, material = new_key()
    try:
        old_lines = read_keys(path)
        try:
            write_key_file(path, [(key_id, material), *old_lines], exclusive=False)
        finally:
            for _, buffer in old_lines:
                zeroise(buffer)
        both = read_key_file(path)
        done = 0
        with db.transaction() as session:
            accounts = session.execute(select(Account).with_for_update()).scalars().all()
            for account in accounts:
                if is_sealed(account.totp_secret) and key_id_of(account.totp_secret) == key_id:
                    continue
                raw = (
                    open_secret(both, account.login, account.totp_secret)
                    if is_sealed(account.totp_secret)
                    else raw_secret(account.totp_secret)
                )
                try:
                    account.totp_secret = both.seal(raw, associated_data(account.login))
                finally:
                    zeroise(raw)
                done += 1
            _audit(session, "totp-key-rotated", accounts=done, key_id=key_id)
        write_key_file(path, [(key_id, material)], exclusive=False)
    finally:
        zeroise(material)
    log.info("totp key rotated", extra={"fields": {"key_id": key_id, "accounts": done}})
    return key_id, done


def reset_secrets(
    db: Database, keys: KeyRing, logins: Sequence[str] | None, now: datetime
) -> dict[str, str]:
    """Re-enrol: a new secret for each of ``logins`` (None: every account), sealed under the
    current key, its sessions ended (the old device may be in other hands). Returns the new base32
    secrets, to be shown once. An unknown login changes nothing."""
    with db.transaction() as session:
        query = select(Account).with_for_update()
        if logins is not None:
            query = query.where(Account.login.in_(logins))
        accounts = session.execute(query).scalars().all()
        unknown = sorted(set(logins or ()) - {a.login for a in accounts})
        if unknown:
            raise TotpSecretsError(f"нет учётных записей: {', '.join(unknown)}")
        issued = reenrol(session, keys, accounts, now, actor=f"os:{_system_account()}")
    log.warning("totp secrets re-enrolled", extra={"fields": {"accounts": sorted(issued)}})
    return issued


RESET_ACTION: Final = "totp-secrets-reset"


def reenrol(
    session: Session,
    keys: KeyRing,
    accounts: Sequence[Account],
    now: datetime,
    *,
    actor: str,
    role: str = "administrator",
) -> dict[str, str]:
    """The re-enrolment itself, in the caller's transaction on accounts it has locked: a new
    secret each, sealed under the current key, their open sessions ended, and one
    ``totp-secrets-reset`` event naming ``actor`` (the logins and the key id, never a secret).
    Returns the new base32 secrets, to be shown once."""
    issued: dict[str, str] = {}
    for account in accounts:
        secret = pyotp.random_base32()
        account.totp_secret = seal_secret(keys, account.login, secret)
        account.last_totp_step = 0
        issued[account.login] = secret
    session.execute(
        update(SessionRecord)
        .where(
            SessionRecord.account_id.in_([a.id for a in accounts]),
            SessionRecord.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    audit.append(
        session,
        at=now,
        actor=actor,
        role=role,
        action=RESET_ACTION,
        details={"logins": sorted(issued), "key_id": keys.current_id},
    )
    return issued


def key_ring_for_reset(path: Path) -> KeyRing:
    """The key file, or a new one when it is lost (every secret is then re-enrolled)."""
    if not path.exists():
        key_id, material = new_key()
        try:
            write_key_file(path, [(key_id, material)], exclusive=True)
        finally:
            zeroise(material)
    return read_key_file(path)


# --- at start ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartReport:
    created_key: bool
    encrypted: int
    undecryptable: tuple[str, ...]


def open_server_keys(db: Database, path: Path, *, prepare: bool) -> tuple[KeyRing, StartReport]:
    """The key ring a server process uses, after the checks that make it safe to serve.

    ``prepare`` (the process that migrated): a missing key file is created when the database
    holds no sealed secret yet (first start, or an upgrade from clear secrets), then clear
    secrets are sealed. Otherwise a missing file is an error: a new key would decrypt nothing.
    Refused as well: clear secrets left in a process that does not prepare, and a key file that
    decrypts none of the stored secrets (the wrong file)."""
    created = False
    if not path.exists():
        if not prepare or sealed_count(db) > 0:
            raise SecretKeyError(
                f"Файл ключа секретов TOTP не найден: {path}. Восстановите его из резервной "
                "копии (BANKKEYS_TOTP_KEY_FILE указывает путь); если ключ утрачен, сотрудникам "
                "и клиентам нужно заново выдать секреты одноразовых кодов"
            )
        key_id, material = new_key()
        try:
            write_key_file(path, [(key_id, material)], exclusive=True)
            created = True
            log.warning("totp key file created", extra={"fields": {"path": str(path)}})
        except SecretKeyError:
            pass  # another process created it first: that one is used
        finally:
            zeroise(material)
    keys = read_key_file(path)
    encrypted = 0
    if prepare:
        encrypted = encrypt_clear_secrets(db, keys)
    else:
        clear = clear_secret_logins(db)
        if clear:
            raise TotpSecretsError(
                f"секреты TOTP хранятся открыто ({len(clear)} учётных записей): запустите "
                "bankkeys server encrypt-totp-secrets или bankkeys serve без --workers"
            )
    sealed, failed = undecryptable(db, keys)
    if sealed and len(failed) == sealed:
        raise SecretKeyError(
            f"Файл ключа {path} не подходит к базе данных: ни один из {sealed} секретов TOTP "
            "им не расшифровывается"
        )
    if failed:
        log.error(
            "totp secrets that do not decrypt (those accounts cannot sign in)",
            extra={"fields": {"accounts": failed}},
        )
    return keys, StartReport(created, encrypted, tuple(failed))
