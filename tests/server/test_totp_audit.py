"""Changes of the TOTP keys and secrets are in the bank's tamper-evident log: key rotation and
re-enrolment, each in the transaction that makes it, by the system account that ran the step."""

from __future__ import annotations

import pytest
from server_support import RunningServer, db_kind, server, server_factory, templates
from sqlalchemy import select

from bankkeys.bank import audit
from bankkeys.bank.store.models import AuditEvent
from bankkeys.server.secrets_at_rest import read_key_file
from bankkeys.server.totp_at_rest import TotpSecretsError, reset_secrets, rotate

__all__ = ["db_kind", "server", "server_factory", "templates"]


def _events(running: RunningServer, action: str) -> list[AuditEvent]:
    with running.ctx.db.transaction() as s:
        return list(
            s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()
        )


def test_totp_audit_rotation_and_reset_are_logged(server: RunningServer) -> None:
    db = server.ctx.db
    path = server.settings.resolved_totp_key_file
    new_id, count = rotate(db, path)
    [rotated] = _events(server, "totp-key-rotated")
    assert rotated.role == "administrator" and rotated.actor.startswith("os:")
    assert f'"key_id":"{new_id}"' in rotated.details and f'"accounts":{count}' in rotated.details
    issued = reset_secrets(db, read_key_file(path), ["operator"], server.clock())
    [reset] = _events(server, "totp-secrets-reset")
    assert '"logins":["operator"]' in reset.details and reset.seq > rotated.seq
    for secret in issued.values():
        assert secret not in reset.details  # the log names the accounts, never a secret
    with pytest.raises(TotpSecretsError, match="nobody"):  # refused: nothing changes or is logged
        reset_secrets(db, read_key_file(path), ["nobody"], server.clock())
    assert len(_events(server, "totp-secrets-reset")) == 1
    with db.transaction() as s:
        assert audit.verify(s) == []
