"""The bank's CLI: ``db``, ``ca``, ``bank``, ``audit`` against both databases."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from bank_support import (
    create_pg_database,
    db_url,
    drop_pg_database,
    pg_database_url,
    pg_worker_database,
    sqlite_template,
)
from sqlalchemy import text
from typer.testing import CliRunner

from bankkeys.bank.store.db import head_revision, open_database
from bankkeys.cli import app
from bankkeys.pki.crls import parse_crl

__all__ = ["db_url", "pg_worker_database", "sqlite_template"]

PINS = {"BANKKEYS_CA_PIN": "Ca-Pin#2026x", "BANKKEYS_CA_ADMIN_PIN": "Adm-Pin#2026y"}


def cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env=PINS)
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_bank_cli_end_to_end(db_url: str, tmp_path: Path) -> None:
    out = cli("ca", "init", "--name", "УЦ Тестового банка", "--organization", "АО Банк",
              "--container", str(tmp_path / "ca-key"), "--family", "ecdsa-p256",
              "--curve", "P-256", "--url", db_url)  # fmt: skip
    assert "УЦ создан" in out and "СОС № 1" in out
    assert "ecdsa-p256" in cli("ca", "show", "--url", db_url)
    cli("ca", "init", "--name", "x", "--organization", "x", "--container",
        str(tmp_path / "second"), "--url", db_url, code=1)  # fmt: skip
    cli("bank", "org-add", "--name", "ООО «Ромашка»", "--inn", "7707083893", "--ogrn",
        "1027700132195", "--address", "Москва", "--url", db_url)  # fmt: skip
    assert "ИНН" in cli("bank", "org-add", "--name", "x", "--inn", "7707083894", "--ogrn",
                        "1027700132195", "--address", "x", "--url", db_url, code=1)  # fmt: skip
    out = cli("bank", "signer-add", "--organization-id", "1", "--login", "ivanov", "--surname",
              "Иванов", "--given-name", "Иван Иванович", "--position", "Директор", "--snils",
              "11223344595", "--email", "i@example.ru", "--phone", "+7 495 000-00-00",
              "--acting-on", "Устава", "--url", db_url)  # fmt: skip
    assert re.search(r"Код активации .*: [A-Z0-9]{4}-[A-Z0-9]{4}-", out)
    assert "Необходима начальная генерация" in cli("bank", "status", "ivanov", "--url", db_url)
    cli("bank", "status", "nobody", "--url", db_url, code=1)
    assert "СОС: без изменений" in cli("bank", "tick", "--with-ca", "--url", db_url)
    crl_file = tmp_path / "crl.der"
    assert "СОС № 2" in cli("ca", "crl", "--out", str(crl_file), "--url", db_url)
    assert parse_crl(crl_file.read_bytes()).crl_number == 2
    assert "состояние" in cli("bank", "requests", "--url", db_url)
    assert "Журнал аудита цел" in cli("audit", "verify", "--url", db_url)
    assert "register_" in cli("audit", "show", "--url", db_url)

    db = open_database(db_url)
    with db.transaction() as s:
        s.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    db.dispose()
    result = CliRunner().invoke(app, ["audit", "verify", "--url", db_url])
    assert result.exit_code == 1
    assert "запись 3 изменена" in result.output


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_db_upgrade_on_an_empty_database(kind: str, tmp_path: Path) -> None:
    if kind == "sqlite":
        url, name = f"sqlite:///{tmp_path}/new.db", None
    else:
        name = create_pg_database("bankkeys_cli")
        url = pg_database_url(name)
    try:
        cli("db", "current", "--url", url, code=1)
        head = head_revision()
        assert f"обновлена до версии {head}" in cli("db", "upgrade", "--url", url)
        assert f"Версия базы: {head}" in cli("db", "current", "--url", url)
        cli("db", "upgrade", "--url", url)  # idempotent
    finally:
        if name:
            drop_pg_database(name)


def test_audit_anchors_outside_the_database(db_url: str, tmp_path: Path) -> None:
    cli("ca", "init", "--name", "УЦ", "--organization", "АО Банк", "--container",
        str(tmp_path / "ca-key"), "--family", "ecdsa-p256", "--curve", "P-256",
        "--url", db_url)  # fmt: skip
    marks = tmp_path / "worm" / "anchors.txt"
    marks.parent.mkdir()
    first = cli("audit", "anchor", "--append", str(marks), "--url", db_url).strip()
    cli("bank", "org-add", "--name", "ООО «Ромашка»", "--inn", "7707083893", "--ogrn",
        "1027700132195", "--address", "Москва", "--url", db_url)  # fmt: skip
    cli("audit", "anchor", "--append", str(marks), "--url", db_url)
    lines = marks.read_text().splitlines()
    assert lines[0] == first and len(lines) == 2
    assert re.fullmatch(r"bankkeys-audit-anchor seq=\d+ hash=[0-9a-f]{64}", lines[1])
    assert "отметок проверено: 2" in cli(
        "audit", "verify", "--anchors", str(marks), "--url", db_url
    )

    # The newest event deleted and the head moved back: intact alone, caught by the anchor.
    db = open_database(db_url)
    with db.transaction() as s:
        last = s.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        s.execute(text("DELETE FROM audit_events WHERE seq = :n"), {"n": last})
        prev = s.execute(text("SELECT hash FROM audit_events WHERE seq = :n"), {"n": last - 1})
        s.execute(text("UPDATE audit_head SET seq = :n, hash = :h WHERE id = 1"),
                  {"n": last - 1, "h": prev.scalar_one()})  # fmt: skip
    db.dispose()
    assert "Журнал аудита цел" in cli("audit", "verify", "--url", db_url)
    out = cli("audit", "verify", "--anchors", str(marks), "--url", db_url, code=1)
    assert "anchor-beyond-end" in out and "последние записи удалены" in out

    marks.write_text(lines[0] + "\nbankkeys-audit-anchor seq=oops\n")
    assert "строка 2" in cli("audit", "verify", "--anchors", str(marks), "--url", db_url, code=2)
    cli("audit", "verify", "--anchors", str(tmp_path / "missing.txt"), "--url", db_url, code=2)


def test_audit_verify_and_anchor_leave_the_bank_writing(db_url: str) -> None:
    """Checking the log takes no write lock: with a writer holding SQLite's (a transition in
    progress), verify and anchor still answer at once instead of waiting behind it."""
    db = open_database(db_url)
    try:
        with db.transaction() as s:  # on SQLite: BEGIN IMMEDIATE, the database's write lock
            s.execute(text("SELECT 1"))
            for command in (["audit", "verify"], ["audit", "anchor"]):
                done: list[str] = []
                worker = threading.Thread(
                    target=lambda c=command, out=done: out.append(cli(*c, "--url", db_url))
                )
                worker.start()
                worker.join(timeout=20)
                assert not worker.is_alive(), f"{command} waited for the writer"
                assert done and ("Журнал аудита цел" in done[0] or "seq=" in done[0])
    finally:
        db.dispose()
