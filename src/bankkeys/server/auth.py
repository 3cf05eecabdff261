"""Sign-in: argon2id passwords, TOTP second factor, lock-out, sessions and bearer tokens.

Secrets handed to callers (tokens, cookies, challenges) are 256-bit random strings; the database
keeps only their SHA-256, so a leaked table signs nobody in. Failed sign-ins count per account;
after ``lockout_threshold`` failures the account is locked for ``lockout_minutes`` (the response
does not say whether the login exists: an unknown login costs the same argon2 work). TOTP secrets
are sealed with the server's key file (``totp_at_rest``): the table alone generates no codes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, cast

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Table, bindparam, select, update

from bankkeys.bank.store.db import Database
from bankkeys.bank.workflow import Actor, Role
from bankkeys.server.secrets_at_rest import KeyRing, SealedSecretError, zeroise
from bankkeys.server.store.models import Account, SessionRecord
from bankkeys.server.totp_at_rest import hotp, open_secret, seal_secret

log = logging.getLogger(__name__)

TOTP_PERIOD = 30

_SESSIONS: Final = cast(Table, SessionRecord.__table__)
_ACCOUNTS: Final = cast(Table, Account.__table__)
# Every authenticated call: the session and its account in one statement.
_RESOLVE: Final = (
    select(
        _SESSIONS.c.kind,
        _SESSIONS.c.revoked_at,
        _SESSIONS.c.expires_at,
        _SESSIONS.c.csrf_token,
        _ACCOUNTS.c.id,
        _ACCOUNTS.c.login,
        _ACCOUNTS.c.role,
        _ACCOUNTS.c.signer_id,
        _ACCOUNTS.c.display_name,
        _ACCOUNTS.c.disabled,
    )
    .select_from(_SESSIONS.join(_ACCOUNTS, _ACCOUNTS.c.id == _SESSIONS.c.account_id))
    .where(_SESSIONS.c.token_hash == bindparam("token_hash"))
)


class SessionKind(StrEnum):
    API = "api"
    CONSOLE = "console"
    CHALLENGE = "challenge"  # password accepted; second factor pending


class AuthError(Exception):
    """Sign-in refused; the message is safe to show (it does not reveal which part was wrong)."""


class PasswordRejected(AuthError):
    """The new password is not acceptable."""


class AccountLocked(AuthError):
    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"Слишком много неудачных попыток входа; вход заблокирован до {until:%H:%M} UTC"
        )
        self.until = until


class SecondFactorUnavailable(AuthError):
    """The account's stored TOTP secret does not decrypt: nothing about the sign-in changes."""

    def __init__(self) -> None:
        super().__init__(
            "Второй фактор учётной записи недоступен; обратитесь к администратору банка"
        )


