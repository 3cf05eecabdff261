"""Creating sign-in accounts: bank staff by role, client signers by their login in the bank."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from bankkeys.bank.store.models import Signer
from bankkeys.bank.workflow import Role
from bankkeys.server.context import ServerContext


def provision_account(
    ctx: ServerContext, login: str, role: Role, display_name: str
) -> dict[str, str]:
    """A new account with a random initial password and TOTP secret (returned, shown once)."""
    if role == Role.SYSTEM:
        raise ValueError("Роль «система» не выдаётся людям")
    signer_id = None
    if role == Role.CLIENT_SIGNER:
        with ctx.db.transaction() as session:
            signer = session.execute(
                select(Signer).where(Signer.login == login)
            ).scalar_one_or_none()
            if signer is None:
                raise ValueError(f"Владелец сертификата с логином «{login}» не зарегистрирован")
            signer_id, display_name = signer.id, signer.full_name
    if not display_name:
        raise ValueError("Укажите имя сотрудника")
    password = secrets.token_urlsafe(12) + "-Aa1"
    secret = ctx.auth.create_account(
        login=login, password=password, role=role, display_name=display_name, signer_id=signer_id
    )
    return {"login": login, "password": password, "totp_secret": secret}
