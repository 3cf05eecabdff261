"""``bankkeys client pay FILE`` against a real bank: hand-made 1C files signed on a key container
and sent; whole-file refusals (wrong encoding, truncated, not a payment file) send nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
for folder in ("client", "payments"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

from client_support import (  # noqa: E402
    ORG,
    USER_PIN,
    Bank,
    Cli,
    bank_fixture,
    cli_fixture,
    ready_container,
)
from payments_samples import (  # noqa: E402
    encode_file,
    file_text,
    ordinary_document,
    replace,
    tax_document,
)
from sqlalchemy import func, select  # noqa: E402

from bankkeys.bank.payments_store import PaymentDocument  # noqa: E402
from bankkeys.client import payments_cli  # noqa: E402
from bankkeys.client.payments import PaymentFileRefused, read_payment_file  # noqa: E402
from bankkeys.payments import Verdict, import_orders  # noqa: E402

__all__ = ["bank_fixture", "cli_fixture"]
payments_cli.console.width = 400  # whole table cells in the captured output


def ours(doc: list[tuple[str, str]], number: str | None = None) -> list[tuple[str, str]]:
    """A sample document paid by the bank's test organization (its INN)."""
    doc = replace(replace(doc, "ПлательщикИНН", ORG["inn"]), "Плательщик", None)
    return replace(doc, "Номер", number) if number else doc


def one_c(*documents: list[tuple[str, str]], codec: str = "cp1251") -> bytes:
    return encode_file(file_text(documents), codec=codec)


def stored(bank: Bank) -> int:
    with bank.ctx.db.transaction() as session:
        return int(session.execute(select(func.count()).select_from(PaymentDocument)).scalar_one())


GOOD = [ours(ordinary_document()), ours(tax_document())]
TRUNCATED = encode_file(file_text(GOOD)[:-5])  # cut at a line end, inside a document
UTF8_DECLARED_WINDOWS = one_c(*GOOD, codec="utf-8")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (UTF8_DECLARED_WINDOWS, "записан в UTF-8"),
        (TRUNCATED, "обрывается"),
        (b"", "Файл пуст"),
        (b"\x00\x01 not a payment file", "не файл 1CClientBankExchange"),
        (b'[{"number": "1",', "ошибка JSON"),
        ("1CClientBankExchange\r\nКодировка=Windows\r\n".encode("cp866"), "кодировка"),
    ],
    ids=["utf8-declared-windows", "truncated", "empty", "not-1c", "broken-json", "cp866-as-1251"],
)
def test_pay_whole_file_refused(data: bytes, expected: str) -> None:
    with pytest.raises(PaymentFileRefused) as refused:
        read_payment_file(data)
    message = str(refused.value)
    assert expected.lower() in message.lower(), message
    assert "ничего не отправлено" in message.lower()


def _signed_in_with_key(bank: Bank, cli: Cli, tmp_path: Path) -> str:
    person = bank.add_signer("director", "Петров", "112233445")
    folder = tmp_path / "flash" / "KEYS.000"
    token = ready_container(folder, "2000777001")
    serial = bank.issue_current(person, token, days_left=200)
    token.close()
    cli.sign_in(bank, person)
    cli("container-add", str(folder))
    return serial


