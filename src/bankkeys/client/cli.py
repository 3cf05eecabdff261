"""``bankkeys client …``: the client's workstation on the command line (Rich output, Russian).

Every command does one step of the process and ends; ``bankkeys client status`` shows where each
profile stands at any time, from the bank's status and the tokens' contents.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.panel import Panel
from rich.table import Table

from bankkeys.client.cli_common import HomeOption, console, friendly
from bankkeys.client.cli_common import service_at as _service
from bankkeys.client.devices import PresentToken
from bankkeys.client.errors import ClientError, TokenNeeded
from bankkeys.client.home import ClientHome
from bankkeys.client.models import RekeyRequest
from bankkeys.client.progress import OLD_DEVICE_ADVICE, UNPLUG_WARNING, Stage
from bankkeys.client.service import ClientService, ProfileState
from bankkeys.tokens import DefaultPinRefused

client_app = typer.Typer(
    name="client",
    help="Рабочее место клиента: подключение к банку, перегенерация ключей, получение сертификата.",
    no_args_is_help=True,
)
R = TypeVar("R")


def _date(value: object) -> str:
    from datetime import datetime

    return value.strftime("%d.%m.%Y") if isinstance(value, datetime) else "—"


# --------------------------------------------------------------------------- bank and sign-in


@client_app.command()
@friendly
def connect(
    url: Annotated[str, typer.Argument(help="Адрес банка, например https://bank.example.ru")],
    ca: Annotated[
        Path | None, typer.Option(help="Сертификат УЦ банка (иначе — при первом подключении)")
    ] = None,
    proxy: Annotated[str | None, typer.Option(help="Прокси-сервер (иначе HTTPS_PROXY)")] = None,
    tls_ca: Annotated[
        str | None, typer.Option(help="Сертификат для проверки TLS сервера банка")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Подключиться к банку и сохранить сертификат его УЦ."""
    result = _service(home).connect(url, ca_file=ca, proxy=proxy, tls_ca_file=tls_ca)
    verb = "сохранён" if result.newly_pinned else "совпадает с сохранённым"
    console.print(f"Банк [bold]{result.bank_id}[/bold] подключён.")
    console.print(f"Сертификат УЦ банка {verb}: {result.ca_subject}")
    console.print(f"Отпечаток SHA-256: [bold]{result.ca_fingerprint}[/bold]")
    if result.newly_pinned and ca is None:
        console.print("Сверьте отпечаток с указанным в документах банка.")


@client_app.command()
@friendly
def login(
    user: Annotated[str, typer.Option("--login", prompt="Логин")],
    password: Annotated[str, typer.Option(prompt="Пароль", hide_input=True)],
    home: HomeOption = None,
) -> None:
    """Войти: логин, пароль и одноразовый код («Дополнительная авторизация»)."""
    service = _service(home)
    challenge = service.sign_in_start(user, password)
    code = typer.prompt("Одноразовый код из приложения-аутентификатора")
    name = service.sign_in_finish(challenge, code)
    console.print(f"Вход выполнен: {name}")
    _show_home(service)


@client_app.command()
@friendly
def logout(home: HomeOption = None) -> None:
    """Выйти из системы."""
    _service(home).sign_out()
    console.print("Сеанс завершён.")


# --------------------------------------------------------------------------- home


def _show_home(service: ClientService) -> list[ProfileState]:
    states = service.overview()
    table = Table(title="Профили", show_lines=True)
    for column in (
        "№",
        "Владелец сертификата",
        "Организация",
        "Статус",
        "Действует до",
        "Что сделать",
    ):
        table.add_column(column)
    warn = False
    for st in states:
        p, pr = st.profile, st.progress
        cert = p.current_certificate
        table.add_row(
            str(p.signer_id),
            f"{p.full_name}\n{p.position}",
            p.organization.name,
            pr.status_text,
            _date(cert.not_after) if cert else "—",
            f"[bold]{pr.action}[/bold]\n{pr.explanation}",
        )
        warn = warn or "unplug" in pr.notes
    console.print(table)
    for st in states:
        if "destroy_old_token" in st.progress.notes:
            console.print(
                f"[bold yellow]{OLD_DEVICE_ADVICE}[/bold yellow] (№ {st.binding.old_token_serial})"
            )
    if warn and all(s.progress.stage not in _TOKEN_STAGES for s in states):
        console.print(f"[bold yellow]{UNPLUG_WARNING}[/bold yellow]")
    return states


