"""``bankkeys serve``, ``bankkeys demo`` and ``bankkeys config check``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bankkeys.server.config import ConfigError, Settings, check, load_settings

console = Console()
err = Console(stderr=True)
config_app = typer.Typer(help="Настройки сервера банка.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Файл настроек TOML (или BANKKEYS_CONFIG)")
]
HostOption = Annotated[str | None, typer.Option("--host", help="Адрес (по умолчанию 127.0.0.1)")]
PortOption = Annotated[int | None, typer.Option("--port", help="Порт (по умолчанию 8080)")]
CertOption = Annotated[str | None, typer.Option("--certfile", help="Сертификат TLS (PEM)")]
KeyOption = Annotated[str | None, typer.Option("--keyfile", help="Ключ TLS (PEM)")]


def _settings(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, None, **overrides)
    except ConfigError as exc:
        err.print(f"[red]Ошибка настроек:[/red] {exc}")
        raise typer.Exit(2) from None


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Проверить настройки до запуска: выводит все найденные ошибки."""
    settings = _settings(config)
    for key, value in settings.redacted().items():
        console.print(f"  {key} = {value}")
    problems = check(settings)
    if not problems:
        console.print("[green]Настройки в порядке[/green]")
        return
    for problem in problems:
        err.print(f"[red]•[/red] {problem}")
    raise typer.Exit(1)


def run_server(settings: Settings, *, workers: int = 1) -> None:
    import uvicorn

    from bankkeys.server import bootstrap
    from bankkeys.server.app import create_app, freeze_startup_objects
    from bankkeys.server.context import build_context
    from bankkeys.server.logs import configure

    problems = check(settings)
    warnings = [p for p in problems if "ПИН-код ключа УЦ" in p]  # serves; issuance waits
    problems = [p for p in problems if p not in warnings]
    if not settings.demo:
        for warning in warnings:
            err.print(f"[yellow]•[/yellow] {warning}")
    if problems:
        for problem in problems:
            err.print(f"[red]•[/red] {problem}")
        raise typer.Exit(1)
    configure(settings.log_level)
    ctx = build_context(settings)
    credentials = bootstrap.prepare(ctx, demo=settings.demo)
    url = settings.resolved_public_url
    console.print(f"[bold]bankkeys[/bold] — сервер банка: {url}")
    console.print(f"  консоль: {url}/console/   API: {url}/api/v1", soft_wrap=True)
    if credentials:
        console.print(credentials, markup=False, highlight=False, soft_wrap=True)
    ssl = {"ssl_certfile": settings.certfile, "ssl_keyfile": settings.keyfile}
    ssl = {k: v for k, v in ssl.items() if v}
    if workers > 1:
        ctx.dispose()
        # Workers rebuild their settings from the environment.
        os.environ.update({f"BANKKEYS_{k.upper()}": v for k, v in _env_of(settings).items()})
        uvicorn.run(
            "bankkeys.server.asgi:create",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_config=None,
            access_log=False,
            **ssl,  # type: ignore[arg-type]
        )
        return
    app = create_app(settings, context=ctx)
    freeze_startup_objects()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        **ssl,  # type: ignore[arg-type]
    )


def _env_of(settings: Settings) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in vars(settings).items():
        if key == "extra" or value is None:
            continue
        out[key] = str(value)
    out["demo"] = "false"  # prepared already
    return out


def serve(
    config: ConfigOption = None,
    host: HostOption = None,
    port: PortOption = None,
    certfile: CertOption = None,
    keyfile: KeyOption = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Процессов сервера")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Создать УЦ и демо-данные в пустой базе")
    ] = False,
) -> None:
    """Запустить сервер банка (API клиента, консоль оператора, УЦ, рассылка)."""
    settings = _settings(
        config,
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        demo=True if demo else None,
    )
    run_server(settings, workers=workers)


def demo(
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Запустить сервер банка на встроенных настройках (SQLite в var/) с демо-данными."""
    settings = _settings(None, host=host, port=port, demo=True)
    run_server(settings)
