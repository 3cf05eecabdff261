"""What every ``bankkeys client …`` command shares: one console, the ``--home`` option, the
service behind it and the way typed errors end a command."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from bankkeys.client.errors import ClientError
from bankkeys.client.home import ClientHome
from bankkeys.client.service import ClientService
from bankkeys.pki.errors import PkiError
from bankkeys.tokens import TokenError

console = Console()
P = ParamSpec("P")
R = TypeVar("R")

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Папка настроек (по умолчанию BANKKEYS_CLIENT_HOME или ~/.config/bankkeys)"
    ),
]


def service_at(home: Path | None) -> ClientService:
    return ClientService(ClientHome(home))


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Typed errors become one red line in Russian and exit code 1; nothing is lost."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ClientError, TokenError, PkiError) as exc:
            console.print(f"[bold red]{exc}[/bold red]")
            raise typer.Exit(1) from None

    return wrapper
