"""The one command-line entry point: ``bankkeys``."""

from __future__ import annotations

import typer
from rich.console import Console

import bankkeys

app = typer.Typer(
    name="bankkeys",
    help="Signing keys of a remote-banking system: CA, re-key workflow, tokens, payments.",
    no_args_is_help=True,
)
console = Console()
app.add_typer(__import__("bankkeys.tokens.cli").tokens.cli.token_app, name="token")
app.add_typer(__import__("bankkeys.bank.cli").bank.cli.db_app, name="db")
app.add_typer(__import__("bankkeys.bank.cli").bank.cli.ca_app, name="ca")
app.add_typer(__import__("bankkeys.bank.cli").bank.cli.bank_app, name="bank")
app.add_typer(__import__("bankkeys.bank.cli").bank.cli.audit_app, name="audit")
app.add_typer(__import__("bankkeys.client.cli").client.cli.client_app, name="client")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"bankkeys {bankkeys.__version__}")


app.command("serve")(__import__("bankkeys.server.cli").server.cli.serve)
app.command("demo")(__import__("bankkeys.server.cli").server.cli.demo)
app.add_typer(__import__("bankkeys.server.cli").server.cli.config_app, name="config")


if __name__ == "__main__":
    app()