_TOKEN_STAGES = frozenset(
    {Stage.NEED_REQUEST, Stage.SEND_PENDING, Stage.SIGN_ACT, Stage.INSTALL_CERTIFICATE}
)


@client_app.command()
@friendly
def status(home: HomeOption = None) -> None:
    """Главная: все профили, их статус, срок действия и следующее действие."""
    _show_home(_service(home))


# --------------------------------------------------------------------------- tokens


@client_app.command()
@friendly
def tokens(home: HomeOption = None) -> None:
    """Подключённые ключевые носители."""
    table = Table(title="Ключевые носители")
    for column in ("Модель", "Серийный номер", "Метка", "PIN-код", "Где"):
        table.add_column(column)
    for t in _service(home).tokens():
        pin = (
            "заводской — смените"
            if t.must_change_pins
            else ("заблокирован" if t.info.pins.user_blocked else "задан")
        )
        table.add_row(t.model, t.serial, t.label, pin, t.location)
    console.print(table)


@client_app.command("container-create")
@friendly
def container_create(
    folder: Annotated[Path, typer.Argument(help="Папка на сменном носителе (флеш-диске)")],
    label: Annotated[str, typer.Option(help="Метка контейнера")] = "Ключи Банк-Клиент",
    home: HomeOption = None,
) -> None:
    """Создать ключевой контейнер в папке (на флеш-диске) и сменить его заводские PIN-коды."""
    service = _service(home)
    made = service.create_container(folder, label)
    console.print(f"Создан ключевой контейнер № {made.serial} в {folder}")
    _change_pins(service, made.serial)


@client_app.command("container-add")
@friendly
def container_add(folder: Annotated[Path, typer.Argument()], home: HomeOption = None) -> None:
    """Запомнить существующий ключевой контейнер (папку ХХХХХХ.000)."""
    made = _service(home).add_container(folder)
    console.print(f"Ключевой контейнер № {made.serial} добавлен")


def _change_pins(service: ClientService, serial: str) -> None:
    console.print(
        "Текущий PIN-код потенциально небезопасен. Необходимо сменить его на новый.\n"
        "PIN-код должен содержать буквы в верхнем и нижнем регистре, цифры и спецсимволы; "
        "PIN-код пользователя и администратора должны отличаться."
    )
    user = typer.prompt("Новый PIN-код", hide_input=True)
    user2 = typer.prompt("Подтвердите новый PIN-код", hide_input=True)
    admin = typer.prompt("Новый PIN-код администратора", hide_input=True)
    admin2 = typer.prompt("Подтвердите новый PIN-код администратора", hide_input=True)
    service.change_default_pins(serial, user, user2, admin, admin2)
    console.print("PIN-коды изменены. Храните PIN-коды в недоступном для посторонних месте!")


@client_app.command()
@friendly
def pins(
    serial: Annotated[str, typer.Argument(help="Серийный номер носителя")], home: HomeOption = None
) -> None:
    """Сменить заводские PIN-коды носителя (12345678 / 87654321)."""
    _change_pins(_service(home), serial)


# --------------------------------------------------------------------------- the wizard


@client_app.command()
@friendly
def fields(
    signer: Annotated[int, typer.Argument(help="№ профиля")], home: HomeOption = None
) -> None:
    """Поля запроса на сертификат для проверки."""
    table = Table(title="Проверьте корректность заполнения всех полей")
    table.add_column("Поле")
    table.add_column("Значение")
    table.add_column("Имя для --set")
    for f in _service(home).fields(signer):
        table.add_row(f.label, f.value, f.name if f.editable else "—")
    console.print(table)


def _wait_for(service: ClientService, exc: TokenNeeded) -> None:
    console.print(f"[bold yellow]{exc}[/bold yellow]")
    typer.prompt("Нажмите Enter, когда будете готовы («ОК»)", default="", show_default=False)


def _retry_token(service: ClientService, step: Callable[[], R], attempts: int = 5) -> R:
    for _ in range(attempts - 1):
        try:
            return step()
        except TokenNeeded as exc:
            _wait_for(service, exc)
    return step()