BAD_CREDENTIALS = "Неверный логин или пароль"
BAD_CODE = "Неверный одноразовый код"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_code(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret, interval=TOTP_PERIOD).at(at)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling, established from a valid session."""

    account_id: int
    login: str
    role: Role
    signer_id: int | None
    display_name: str
    csrf_token: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.login, self.role, self.signer_id)


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime
    principal: Principal


@dataclass
class Authenticator:
    db: Database
    clock: Callable[[], datetime]
    token_ttl: timedelta = timedelta(minutes=60)
    session_ttl: timedelta = timedelta(minutes=30)
    challenge_ttl: timedelta = timedelta(minutes=5)
    lockout_threshold: int = 5
    lockout: timedelta = timedelta(minutes=15)
    hasher: PasswordHasher = field(default_factory=PasswordHasher)  # argon2id
    totp_keys: KeyRing | None = None  # the key file's keys; required to enrol and to verify

    def __post_init__(self) -> None:
        # Verified against for unknown logins, so timing does not tell which logins exist.
        self._dummy_hash = self.hasher.hash("bankkeys-dummy-password")

    def _keys(self) -> KeyRing:
        if self.totp_keys is None:
            raise RuntimeError("the TOTP key file is not loaded (build_context loads it)")
        return self.totp_keys

    def hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # -- accounts --

    def create_account(
        self,
        *,
        login: str,
        password: str,
        role: Role,
        display_name: str,
        signer_id: int | None = None,
        totp_secret: str | None = None,
    ) -> str:
        """Create an account; returns its TOTP secret (shown once, for the authenticator app)."""
        if (role == Role.CLIENT_SIGNER) != (signer_id is not None):
            raise ValueError("a client account needs a signer, a bank account must not have one")
        secret = totp_secret or new_totp_secret()
        sealed = seal_secret(self._keys(), login, secret)
        now = self.clock()
        with self.db.transaction() as session:
            session.add(
                Account(
                    login=login,
                    role=str(role),
                    signer_id=signer_id,
                    display_name=display_name,
                    password_hash=self.hash_password(password),
                    totp_secret=sealed,
                    last_totp_step=0,
                    failed_attempts=0,
                    disabled=False,
                    created_at=now,
                    password_changed_at=now,
                )
            )
        return secret

    # -- the two steps of signing in --

    def check_password(self, login: str, password: str) -> Issued:
        """Step one: the password. Returns a short-lived challenge for the second factor."""
        now = self.clock()
        with self.db.transaction() as session:
            account = session.execute(
                select(Account).where(Account.login == login).with_for_update()
            ).scalar_one_or_none()
            if account is None or account.disabled:
                self._verify(self._dummy_hash, password)
                raise AuthError(BAD_CREDENTIALS)
            self._refuse_locked(account, now)
            if not self._verify(account.password_hash, password):
                # Counted in this transaction, which must commit: the refusal is raised after it.
                self._count_failure(account, now)
                outcome: Issued | AuthError = AuthError(BAD_CREDENTIALS)
            else:
                if self.hasher.check_needs_rehash(account.password_hash):
                    account.password_hash = self.hash_password(password)
                outcome = self._open(
                    session, account, SessionKind.CHALLENGE, self.challenge_ttl, now
                )
        if isinstance(outcome, AuthError):
            raise outcome
        return outcome

    def check_second_factor(self, challenge: str, code: str, kind: SessionKind) -> Issued:
        """Step two: the TOTP code. Consumes the challenge; opens an API or console session."""
        now = self.clock()
        with self.db.transaction() as session:
            record = session.execute(
                select(SessionRecord)
                .where(SessionRecord.token_hash == _digest(challenge))
                .with_for_update()
            ).scalar_one_or_none()
            if (
                record is None
                or record.kind != SessionKind.CHALLENGE
                or record.revoked_at is not None
                or record.expires_at <= now
            ):
                raise AuthError("Сеанс входа истёк; введите логин и пароль заново")
            account = session.execute(
                select(Account).where(Account.id == record.account_id).with_for_update()
            ).scalar_one()
            self._refuse_locked(account, now)
            step = self._matching_step(account, code, now)
            if step is None:
                self._count_failure(account, now)
                if account.locked_until is not None:
                    record.revoked_at = now
                outcome: Issued | AuthError = AuthError(BAD_CODE)
            else:
                record.revoked_at = now
                account.last_totp_step = step
                account.failed_attempts = 0
                account.last_login_at = now
                ttl = self.token_ttl if kind == SessionKind.API else self.session_ttl
                outcome = self._open(session, account, kind, ttl, now)
        if isinstance(outcome, AuthError):
            raise outcome
        return outcome

    def _matching_step(self, account: Account, code: str, now: datetime) -> int | None:
        """The time step whose code matches (±1 step of clock drift), never one used before.

        A secret that does not decrypt raises SecondFactorUnavailable, which rolls the caller's
        transaction back: the challenge stays, no failure is counted (it is not the user's)."""
        try:
            secret = open_secret(self._keys(), account.login, account.totp_secret)
        except SealedSecretError as exc:
            log.error("totp secret unusable", extra={"fields": {"reason": str(exc)}})
            raise SecondFactorUnavailable() from None
        try:
            current = int(now.timestamp()) // TOTP_PERIOD
            for step in (current - 1, current, current + 1):
                expected = hotp(secret, step)
                if hmac.compare_digest(expected.encode(), code.encode()) and (
                    step > account.last_totp_step
                ):
                    return step
            return None
        finally:
            zeroise(secret)

    def _refuse_locked(self, account: Account, now: datetime) -> None:
        if account.locked_until is not None and account.locked_until > now:
            raise AccountLocked(account.locked_until)

    def _count_failure(self, account: Account, now: datetime) -> None:
        account.failed_attempts += 1
        if account.failed_attempts >= self.lockout_threshold:
            # Each further failure after the lock doubles it (back-off), up to a day.
            over = account.failed_attempts - self.lockout_threshold
            account.locked_until = now + min(self.lockout * (2**over), timedelta(days=1))

    def _open(
        self, session: object, account: Account, kind: SessionKind, ttl: timedelta, now: datetime
    ) -> Issued:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32) if kind == SessionKind.CONSOLE else None
        session.add(
            SessionRecord(
                token_hash=_digest(token),
                account_id=account.id,
                kind=str(kind),
                csrf_token=csrf,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        return Issued(token, now + ttl, _principal(account, csrf))

    # -- using a session --

    def resolve(self, token: str, kind: SessionKind) -> Principal | None:
        """The principal of a live session of ``kind``, or None.

        Read afresh at every call, never cached: a sign-out, a password change or a disabled
        account in any server process ends the session at the next request. One statement, so
        on PostgreSQL it runs outside a transaction (one round trip)."""
        now = self.clock()
        with self.db.statements() as conn:
            row = conn.execute(_RESOLVE, {"token_hash": _digest(token)}).first()
        if row is None:
            return None
        if row.kind != kind or row.revoked_at is not None or row.expires_at <= now or row.disabled:
            return None
        return Principal(
            account_id=row.id,
            login=row.login,
            role=Role(row.role),
            signer_id=row.signer_id,
            display_name=row.display_name,
            csrf_token=row.csrf_token,
        )

    def sign_out(self, token: str) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(SessionRecord)
                .where(SessionRecord.token_hash == _digest(token))
                .values(revoked_at=self.clock())
            )

    def change_password(self, account_id: int, old: str, new: str) -> None:
        """Check the old password; set the new one and end every other session."""
        now = self.clock()
        with self.db.transaction() as session:
            account = session.execute(
                select(Account).where(Account.id == account_id).with_for_update()
            ).scalar_one()
            self._refuse_locked(account, now)
            if not self._verify(account.password_hash, old):
                self._count_failure(account, now)
                failed = True
            else:
                failed = False
        if failed:
            raise AuthError("Текущий пароль введён неверно")
        if hmac.compare_digest(old.encode(), new.encode()):
            raise PasswordRejected("Новый пароль должен отличаться от текущего")
        with self.db.transaction() as session:
            account = session.execute(
                select(Account).where(Account.id == account_id).with_for_update()
            ).scalar_one()
            account.password_hash = self.hash_password(new)
            account.password_changed_at = now
            session.execute(
                update(SessionRecord)
                .where(SessionRecord.account_id == account_id, SessionRecord.revoked_at.is_(None))
                .values(revoked_at=now)
            )


def _principal(account: Account, csrf: str | None) -> Principal:
    return Principal(
        account_id=account.id,
        login=account.login,
        role=Role(account.role),
        signer_id=account.signer_id,
        display_name=account.display_name,
        csrf_token=csrf,
    )


def password_problems(password: str) -> str | None:
    """Why a new password is too weak, or None."""
    if len(password) < 12:
        return "Пароль должен быть не короче 12 символов"
    classes = sum(
        any(test(c) for c in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if classes < 3:
        return (
            "Пароль должен содержать символы хотя бы трёх видов: строчные, прописные, цифры, знаки"
        )
    return None
