"""``bankkeys serve``, ``bankkeys demo``, ``bankkeys config check`` and ``bankkeys server …``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bankkeys.server.config import ConfigError, Settings, check, load_settings
from bankkeys.server.secrets_at_rest import SecretKeyError, read_key_file
from bankkeys.server.totp_at_rest import TotpSecretsError

if TYPE_CHECKING:
    from bankkeys.server.context import ServerContext

console = Console()
err = Console(stderr=True)
config_app = typer.Typer(help="Настройки сервера банка.", no_args_is_help=True)
server_app = typer.Typer(help="Обслуживание сервера банка.", no_args_is_help=True)

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
    ctx = _context_or_exit(settings)
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


def _context_or_exit(settings: Settings) -> ServerContext:
    from bankkeys.server.context import build_context

    try:
        return build_context(settings)
    except (SecretKeyError, TotpSecretsError) as exc:
        err.print(f"[red]Ошибка ключа секретов TOTP:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None


@server_app.command("encrypt-totp-secrets")
def encrypt_totp_secrets(config: ConfigOption = None) -> None:
    """Зашифровать открыто хранящиеся секреты TOTP ключом из файла (повторный запуск безопасен).

    Сервер делает это сам при запуске; команда — для явного шага обновления."""
    settings = _settings(config)
    ctx = _context_or_exit(settings)
    ctx.dispose()
    console.print(f"Секреты TOTP зашифрованы ключом из {settings.resolved_totp_key_file}")


@server_app.command("rotate-totp-key")
def rotate_totp_key(config: ConfigOption = None) -> None:
    """Сменить ключ секретов TOTP: новый ключ в файле, все секреты перешифрованы им.

    Выполняйте при остановленном сервере; затем сделайте резервную копию нового файла ключа."""
    from bankkeys.server.totp_at_rest import rotate

    settings = _settings(config)
    ctx = _context_or_exit(settings)
    try:
        key_id, count = rotate(ctx.db, settings.resolved_totp_key_file)
    except (SecretKeyError, TotpSecretsError) as exc:
        err.print(f"[red]Ключ не сменён:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        ctx.dispose()
    console.print(
        f"Новый ключ {key_id} в {settings.resolved_totp_key_file}; перешифровано секретов: "
        f"{count}. Сделайте резервную копию файла ключа."
    )


@server_app.command("reset-totp")
def reset_totp(
    login: Annotated[
        list[str] | None, typer.Option("--login", help="Учётная запись (можно несколько)")
    ] = None,
    all_accounts: Annotated[
        bool, typer.Option("--all", help="Все учётные записи (файл ключа утрачен)")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Выдать новые секреты TOTP (утрачен телефон или файл ключа); секреты показываются один раз.

    С --all и без файла ключа создаётся новый файл ключа. Сеансы этих учётных записей
    завершаются; пароли не меняются."""
    from urllib.parse import quote

    from bankkeys.bank.store.db import open_database
    from bankkeys.bank.workflow import utcnow
    from bankkeys.server.store.migrate import upgrade
    from bankkeys.server.totp_at_rest import key_ring_for_reset, reset_secrets

    if all_accounts == bool(login):
        err.print("[red]Укажите --login ЛОГИН или --all[/red]")
        raise typer.Exit(2)
    settings = _settings(config)
    path = settings.resolved_totp_key_file
    db = open_database(settings.resolved_database_url)
    try:
        upgrade(db)
        keys = key_ring_for_reset(path) if all_accounts else read_key_file(path)
        issued = reset_secrets(db, keys, None if all_accounts else login, utcnow())
    except (SecretKeyError, TotpSecretsError) as exc:
        err.print(f"[red]Секреты не выданы:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    console.print("Новые секреты TOTP (показываются один раз; передайте лично):", markup=False)
    for name, secret in sorted(issued.items()):
        uri = f"otpauth://totp/bankkeys:{quote(name)}?secret={secret}&issuer=bankkeys"
        console.print(f"  {name}: {secret}   {uri}", markup=False, highlight=False, soft_wrap=True)


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