def test_pay_file_refusals_send_nothing(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    _signed_in_with_key(bank, cli, tmp_path)
    for name, data, text in (
        ("utf8.txt", UTF8_DECLARED_WINDOWS, "записан в UTF-8"),
        ("cut.txt", TRUNCATED, "обрывается"),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        # No PIN is given: reaching the PIN prompt would fail differently.
        result = cli("pay", str(path), "--yes", ok=False)
        assert result.exit_code == 1, result.output
        assert text in result.output and "ничего не отправлено" in result.output
        assert "PIN" not in result.output
    bad = tmp_path / "bad-inn.txt"
    bad.write_bytes(one_c(GOOD[0], replace(GOOD[1], "ПлательщикИНН", "7707083890")))
    result = cli("pay", str(bad), "--yes", ok=False)
    assert result.exit_code == 1 and "с ошибками" in result.output
    assert "ПлательщикИНН" in result.output
    assert stored(bank) == 0


def test_pay_cli_signs_sends_and_writes_statuses(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    _signed_in_with_key(bank, cli, tmp_path)
    path = tmp_path / "kl_to_bank.txt"
    path.write_bytes(one_c(*GOOD))
    answers = tmp_path / "answers.txt"
    out = cli("pay", str(path), "--yes", "--statuses", str(answers), input=f"{USER_PIN}\n").output
    assert "Принято: 2" in out and "отклонено: 0" in out, out
    assert stored(bank) == 2
    back = import_orders(answers.read_bytes())
    assert [d.status.verdict for d in back if d.status] == [Verdict.ACCEPTED] * 2

    # The same file again: the same verdicts, nothing stored twice.
    again = cli("pay", str(path), "--yes", input=f"{USER_PIN}\n").output
    assert "Принято: 2" in again, again
    assert stored(bank) == 2

    # A different document under a used number: refused with the reason, exit code 2; with
    # --skip-invalid the good document of a file with a broken one still goes.
    changed = tmp_path / "changed.txt"
    changed.write_bytes(
        one_c(
            replace(GOOD[0], "Сумма", "1.00"),
            ours(ordinary_document(), number="77"),
            replace(GOOD[1], "ПлательщикБИК", "12345"),
        )
    )
    result = cli(
        "pay", str(changed), "--yes", "--skip-invalid", "--statuses", str(answers),
        input=f"{USER_PIN}\n", ok=False,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "повтор номера" in result.output and "Принято: 1" in result.output
    refused, accepted = import_orders(answers.read_bytes())
    assert refused.status is not None and refused.status.verdict is Verdict.REFUSED
    assert "повтор номера" in refused.status.reason
    assert accepted.status is not None and accepted.status.verdict is Verdict.ACCEPTED
    assert stored(bank) == 3

    exported = tmp_path / "kl_to_1c.txt"
    cli("payments-export", str(exported))
    numbers = sorted(d.ref.number for d in import_orders(exported.read_bytes()))
    assert numbers == sorted(["15", "16", "77"])


def test_pay_cli_wrong_pin_sends_nothing(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    _signed_in_with_key(bank, cli, tmp_path)
    path = tmp_path / "kl_to_bank.txt"
    path.write_bytes(one_c(*GOOD))
    result = cli("pay", str(path), "--yes", input="Wrong-Pin-1!\n", ok=False)
    assert result.exit_code == 1 and "PIN" in result.output, result.output
    assert stored(bank) == 0


def test_pay_in_the_local_ui(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    """Upload → review → PIN → verdicts, and the verdicts as a 1C file, over the UI's HTTP."""
    import re
    import threading
    import time

    import httpx

    from bankkeys.client.home import ClientHome
    from bankkeys.client.service import ClientService
    from bankkeys.client.web.server import prepare

    _signed_in_with_key(bank, cli, tmp_path)
    secret, url, server = prepare(ClientService(ClientHome(cli.home)), 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the UI did not start"
        time.sleep(0.02)
    base = url.split("/launch")[0]
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            assert http.get(url.replace(base, "")).status_code == 303
            page = http.get("/payments")
            assert page.status_code == 200 and 'id="review"' in page.text
            csrf = {"csrf": secret.csrf_token}

            cut = http.post("/payments/review", data=csrf, files={"file": ("cut.txt", TRUNCATED)})
            assert cut.status_code == 400 and "ничего не отправлено" in cut.text
            forged = http.post(
                "/payments/review", data={"csrf": "x"}, files={"file": ("a.txt", one_c(*GOOD))}
            )
            assert forged.status_code == 403

            reviewed = http.post(
                "/payments/review", data=csrf, files={"file": ("kl_to_bank.txt", one_c(*GOOD))}
            )
            assert reviewed.status_code == 200, reviewed.text
            assert 'id="documents"' in reviewed.text and 'id="pin"' in reviewed.text
            action = re.search(r'action="(/payments/[^"]+/sign)"', reviewed.text)
            assert action, reviewed.text
            assert stored(bank) == 0  # reviewing sends nothing

            wrong = http.post(action.group(1), data={**csrf, "pin": "Wrong-Pin-1!"})
            assert wrong.status_code == 400 and 'id="error"' in wrong.text
            assert stored(bank) == 0

            done = http.post(action.group(1), data={**csrf, "pin": USER_PIN})
            assert done.status_code == 200, done.text
            assert "Принято: 2" in done.text and "Принят банком" in done.text
            link = re.search(r'href="(/payments/[^"]+/statuses\.txt)"', done.text)
            assert link
            answers = import_orders(http.get(link.group(1)).content)
            assert [d.status.verdict for d in answers if d.status] == [Verdict.ACCEPTED] * 2
        assert stored(bank) == 2
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_pay_cli_json_form(bank: Bank, cli: Cli, tmp_path: Path) -> None:
    """The JSON form of the same orders signs to the same canonical bytes as the 1C file."""
    from bankkeys.payments import canonical_bytes, write_json

    _signed_in_with_key(bank, cli, tmp_path)
    orders = [d.order for d in import_orders(one_c(*GOOD)) if d.order]
    path = tmp_path / "orders.json"
    path.write_bytes(write_json(orders))
    out = cli("pay", str(path), "--yes", input=f"{USER_PIN}\n").output
    assert "Принято: 2" in out, out
    # The 1C file of the same orders is the same documents: answered as already accepted.
    same = tmp_path / "same.txt"
    same.write_bytes(one_c(*GOOD))
    assert "Принято: 2" in cli("pay", str(same), "--yes", input=f"{USER_PIN}\n").output
    with bank.ctx.db.transaction() as session:
        kept = session.execute(select(PaymentDocument.canonical)).scalars().all()
    assert sorted(kept) == sorted(canonical_bytes(o) for o in orders)
