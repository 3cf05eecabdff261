"""End-to-end through ``bankkeys client …`` against a real bank server (uvicorn, SQLite)."""

from __future__ import annotations

from pathlib import Path

from client_support import (  # noqa: F401  (fixtures)
    NEW_USER_PIN,
    USER_PIN,
    Bank,
    Cli,
    any_bank_fixture,
    bank_fixture,
    cli_fixture,
    container_with_serial,
    default_pins_input,
    ready_container,
)

from bankkeys.pki.certificates import parse_certificate
from bankkeys.tokens import SoftwareContainer


def _is_pdf(path: Path) -> bool:
    return path.read_bytes().startswith(b"%PDF-")


def test_planned_renewal_on_the_same_token(any_bank: Bank, cli: Cli, tmp_path: Path) -> None:
    bank = any_bank
    person = bank.add_signer("director", "Петров", "112233445")
    folder = tmp_path / "flash" / "A1B2C3.000"
    token = ready_container(folder, "2000123456")
    old_serial = bank.issue_current(person, token)
    token.close()

    out = cli.sign_in(bank, person).output
    assert "Необходима плановая замена сертификата" in out
    assert "Создать запрос на генерацию" in out
    cli("container-add", str(folder))
    tokens = cli("tokens").output
    assert "Рутокен ЭЦП 2.0" in tokens and "2000123456" in tokens

    out = cli("renew", str(person.signer_id), "--token", "2000123456", input=f"{USER_PIN}\n").output
    assert "Принят банком" in out, out
    assert "Принят банком" in bank.status_text(person)

    docs = tmp_path / "docs"
    out = cli("documents", str(person.signer_id), "--out", str(docs)).output
    pdfs = sorted(docs.glob("*.pdf"))
    assert [p.name.split("-")[0] for p in pdfs] == ["acceptance_act", "certificate_application"]
    assert all(_is_pdf(p) for p in pdfs)
    assert "2 экз." in out

    bank.approve(person)
    assert "Получен новый сертификат" in cli("status").output

    out = cli("install", str(person.signer_id), input=f"{USER_PIN}\n").output
    assert "Вы переведены на работу с новым комплектом ключей" in out, out
    assert "transfer-act" not in out  # the same token: no acceptance-transfer act to bring

    reopened = SoftwareContainer(folder)
    certs = [parse_certificate(c.der) for c in reopened.certificates()]
    assert len(certs) == 2
    new = next(c for c in certs if format(c.serial, "x") != old_serial)
    keys = {k.public_key_info for k in reopened.key_pairs()}
    assert new.public_key_info in keys
    assert bank.ctx.workflow.status(person.signer_id).certificate_serial == format(new.serial, "x")
    status = cli("status").output
    assert "Действий не требуется" in status or "Готово" in status
    assert "извлеките его из компьютера" in status  # the token stays plugged in, nothing to do


def test_first_key_with_activation_code_on_a_new_container(
    bank: Bank, cli: Cli, tmp_path: Path
) -> None:
    person = bank.add_signer("accountant", "Сидорова", "223344556")
    folder = tmp_path / "flash" / "NEW.000"
    container_with_serial(folder, "3220000001", "Новый").close()
    cli.sign_in(bank, person)
    cli("container-add", str(folder))
    assert "Необходима начальная генерация" in cli("status").output

    # the factory PINs are refused first, then changed to strong, different ones
    script = default_pins_input() + f"{NEW_USER_PIN}\n"
    out = cli(
        "renew", str(person.signer_id), "--token", "3220000001",
        "--activation-code", person.activation_code, input=script,
    ).output  # fmt: skip
    assert "потенциально небезопасен" in out
    assert "Принят банком" in out, out
    info = SoftwareContainer(folder).info()
    assert not info.pins.must_change

    bank.approve(person)
    out = cli("install", str(person.signer_id), input=f"{NEW_USER_PIN}\n").output
    assert "Вы переведены на работу с новым комплектом ключей" in out
    assert len(SoftwareContainer(folder).certificates()) == 1
