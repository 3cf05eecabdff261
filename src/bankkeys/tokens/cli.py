"""``bankkeys token …``: list, info, init, change-pin, unblock, keys, certs, delete."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from asn1crypto import x509 as asn1_x509
from rich.console import Console
from rich.table import Table

from bankkeys.tokens.base import Token, TokenInfo
from bankkeys.tokens.container import SoftwareContainer
from bankkeys.tokens.errors import TokenError
from bankkeys.tokens.models import is_legacy

token_app = typer.Typer(
    name="token",
    help="Ключевые носители: токены PKCS#11 (Рутокен ЭЦП) и программные ключевые контейнеры.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)

ContainerOpt = Annotated[
    Path | None,
    typer.Option("--container", "-c", help="Папка программного ключевого контейнера."),
]
ModuleOpt = Annotated[
    str | None,
    typer.Option(
        "--module", envvar="BANKKEYS_PKCS11_MODULE", help="Библиотека PKCS#11 (путь к .so)."
    ),
]
SerialOpt = Annotated[str | None, typer.Option("--serial", help="Серийный номер токена.")]
LabelOpt = Annotated[str | None, typer.Option("--label", help="Метка токена.")]


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except TokenError as exc:
        err_console.print(f"[bold red]{exc}[/bold red]")
        raise typer.Exit(1) from None


def _open(
    container: Path | None, module: str | None, serial: str | None, label: str | None
) -> Token:
    if container is not None:
        return SoftwareContainer(container)
    from bankkeys.tokens.pkcs11_token import Pkcs11Module

    return Pkcs11Module(module).token(serial=serial, label=label)


def _tries(left: int | None, blocked: bool) -> str:
    if blocked:
        return "[red]заблокирован[/red]"
    return "—" if left is None else str(left)


def _status(info: TokenInfo) -> str:
    notes = []
    if info.pins.user_pin_default:
        notes.append("PIN-код по умолчанию")
    if info.pins.admin_pin_default:
        notes.append("PIN-код администратора по умолчанию")
    if is_legacy(info.model):
        notes.append("устаревшая модель")
    return ", ".join(notes) or "готов"


@token_app.command("list")
def list_tokens(
    module: ModuleOpt = None,
    containers: Annotated[
        list[Path] | None,
        typer.Option("--container", "-c", help="Папки программных контейнеров (можно несколько)."),
    ] = None,
) -> None:
    """Показать подключённые токены и указанные программные контейнеры."""
    tokens: list[Token] = []
    with _errors():
        if module:
            from bankkeys.tokens.pkcs11_token import Pkcs11Module

            tokens.extend(Pkcs11Module(module).tokens())
        tokens.extend(SoftwareContainer(c) for c in containers or [])
        table = Table(title="Ключевые носители")
        for column in ("Тип", "Модель", "Серийный номер", "Метка", "Попыток PIN", "Состояние"):
            table.add_column(column)
        for token in tokens:
            info = token.info()
            table.add_row(
                "токен" if info.backend == "pkcs11" else "контейнер",
                info.model,
                info.serial,
                info.label,
                _tries(info.pins.user_tries_left, info.pins.user_blocked),
                _status(info),
            )
    if not tokens:
        console.print("Ключевые носители не найдены. Подключите токен или укажите --container.")
        return
    console.print(table)


@token_app.command()
def info(
    container: ContainerOpt = None,
    module: ModuleOpt = None,
    serial: SerialOpt = None,
    label: LabelOpt = None,
) -> None:
    """Сведения о носителе: модель, серийный номер, состояние PIN-кодов."""
    with _errors():
        token_info = _open(container, module, serial, label).info()
    pins = token_info.pins
    table = Table(show_header=False, title="Ключевой носитель")
    table.add_column()
    table.add_column()
    for name, value in (
        ("Модель", token_info.model),
        ("Серийный номер", token_info.serial),
        ("Метка", token_info.label),
        ("Производитель", token_info.manufacturer),
        ("Попыток PIN-кода", _tries(pins.user_tries_left, pins.user_blocked)),
        ("Попыток PIN-кода администратора", _tries(pins.admin_tries_left, pins.admin_blocked)),
        ("Состояние", _status(token_info)),
    ):
        table.add_row(name, value)
    console.print(table)
    if pins.must_change:
        console.print(
            "[yellow]Текущий PIN-код потенциально небезопасен. "
            "Необходимо сменить его на новый[/yellow]"
        )


@token_app.command()
def init(
    container: Annotated[Path, typer.Option("--container", "-c", help="Папка нового контейнера.")],
    label: Annotated[str, typer.Option("--label", help="Метка контейнера.")] = "bankkeys",
) -> None:
    """Создать программный ключевой контейнер (PIN-коды по умолчанию: 12345678 и 87654321)."""
    with _errors():
        created = SoftwareContainer.create(container, label)
        serial = created.info().serial
    console.print(f"Создан ключевой контейнер {container} (серийный номер {serial}).")
    console.print(
        "[yellow]Текущий PIN-код потенциально небезопасен. Необходимо сменить его на новый: "
        "bankkeys token change-pin и bankkeys token change-pin --admin[/yellow]"
    )


@token_app.command("change-pin")
def change_pin(
    container: ContainerOpt = None,
    module: ModuleOpt = None,
    serial: SerialOpt = None,
    label: LabelOpt = None,
    admin: Annotated[bool, typer.Option("--admin", help="Сменить PIN-код администратора.")] = False,
    old_pin: Annotated[str, typer.Option(prompt="Текущий PIN-код", hide_input=True)] = "",
    new_pin: Annotated[
        str,
        typer.Option(prompt="Новый PIN-код", hide_input=True, confirmation_prompt=True),
    ] = "",
) -> None:
    """Сменить PIN-код пользователя (или администратора с --admin)."""
    with _errors():
        token = _open(container, module, serial, label)
        if admin:
            token.change_admin_pin(old_pin, new_pin)
        else:
            token.change_user_pin(old_pin, new_pin)
        token.close()
    console.print("PIN-код администратора изменён." if admin else "PIN-код изменён.")


@token_app.command()
def unblock(
    container: ContainerOpt = None,
    module: ModuleOpt = None,
    serial: SerialOpt = None,
    label: LabelOpt = None,
    admin_pin: Annotated[str, typer.Option(prompt="PIN-код администратора", hide_input=True)] = "",
    new_pin: Annotated[
        str,
        typer.Option(
            prompt="Новый PIN-код пользователя", hide_input=True, confirmation_prompt=True
        ),
    ] = "",
) -> None:
    """Разблокировать PIN-код пользователя PIN-кодом администратора и задать новый."""
    with _errors():
        token = _open(container, module, serial, label)
        token.unblock_user_pin(admin_pin, new_pin)
        token.close()
    console.print("PIN-код пользователя разблокирован и изменён.")


@token_app.command()
def keys(
    container: ContainerOpt = None,
    module: ModuleOpt = None,
    serial: SerialOpt = None,
    label: LabelOpt = None,
) -> None:
    """Ключевые пары на носителе."""
    with _errors():
        token = _open(container, module, serial, label)
        pairs = token.key_pairs()
        with_cert = {c.id for c in token.certificates()}
    table = Table(title="Ключи")
    table.add_column("Идентификатор", no_wrap=True)
    for column in ("Метка", "Алгоритм", "Параметры", "Сертификат"):
        table.add_column(column)
    for key in pairs:
        table.add_row(
            key.id.hex(),
            key.label,
            key.spec.family,
            key.spec.curve,
            "есть" if key.id in with_cert else "нет",
        )
    console.print(table)


@token_app.command()
def certs(
    container: ContainerOpt = None,
    module: ModuleOpt = None,
    serial: SerialOpt = None,
    label: LabelOpt = None,
) -> None:
    """Сертификаты на носителе."""
    with _errors():
        found = _open(container, module, serial, label).certificates()
    table = Table(title="Сертификаты")
    table.add_column("Идентификатор", no_wrap=True)
    for column in ("Метка", "Владелец", "Действует по"):
        table.add_column(column)
    for cert in found:
        try:
            parsed = asn1_x509.Certificate.load(cert.der)
            subject = parsed.subject.human_friendly
            not_after = parsed.not_valid_after.strftime("%d.%m.%Y")
        except ValueError:
            subject, not_after = "не разобран", "—"
        table.add_row(cert.id.hex(), cert.label, subject, not_after)
    console.print(table)


@token_app.command()
def delete(
    object_id: Annotated[str, typer.Argument(help="Идентификатор ключа/сертификата (hex).")],
    container: ContainerOpt = None,
    module: ModuleOpt = None,
    serial: SerialOpt = None,
    label: LabelOpt = None,
    pin: Annotated[str, typer.Option(prompt="PIN-код", hide_input=True)] = "",
    yes: Annotated[bool, typer.Option("--yes", help="Не спрашивать подтверждения.")] = False,
) -> None:
    """Удалить ключ и сертификат с этим идентификатором. Удалённый ключ не восстановить."""
    try:
        raw_id = bytes.fromhex(object_id)
    except ValueError:
        err_console.print("[bold red]Идентификатор должен быть в шестнадцатеричном виде[/bold red]")
        raise typer.Exit(2) from None
    if not yes and not typer.confirm(f"Удалить ключ {object_id} без возможности восстановления?"):
        raise typer.Exit(1)
    with _errors():
        token = _open(container, module, serial, label)
        token.login(pin)
        token.delete(raw_id)
        token.close()
    console.print(f"Объект {object_id} удалён.")
