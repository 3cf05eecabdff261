"""Accounts of the people who sign in, their sessions and the scheduler's lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bankkeys.bank.store.types import UTCDateTime


class ServerBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class Account(ServerBase):
    """One person who signs in: a client signer (``signer_id``) or a bank employee (``role``)."""

    __tablename__ = "server_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(30))  # bankkeys.bank.workflow.Role
    # signers.id (the constraint is in the migration; the bank's tables are another metadata)
    signer_id: Mapped[int | None] = mapped_column(unique=True)
    display_name: Mapped[str] = mapped_column(String(300))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, PHC string
    # v1:<key id>:<nonce>:<ciphertext>, sealed with the key file (bankkeys.server.totp_at_rest)
    totp_secret: Mapped[str] = mapped_column(String(200))
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)  # no code is used twice
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class SessionRecord(ServerBase):
    """A sign-in: a bearer token (``api``), a console cookie (``console``) or the step between
    the password and the second factor (``challenge``). Only the SHA-256 of the secret is kept."""

    __tablename__ = "server_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("server_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Lease(ServerBase):
    """Who runs a periodic job now: several server processes share one database."""

    __tablename__ = "server_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
