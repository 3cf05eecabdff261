"""``bankkeys client pay FILE`` and ``bankkeys client payments-export``: the payment steps of the
client's command line (registered in :mod:`bankkeys.client.cli`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bankkeys.client.cli_common import HomeOption, console, friendly
from bankkeys.client.cli_common import service_at as _service
from bankkeys.client.payments import (
    PaymentClient,
    PaymentFile,
    PaymentFileRefused,
    read_payment_file,
    statuses_file,
)
from bankkeys.payments import ImportedDocument
from bankkeys.payments.keys import format_amount

STYLE = {"accepted": "green", "awaiting_second": "yellow", "refused": "red"}


def _documents_table(loaded: PaymentFile) -> Table:
    table = Table(title="Платежные поручения в файле")
    for column in ("№", "Дата", "Сумма", "Получатель", "Назначение", "Проверка"):
        table.add_column(column)
    for doc in loaded.documents:
        table.add_row(*_row(doc))
    return table


def _row(doc: ImportedDocument) -> tuple[str, ...]:
    if doc.order is None:
        errors = "; ".join(f"{e.key}: {e.message}" for e in doc.errors)
        return (doc.ref.number or "—", "", "", "", "", f"[red]ошибки: {errors}[/red]")
    o = doc.order
    purpose = o.purpose if len(o.purpose) <= 60 else o.purpose[:57] + "…"
    return (o.number, f"{o.date:%d.%m.%Y}", format_amount(o.amount_kopecks), o.payee.name,
            purpose, "[green]верно[/green]")  # fmt: skip


@friendly
def pay(
    file: Annotated[Path, typer.Argument(help="Файл 1CClientBankExchange (1С) или JSON")],
    signer: Annotated[
        int | None, typer.Option("--signer", help="Номер владельца сертификата, чей ключ")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Отправить верные документы, даже если в файле есть ошибочные")
    ] = False,
    statuses: Annotated[
        Path | None, typer.Option(help="Записать ответы банка в файл для 1С (kl_to_1c.txt)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Не спрашивать подтверждения")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=500, help="Документов в пакете")] = 200,
    home: HomeOption = None,
) -> None:
    """Подписать платежные поручения из файла ключом на носителе и отправить в банк."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise PaymentFileRefused(f"Файл {file} не прочитан: {exc.strerror}") from None
    loaded = read_payment_file(data)
    console.print(_documents_table(loaded))
    if loaded.invalid and not skip_invalid:
        raise PaymentFileRefused(
            f"В файле {len(loaded.invalid)} документ(а/ов) с ошибками: исправьте их в 1С. "
            "Ничего не отправлено (или запустите с --skip-invalid)"
        )
    orders = loaded.orders
    if not orders:
        raise PaymentFileRefused("Нет ни одного верного документа. Ничего не отправлено")
    total = format_amount(loaded.total_kopecks)
    console.print(f"К подписи: {len(orders)} документ(а/ов) на сумму {total} руб.")
    if not yes and not typer.confirm("Подписать и отправить в банк?", default=True):
        console.print("Отменено: ничего не отправлено.")
        raise typer.Exit(1)
    payments = PaymentClient(_service(home))
    key = payments.signing_key(signer)
    pin = str(typer.prompt(f"PIN-код носителя {key.token_title}", hide_input=True))
    signed = payments.sign(orders, key, pin)
    console.print(f"Подписано: {len(signed)}. Отправка в банк…")
    outcome = payments.send(signed, batch_size=batch_size)
    table = Table(title="Ответ банка")
    for column in ("№", "Сумма", "Статус", "Причина"):
        table.add_column(column)
    for r in outcome.results:
        style = STYLE[r.status]
        table.add_row(r.order.number, format_amount(r.order.amount_kopecks),
                      f"[{style}]{r.text.split(':')[0]}[/{style}]", r.reason)  # fmt: skip
    console.print(table)
    console.print(
        f"Принято: {outcome.count('accepted')}, ожидают второй подписи: "
        f"{outcome.count('awaiting_second')}, отклонено: {outcome.count('refused')}."
    )
    for serial in outcome.retired_certificates:
        console.print(
            f"[bold yellow]Старый сертификат № {serial} выведен из действия: первый платеж "
            "новым ключом принят. Уничтожьте старый ключ (смарт-ключ).[/bold yellow]"
        )
    if statuses is not None:
        statuses.write_bytes(statuses_file(outcome, datetime.now(UTC)))
        console.print(f"Ответы банка для 1С записаны в {statuses}")
    if outcome.count("refused"):
        raise typer.Exit(2)


@friendly
def payments_export(
    out: Annotated[Path, typer.Argument(help="Куда записать файл для 1С")],
    since: Annotated[str | None, typer.Option(help="С даты документа, ГГГГ-ММ-ДД")] = None,
    until: Annotated[str | None, typer.Option(help="По дату документа, ГГГГ-ММ-ДД")] = None,
    home: HomeOption = None,
) -> None:
    """Выгрузить статусы платежных поручений из банка в файл 1CClientBankExchange."""
    params = {k: v for k, v in (("since", since), ("until", until)) if v}
    data = PaymentClient(_service(home)).export(**params)
    out.write_bytes(data)
    console.print(f"Статусы записаны в {out}")
