"""Everything a request handler needs, built once per server process."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher

from bankkeys.bank.ca import BankCA, ca_record, load_ca, open_ca_signer
from bankkeys.bank.errors import BankError
from bankkeys.bank.inspect import PkiRequestInspector
from bankkeys.bank.store.db import Database, open_database
from bankkeys.bank.workflow import Workflow, utcnow
from bankkeys.pki.errors import PkiError
from bankkeys.server.auth import Authenticator
from bankkeys.server.config import Settings
from bankkeys.server.store.migrate import upgrade
from bankkeys.server.totp_at_rest import open_server_keys
from bankkeys.tokens.errors import TokenError


@dataclass
class ServerContext:
    settings: Settings
    db: Database
    workflow: Workflow
    auth: Authenticator
    clock: Callable[[], datetime]

    @property
    def ca(self) -> BankCA | None:
        ca = self.workflow.ca
        return ca if isinstance(ca, BankCA) else None

    def dispose(self) -> None:
        self.db.dispose()


def read_ca_pin(settings: Settings) -> str | None:
    if settings.ca_pin:
        return settings.ca_pin
    path = settings.resolved_ca_pin_file
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return None


def open_bank_ca(db: Database, settings: Settings) -> BankCA | None:
    """The CA with its key opened, or None (not created yet, or no PIN): issuance then waits."""
    pin = read_ca_pin(settings)
    if pin is None:
        return None
    try:
        record = ca_record(db)
        signer = open_ca_signer(json.loads(record.key_ref), pin)
        return load_ca(db, signer, crl_urls=(settings.crl_url,))
    except (BankError, TokenError, PkiError, OSError):
        return None


def handler_threads(settings: Settings, dialect: str) -> int:
    """Request handler threads per process. SQLite takes its write lock at BEGIN, so threads
    beyond a few only queue in its busy handler (unfairly: the tail latency grows). On PostgreSQL
    a handler is mostly CPU (signature checks, the ORM) between short round trips: a few threads
    keep a core busy, and more only contend for the GIL, so requests beyond them wait in the
    event loop's queue instead, in arrival order."""
    return settings.threads or (4 if dialect == "sqlite" else 8)


# Besides the handler threads: the scheduler's thread, and one spare.
_POOL_EXTRA = 2


def build_context(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    migrate: bool = True,
) -> ServerContext:
    Path(settings.var_dir).mkdir(parents=True, exist_ok=True)
    # One pooled connection per thread that may hold one: none is opened and closed per request.
    db = open_database(
        settings.resolved_database_url,
        pool_size=handler_threads(settings, "postgresql") + _POOL_EXTRA,
    )
    if migrate:
        upgrade(db)
    try:
        # The process that migrates also seals clear TOTP secrets; the others only check.
        totp_keys, _ = open_server_keys(db, settings.resolved_totp_key_file, prepare=migrate)
    except BaseException:
        db.dispose()
        raise
    workflow = Workflow(
        db,
        settings.policy(),
        inspector=PkiRequestInspector(),
        ca=open_bank_ca(db, settings),
        clock=clock,
    )
    auth = Authenticator(
        db,
        clock,
        token_ttl=timedelta(minutes=settings.token_ttl_minutes),
        session_ttl=timedelta(minutes=settings.session_ttl_minutes),
        challenge_ttl=timedelta(seconds=settings.challenge_ttl_seconds),
        lockout_threshold=settings.lockout_threshold,
        lockout=timedelta(minutes=settings.lockout_minutes),
        hasher=PasswordHasher(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
        ),
        totp_keys=totp_keys,
    )
    return ServerContext(settings, db, workflow, auth, clock)
