"""The one command-line entry point: ``bankkeys``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

import bankkeys
from bankkeys.bank.cli import audit_app, bank_app, ca_app, db_app
from bankkeys.client.cli import client_app
from bankkeys.server.cli import config_app, serve, server_app
from bankkeys.server.docs_cli import docs_app
from bankkeys.tokens.cli import token_app

app = typer.Typer(
    name="bankkeys",
    help="Signing keys of a remote-banking system: CA, re-key workflow, tokens, payments.",
    no_args_is_help=True,
)
console = Console()
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")
app.add_typer(ca_app, name="ca")
app.add_typer(bank_app, name="bank")
app.add_typer(audit_app, name="audit")
app.add_typer(client_app, name="client")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"bankkeys {bankkeys.__version__}")


app.command("serve")(serve)


@app.command("demo")
def demo(
    host: Annotated[
        str | None, typer.Option("--host", help="Адрес (по умолчанию 127.0.0.1)")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Порт банка (по умолчанию 8080)")
    ] = None,
    ui_port: Annotated[int, typer.Option("--ui-port", help="Порт рабочего места (0 — любой)")] = 0,
) -> None:
    """Запустить сервер банка и рабочее место клиента с демо-данными (SQLite в var/)."""
    from bankkeys import demo as demo_module
    from bankkeys.server.cli import _settings

    try:
        demo_module.run(_settings(None, host=host, port=port, demo=True), ui_port=ui_port)
    except demo_module.DemoError as exc:
        Console(stderr=True).print(f"[red]Ошибка:[/red] {exc}")
        raise typer.Exit(1) from None


app.add_typer(config_app, name="config")
app.add_typer(server_app, name="server")
app.add_typer(docs_app, name="docs")


if __name__ == "__main__":
    app()
