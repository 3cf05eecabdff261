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


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"bankkeys {bankkeys.__version__}")


@app.command()
def demo() -> None:
    """Start the bank server and the client's UI on the embedded defaults with demo data."""
    from bankkeys.gost.streebog import streebog256

    console.print(f"[bold]bankkeys {bankkeys.__version__}[/bold] — remote-banking signing keys")
    console.print("GOST core: Streebog-256('') = " + streebog256(b"").hexdigest())
    console.print(
        "The bank server is not built yet; this command will start it and the client UI "
        "(issues 6, 8, 10)."
    )


if __name__ == "__main__":
    app()