@client_app.command()
@friendly
def renew(
    signer: Annotated[int, typer.Argument(help="№ профиля")],
    token: Annotated[str, typer.Option("--token", help="Серийный номер носителя для нового ключа")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Исправление поля: имя=значение")
    ] = None,
    activation_code: Annotated[
        str | None, typer.Option(help="Код активации из «Реквизитов» (первый ключ)")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Создать запрос на генерацию: ключ на носителе, запрос, подпись, отправка в банк."""
    service = _service(home)
    corrections = dict(_pair(s) for s in set_ or [])
    state = service.state(signer)
    if state.progress.stage is Stage.NEED_REQUEST:
        pin = _generate(service, signer, token, corrections)
    else:
        pin = None
    _send(service, signer, token, pin, activation_code)


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise ClientError(f"Исправление поля пишется как имя=значение, получено «{text}»")
    return name.strip(), value


def _generate(service: ClientService, signer: int, serial: str, corrections: dict[str, str]) -> str:
    present = _retry_token(service, lambda: _need(service, serial))
    if present.must_change_pins:
        _change_pins(service, serial)
    while True:
        pin = str(typer.prompt(f"PIN-код носителя {present.title}", hide_input=True))
        try:
            service.generate(signer, serial, pin, corrections)
        except DefaultPinRefused as exc:
            console.print(f"[bold yellow]{exc}[/bold yellow]")
            _change_pins(service, serial)
            continue
        console.print(f"Ключ сформирован на носителе {present.title}; запрос на сертификат готов.")
        return pin


def _need(service: ClientService, serial: str) -> PresentToken:
    found = service.devices().find(serial)
    if found is None:
        raise TokenNeeded(f"Вставьте в компьютер ключевой носитель № {serial}", serial=serial)
    return found


def _send(
    service: ClientService, signer: int, target: str, pin: str | None, activation_code: str | None
) -> None:
    state = service.state(signer)
    if state.progress.stage is not Stage.SEND_PENDING:
        console.print(f"Статус: {state.progress.status_text}")
        return
    if state.progress.first_key:
        code = activation_code or typer.prompt("Код активации из «Реквизитов»")
        answer = service.send(signer, activation_code=code)
    else:

        def attempt() -> RekeyRequest:
            st = service.state(signer)
            holder = st.progress.current_key_on
            if holder is None:
                return service.send(signer, pin="")  # raises TokenNeeded with the swap text
            same = holder.token.serial == target and pin is not None
            current_pin = (
                pin
                if same
                else typer.prompt(f"PIN-код носителя {holder.token.title}", hide_input=True)
            )
            return service.send(signer, pin=current_pin)

        answer = _retry_token(service, attempt)
    console.print(
        Panel(
            f"Статус запроса: [bold]{answer.status.text}[/bold]",
            title="Запрос отправлен в банк",
        )
    )
    _after_accept(service, signer)


def _after_accept(service: ClientService, signer: int) -> None:
    st = service.state(signer)
    if st.progress.stage is Stage.PRINT_DOCUMENTS:
        console.print(
            "Распечатайте Акт признания открытого ключа в 2-х экземплярах и Заявление на "
            f"изготовление сертификата: [bold]bankkeys client documents {signer}[/bold]"
        )
    elif st.progress.stage is Stage.SIGN_ACT:
        console.print(
            "Банк разрешает продление без визита: подпишите Акт признания действующим ключом: "
            f"[bold]bankkeys client sign-act {signer}[/bold]"
        )


@client_app.command()
@friendly
def send(
    signer: Annotated[int, typer.Argument(help="№ профиля")],
    activation_code: Annotated[str | None, typer.Option(help="Код активации (первый ключ)")] = None,
    home: HomeOption = None,
) -> None:
    """Подписать и отправить в банк уже сформированный запрос (после перерыва)."""
    service = _service(home)
    target = service.state(signer).binding.target_serial or ""
    _send(service, signer, target, None, activation_code)


@client_app.command()
@friendly
def documents(
    signer: Annotated[int, typer.Argument(help="№ профиля")],
    out: Annotated[Path, typer.Option(help="Папка для PDF")] = Path("."),
    home: HomeOption = None,
) -> None:
    """Сохранить Акт признания и Заявление (PDF) для печати и отметить их распечатанными."""
    service = _service(home)
    st = service.state(signer)
    request = st.progress.request
    if request is None:
        raise ClientError("Нет запроса, по которому печатаются документы")
    out.mkdir(parents=True, exist_ok=True)
    for doc in request.documents:
        pdf = service.document_pdf(signer, doc.kind)
        path = out / f"{doc.kind}-{request.id}.pdf"
        path.write_bytes(pdf)
        service.mark_printed(signer, doc.kind, doc.copies)
        console.print(f"{doc.title}: {path} — распечатайте в {doc.copies} экз.")
    console.print(
        "Подпишите (владелец сертификата и руководитель), заверьте печатью и передайте в банк."
    )


@client_app.command("sign-act")
@friendly
def sign_act(
    signer: Annotated[int, typer.Argument(help="№ профиля")], home: HomeOption = None
) -> None:
    """Подписать Акт признания действующим ключом и отправить в банк (без визита)."""
    service = _service(home)

    def attempt() -> object:
        st = service.state(signer)
        holder = st.progress.current_key_on
        if holder is None:
            return service.sign_act(signer, "")
        return service.sign_act(
            signer, typer.prompt(f"PIN-код носителя {holder.token.title}", hide_input=True)
        )

    answer = _retry_token(service, attempt)
    status_ = getattr(answer, "status", None)
    console.print(
        f"Акт подписан и отправлен. Статус: [bold]{status_.text if status_ else ''}[/bold]"
    )


@client_app.command()
@friendly
def install(
    signer: Annotated[int, typer.Argument(help="№ профиля")], home: HomeOption = None
) -> None:
    """Получить сертификат: проверить, записать на носитель рядом с ключом, подтвердить банку."""
    service = _service(home)

    def attempt() -> str:
        st = service.state(signer)
        holder = st.progress.new_key_on
        if holder is None:
            return service.install(signer, "")
        return service.install(
            signer, typer.prompt(f"PIN-код носителя {holder.token.title}", hide_input=True)
        )

    text = _retry_token(service, attempt)
    console.print(Panel(f"[bold green]{text}[/bold green]"))
    st = service.state(signer)
    if st.transfer_act is not None:
        act = st.transfer_act
        console.print(
            f"Сертификат сохранён на новый ключевой носитель {act.token_model} "
            f"№ {act.token_serial}. Распечатайте в двух экземплярах Акт приема-передачи, "
            "подпишите и обязательно передайте в банк оригинал: "
            f"[bold]bankkeys client transfer-act {signer}[/bold]"
        )
    if st.binding.old_token_serial:
        console.print(
            f"[bold yellow]{OLD_DEVICE_ADVICE}[/bold yellow] (№ {st.binding.old_token_serial})"
        )
    console.print(f"[yellow]{UNPLUG_WARNING}[/yellow]")


@client_app.command("transfer-act")
@friendly
def transfer_act(
    signer: Annotated[int, typer.Argument(help="№ профиля")],
    out: Annotated[Path, typer.Option(help="Папка для PDF")] = Path("."),
    home: HomeOption = None,
) -> None:
    """Сохранить Акт приема-передачи (PDF) сертификата на новом носителе и отметить его
    распечатанным."""
    service = _service(home)
    act = service.transfer_act(signer)
    if act is None:
        raise ClientError(
            "Акт приема-передачи формируется после записи сертификата на новый ключевой "
            "носитель («Получить сертификат»)"
        )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"transfer_act-{act.request_id}.pdf"
    path.write_bytes(service.document_pdf(signer, act.document.kind))
    service.mark_printed(signer, act.document.kind, act.document.copies)
    console.print(
        f"{act.document.title} (носитель {act.token_model} № {act.token_serial}): {path} — "
        f"распечатайте в {act.document.copies} экз."
    )
    console.print(
        "На актах ставится подпись владельца сертификата. Обязательно передайте в банк оригинал "
        "Акта приема-передачи."
    )
    old = service.state(signer).binding.old_token_serial
    if old:
        console.print(f"[bold yellow]{OLD_DEVICE_ADVICE}[/bold yellow] (№ {old})")


@client_app.command()
def ui(
    port: Annotated[int, typer.Option(help="Порт на 127.0.0.1 (0 — любой свободный)")] = 0,
    open_browser: Annotated[bool, typer.Option("--browser/--no-browser")] = True,
    home: HomeOption = None,
) -> None:
    """Запустить веб-интерфейс рабочего места на 127.0.0.1."""
    from bankkeys.client.web.server import serve

    serve(ClientHome(home), port=port, open_browser=open_browser, echo=console.print)


from bankkeys.client import payments_cli as _payments  # noqa: E402 - the payment commands

client_app.command("pay")(_payments.pay)
client_app.command("payments-export")(_payments.payments_export)
