"""Token migration (seed 003) and the faults: each refused with a clear message, nothing lost."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from client_support import (  # noqa: F401  (fixtures)
    OFFICER,
    USER_PIN,
    Bank,
    Cli,
    Person,
    bank_fixture,
    cli_fixture,
    container_with_serial,
    default_pins_input,
    ready_container,
)
from sqlalchemy import select

from bankkeys.bank.ca import IssuanceOrder
from bankkeys.bank.store.models import Certificate, RekeyRequest
from bankkeys.client.home import ClientHome
from bankkeys.client.service import ClientService
from bankkeys.tokens import PinBlocked, SoftwareContainer, WrongPin
from conftest import pdf_words

OLD, NEW = "2000123456", "3220654321"


def _renewal_setup(bank: Bank, cli: Cli, tmp_path: Path) -> tuple[Person, Path]:
    person = bank.add_signer("director", "Петров", "112233445")
    folder = tmp_path / "flash" / "OLD.000"
    token = ready_container(folder, OLD, "Рутокен старый")
    bank.issue_current(person, token)
    token.close()
    cli.sign_in(bank, person)
    cli("container-add", str(folder))
    return person, folder


def test_migration_from_2000_to_3220_with_swaps(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    person, old = _renewal_setup(bank, cli, tmp_path)
    new = tmp_path / "flash" / "NEW.000"
    container_with_serial(new, NEW, "Рутокен ЭЦП 3.0").close()
    cli("container-add", str(new))
    tokens = cli("tokens").output
    assert "Рутокен ЭЦП 2.0" in tokens and "Рутокен ЭЦП 3.0" in tokens

    # the old token is unplugged while the key is made on the new one (default PINs first)
    parked = tmp_path / "parked"
    shutil.move(old, parked)
    script = default_pins_input() + "Novyi-Pin-2026!\n" + "\n" * 5
    result = cli("renew", str(person.signer_id), "--token", NEW, input=script, ok=False)
    assert result.exit_code == 1
    assert "Ключ сформирован на носителе Рутокен ЭЦП 3.0 № 3220654321" in result.output
    assert "вставьте в компьютер действующий (устаревший)" in result.output.lower()
    assert "Необходима плановая замена" in bank.status_text(person)  # nothing sent yet

    # resume: the next start knows the key waits on the new token; plug the old one back
    shutil.move(parked, old)
    assert "Подписать и отправить в банк" in cli("status").output
    out = cli("send", str(person.signer_id), input=f"{USER_PIN}\n").output
    assert "Принят банком" in out

    refused = cli("transfer-act", str(person.signer_id), "--out", str(tmp_path), ok=False)
    assert refused.exit_code != 0  # nothing is on the new token yet
    assert "формируется после записи сертификата на новый" in refused.output

    bank.approve(person)
    out = cli("install", str(person.signer_id), input="Novyi-Pin-2026!\n").output
    assert "Вы переведены на работу с новым комплектом ключей" in out
    assert "уничтожьте старый смарт-ключ" in out and OLD in out
    assert f"новый ключевой носитель Рутокен ЭЦП 3.0 № {NEW}" in out
    assert f"bankkeys client transfer-act {person.signer_id}" in out
    assert len(SoftwareContainer(new).certificates()) == 1
    assert len(SoftwareContainer(old).certificates()) == 1  # the old one is untouched
    assert "уничтожьте старый смарт-ключ" in cli("status").output

    # Seed 003, step 21: the acceptance-transfer act of the new token, from the bank.
    rid = _last_request(bank, person)
    with bank.ctx.db.transaction() as session:
        req = session.get(RekeyRequest, rid)
        assert req is not None and (req.token_model, req.token_serial) == ("Рутокен ЭЦП 3.0", NEW)
    acts = tmp_path / "acts"
    out = cli("transfer-act", str(person.signer_id), "--out", str(acts)).output
    assert "распечатайте в 2 экз." in out and "оригинал" in out
    assert "уничтожьте старый смарт-ключ" in out
    (pdf,) = acts.glob("transfer_act-*.pdf")
    text = pdf_words(pdf)
    assert "АКТ ПРИЕМА-ПЕРЕДАЧИ" in text and "Рутокен ЭЦП 3.0" in text and NEW in text
    cert_serial = bank.ctx.workflow.status(person.signer_id).certificate_serial
    assert cert_serial is not None and cert_serial.upper() in text.replace(" ", "")
    printed = ClientService(ClientHome(cli.home)).transfer_act(person.signer_id)
    assert printed is not None and printed.document.printed_at is not None


def _last_request(bank: Bank, person: Person) -> int:
    with bank.ctx.db.transaction() as session:
        return (
            session.execute(
                select(RekeyRequest.id)
                .where(RekeyRequest.signer_id == person.signer_id)
                .order_by(RekeyRequest.id.desc())
            )
            .scalars()
            .first()
            or 0
        )


def _service(cli: Cli) -> ClientService:
    return ClientService(ClientHome(cli.home))


def test_wrong_and_blocked_pin(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    person, folder = _renewal_setup(bank, cli, tmp_path)
    result = cli("renew", str(person.signer_id), "--token", OLD, input="Wrong-Pin-1!\n", ok=False)
    assert result.exit_code == 1 and "Неверный PIN-код. Осталось попыток: 9" in result.output
    service = _service(cli)
    for _ in range(8):
        with pytest.raises(WrongPin):
            service.generate(person.signer_id, OLD, "Wrong-Pin-1!")
    with pytest.raises(PinBlocked):
        service.generate(person.signer_id, OLD, "Wrong-Pin-1!")
    result = cli("renew", str(person.signer_id), "--token", OLD, input=f"{USER_PIN}\n", ok=False)
    assert "PIN-код заблокирован" in result.output
    assert "заблокирован" in cli("tokens").output
    assert SoftwareContainer(folder).key_pairs().__len__() == 1  # no key was made


def test_bank_unreachable_mid_flow_then_resume(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    person, _folder = _renewal_setup(bank, cli, tmp_path)
    service = _service(cli)
    service.generate(person.signer_id, OLD, USER_PIN)
    bank.server.stop()
    result = cli("send", str(person.signer_id), input=f"{USER_PIN}\n", ok=False)
    assert result.exit_code == 1 and "Нет связи с сервером банка" in result.output
    bank.server.start()
    assert "Подписать и отправить в банк" in cli("status").output
    assert "Принят банком" in cli("send", str(person.signer_id), input=f"{USER_PIN}\n").output


def test_token_removed_before_the_certificate_is_written(
    bank: Bank, cli: Cli, tmp_path: Path
) -> None:
    person, folder = _renewal_setup(bank, cli, tmp_path)
    cli("renew", str(person.signer_id), "--token", OLD, input=f"{USER_PIN}\n")
    bank.approve(person)
    parked = tmp_path / "parked"
    shutil.move(folder, parked)
    result = cli("install", str(person.signer_id), input="\n" * 5, ok=False)
    assert (
        result.exit_code == 1
        and "Подключите к компьютеру ключевой носитель № 2000123456" in result.output
    )
    assert "Получен новый сертификат" in bank.status_text(person)
    shutil.move(parked, folder)
    out = cli("install", str(person.signer_id), input=f"{USER_PIN}\n").output
    assert "Вы переведены на работу с новым комплектом ключей" in out


def test_certificate_for_another_key_is_refused(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    person, folder = _renewal_setup(bank, cli, tmp_path)
    cli("renew", str(person.signer_id), "--token", OLD, input=f"{USER_PIN}\n")
    bank.approve(person)
    # the bank's record now holds a certificate (from the right CA) for some other key
    other = ready_container(tmp_path / "other", "1111")
    key = other.generate_key(SoftwareContainer(folder).key_pairs()[0].spec, "other")
    request_id = bank.open_request(person)
    with bank.ctx.db.transaction() as session:
        row = session.execute(
            select(Certificate).where(Certificate.request_id == request_id)
        ).scalar_one()
        serial, not_before, not_after = row.serial, row.not_before, row.not_after
    order = IssuanceOrder(
        int(serial, 16), bank.subject(person), key.public_key_info, not_before, not_after
    )
    forged = bank.ca.issue(order)
    with bank.ctx.db.transaction() as session:
        row = session.execute(
            select(Certificate).where(Certificate.request_id == request_id)
        ).scalar_one()
        row.der = forged
    result = cli("install", str(person.signer_id), input=f"{USER_PIN}\n", ok=False)
    assert result.exit_code == 1
    assert "не соответствует ключу на ключевом носителе" in result.output
    assert len(SoftwareContainer(folder).certificates()) == 1
    assert "Получен новый сертификат" in bank.status_text(person)
    assert OFFICER  # the officer actor stays importable for other tests


def test_bank_ca_other_than_the_pinned_one_is_refused(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    person, folder = _renewal_setup(bank, cli, tmp_path)
    cli("renew", str(person.signer_id), "--token", OLD, input=f"{USER_PIN}\n")
    bank.approve(person)
    # pin another CA, as if the first connection had reached another server
    other = ready_container(tmp_path / "ca2", "2222")
    from bankkeys.bank.ca import self_signed_ca_certificate
    from bankkeys.pki.names import Name

    key = other.generate_key(SoftwareContainer(folder).key_pairs()[0].spec, "ca")
    fake = self_signed_ca_certificate(
        other.signer(key.id),
        Name(common_name="УЦ Подставной"),
        now=bank.ctx.clock(),
        validity=timedelta(days=365),
    )
    config_file = cli.home / "client.json"
    doc = json.loads(config_file.read_text())
    (bank_id,) = doc["banks"]
    doc["banks"][bank_id]["ca_der"] = base64.b64encode(fake).decode()
    config_file.write_text(json.dumps(doc))
    result = cli("install", str(person.signer_id), input=f"{USER_PIN}\n", ok=False)
    assert result.exit_code == 1
    assert "Сертификат УЦ банка не совпадает с сохранённым ранее" in result.output
    assert len(SoftwareContainer(folder).certificates()) == 1
    result = cli("connect", bank.url, ok=False)
    assert result.exit_code == 1 and "возможна подмена сервера" in result.output
