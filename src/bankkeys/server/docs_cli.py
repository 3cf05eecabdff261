"""``bankkeys docs act|application|transfer-act REQUEST``: a request's printed documents, from the
CLI.

The bytes are those the client API serves for the same request (both go through
:func:`bankkeys.server.documents.render` with the same settings), so an operator can print
what the client printed — and, for the «Акт приема-передачи» of a migration to a new token, the
bank's copy to sign beside the client's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bankkeys.bank.store.db import open_database
from bankkeys.bank.store.models import RekeyRequest
from bankkeys.bank.workflow import DocumentKind
from bankkeys.server import documents
from bankkeys.server.config import ConfigError, load_settings
from bankkeys.server.errors import ApiError

docs_app = typer.Typer(help="Печатные документы запроса (PDF).", no_args_is_help=True)
err = Console(stderr=True)

RequestArg = Annotated[int, typer.Argument(help="Номер запроса")]
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Файл PDF (по умолчанию — стандартный вывод)")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Файл настроек TOML (или BANKKEYS_CONFIG)")
]


def _render(request_id: int, kind: str, out: Path | None, config: Path | None) -> None:
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        err.print(f"[red]Ошибка настроек:[/red] {exc}")
        raise typer.Exit(2) from None
    db = open_database(settings.resolved_database_url)
    try:
        with db.reading() as session:
            req = session.get(RekeyRequest, request_id)
            if req is None:
                err.print(f"[red]Запрос № {request_id} не найден[/red]")
                raise typer.Exit(1)
            try:
                pdf = documents.render(session, settings, req, kind)
            except ApiError as exc:  # e.g. no transfer act before the installation is confirmed
                err.print(f"[red]{exc}[/red]")
                raise typer.Exit(1) from None
    finally:
        db.dispose()
    if out is None:
        sys.stdout.buffer.write(pdf)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(pdf)
        err.print(f"Сохранено: {out}")


@docs_app.command("act")
def act(request: RequestArg, out: OutOption = None, config: ConfigOption = None) -> None:
    """Акт признания открытого ключа (два экземпляра)."""
    _render(request, DocumentKind.ACCEPTANCE_ACT, out, config)


@docs_app.command("application")
def application(request: RequestArg, out: OutOption = None, config: ConfigOption = None) -> None:
    """Заявление на изготовление сертификата ключа проверки ЭП."""
    _render(request, DocumentKind.CERTIFICATE_APPLICATION, out, config)


@docs_app.command("transfer-act")
def transfer_act(request: RequestArg, out: OutOption = None, config: ConfigOption = None) -> None:
    """Акт приема-передачи: сертификат и ключевой носитель, на который он записан (два экземпляра;
    после подтверждения записи с моделью и серийным номером носителя)."""
    _render(request, documents.TRANSFER_ACT, out, config)
