"""``bankkeys docs act|application REQUEST`` gives the very PDF the client API serves."""

from __future__ import annotations

from pathlib import Path

from server_support import (  # fixtures are imported by name, as in the other server tests
    RunningServer,
    b64,
    db_kind,
    new_key_request,
    server,
    server_factory,
    templates,
)
from typer.testing import CliRunner

from bankkeys.cli import app

__all__ = ["db_kind", "server", "server_factory", "templates"]


def _accepted_first_key_request(server: RunningServer) -> int:
    with server.as_user("accountant") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        _, pkcs10 = new_key_request(fields)
        r = c.post(
            f"/api/v1/profiles/{signer_id}/requests",
            json={"request": b64(pkcs10), "activation_code": server.template.activation_code},
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


def test_cli_documents_equal_the_api_documents(server: RunningServer, tmp_path: Path) -> None:
    rid = _accepted_first_key_request(server)
    env = {"BANKKEYS_DATABASE_URL": server.settings.resolved_database_url}
    runner = CliRunner()
    with server.as_user("accountant") as c:
        for command, kind in (
            ("act", "acceptance_act"),
            ("application", "certificate_application"),
        ):
            out = tmp_path / f"{command}.pdf"
            result = runner.invoke(app, ["docs", command, str(rid), "--out", str(out)], env=env)
            assert result.exit_code == 0, result.output
            served = c.get(f"/api/v1/requests/{rid}/documents/{kind}.pdf")
            assert served.status_code == 200
            assert out.read_bytes() == served.content


def test_cli_documents_unknown_request(server: RunningServer, tmp_path: Path) -> None:
    env = {"BANKKEYS_DATABASE_URL": server.settings.resolved_database_url}
    result = CliRunner().invoke(
        app, ["docs", "act", "999999", "--out", str(tmp_path / "x.pdf")], env=env
    )
    assert result.exit_code == 1
    assert "Запрос № 999999 не найден" in result.output
    assert not (tmp_path / "x.pdf").exists()
