"""Re-enrolling one account's second factor from the console («Учётные записи», administrators).

The step is ``bankkeys server reset-totp --login`` (both call :func:`bankkeys.server.totp_at_rest.
reenrol`) with one difference: that command runs on the server's machine and names the
system account in the audit log, while here a signed-in administrator acts, so the event
``totp-secrets-reset`` (the same details: the logins and the key id, never a secret) names their
login. The new secret is sealed under the current key; the account's open sessions end, since
the lost device may be in other hands.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select

from bankkeys.bank.errors import NotAllowed, NotFound
from bankkeys.bank.store.db import Database
from bankkeys.bank.workflow import Actor, Role
from bankkeys.server.secrets_at_rest import KeyRing
from bankkeys.server.store.models import Account
from bankkeys.server.totp_at_rest import reenrol


def otpauth_uri(login: str, secret: str) -> str:
    """What the authenticator app scans; the form ``bankkeys server reset-totp`` prints."""
    return f"otpauth://totp/bankkeys:{quote(login)}?secret={secret}&issuer=bankkeys"


def reset_totp(db: Database, keys: KeyRing, actor: Actor, account_id: int, now: datetime) -> str:
    """A new TOTP secret for the account (returned once, base32); refused for one's own account:
    a stolen console session must not be able to move its owner's second factor to a new device."""
    if actor.role != Role.ADMINISTRATOR:
        raise NotAllowed("Новый секрет одноразовых кодов выдаёт только администратор")
    with db.transaction() as session:
        account = session.execute(
            select(Account).where(Account.id == account_id).with_for_update()
        ).scalar_one_or_none()
        if account is None:
            raise NotFound(f"Учётная запись № {account_id} не найдена")
        if account.login == actor.login:
            raise NotAllowed(
                "Свой секрет одноразовых кодов через консоль не перевыпустить: это делает другой "
                "администратор или команда «bankkeys server reset-totp --login» на сервере"
            )
        issued = reenrol(session, keys, [account], now, actor=actor.login, role=actor.role)
    return issued[account.login]
