"""Command-line faces of the bank: ``bankkeys db …``, ``ca …``, ``bank …``, ``audit …``.

Each command opens the database (``BANKKEYS_DATABASE_URL`` or ``var/bankkeys.db``), calls the
workflow or the CA, and prints the result in Russian. Refusals print their message and exit 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bankkeys.bank import audit as audit_log
from bankkeys.bank.ca import (
    ENV_CA_PIN,
    BankCA,
    RevocationReason,
    ca_record,
    create_ca_key,
    init_ca,
    open_ca,
)
from bankkeys.bank.errors import BankError
from bankkeys.bank.inspect import PkiRequestInspector
from bankkeys.bank.policy import Policy
from bankkeys.bank.store.db import Database, current_revision, head_revision, open_database, upgrade
from bankkeys.bank.store.models import Crl, RekeyRequest, Signer
from bankkeys.bank.tick import tick
from bankkeys.bank.workflow import Actor, DocumentKind, Workflow, utcnow
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.errors import PkiError
from bankkeys.pki.names import Name
from bankkeys.pki.signer import KeySpec
from bankkeys.tokens.errors import TokenError

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

db_app = typer.Typer(help="База данных банка: миграции.", no_args_is_help=True)
ca_app = typer.Typer(help="УЦ банка: создание, списки отзыва, отзыв.", no_args_is_help=True)
bank_app = typer.Typer(help="Абоненты, запросы, плановые задачи.", no_args_is_help=True)
audit_app = typer.Typer(
    help="Журнал аудита: проверка целостности и отметки вне базы.", no_args_is_help=True
)

UrlOption = Annotated[
    str | None, typer.Option("--url", help="URL базы (по умолчанию BANKKEYS_DATABASE_URL)")
]
AsOption = Annotated[str, typer.Option("--as", help="Логин сотрудника банка")]


@contextmanager
def _database(url: str | None) -> Iterator[Database]:
    db = open_database(url)
    try:
        yield db
    finally:
        db.dispose()


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except (BankError, TokenError, PkiError) as exc:
        err.print(f"[red]Ошибка:[/red] {exc}")
        raise typer.Exit(1) from None


def _ca_pin() -> str:
    pin = os.environ.get(ENV_CA_PIN)
    if pin:
        return pin
    return str(typer.prompt("ПИН-код носителя ключа УЦ", hide_input=True))


def _open_ca(db: Database) -> BankCA:
    return _guard(lambda: open_ca(db, _ca_pin()))


def _workflow(db: Database, ca: BankCA | None = None) -> Workflow:
    return Workflow(db, Policy(), inspector=PkiRequestInspector(), ca=ca)


# --- db ----------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(url: UrlOption = None) -> None:
    """Применить миграции до последней версии."""
    with _database(url) as db:
        upgrade(db)
        console.print(f"База данных обновлена до версии {current_revision(db)}")


@db_app.command("current")
def db_current(url: UrlOption = None) -> None:
    """Показать версию схемы базы."""
    with _database(url) as db:
        current, head = current_revision(db), head_revision()
        console.print(f"Версия базы: {current or 'пустая'}; последняя: {head}")
        if current != head:
            raise typer.Exit(1)


# --- ca ----------------------------------------------------------------------------------------


@ca_app.command("init")
def ca_init(
    name: Annotated[str, typer.Option(help="Наименование УЦ (CN)")],
    organization: Annotated[str, typer.Option(help="Наименование банка (O)")],
    container: Annotated[
        Path | None, typer.Option(help="Папка нового программного ключевого контейнера")
    ] = None,
    pkcs11_module: Annotated[
        str | None, typer.Option(help="Библиотека PKCS#11 (ключ на устройстве)")
    ] = None,
    token_serial: Annotated[str | None, typer.Option(help="Серийный номер токена")] = None,
    family: Annotated[str, typer.Option(help="gost2012-256 | gost2012-512 | ecdsa-p256")] = (
        "gost2012-256"
    ),
    curve: Annotated[str, typer.Option(help="Параметры кривой")] = "tc26-256-A",
    validity_days: Annotated[int, typer.Option(help="Срок действия сертификата УЦ")] = 3653,
    actor: AsOption = "admin",
    url: UrlOption = None,
) -> None:
    """Создать УЦ банка: ключ на носителе, самоподписанный сертификат, первый список отзыва."""
    if (container is None) == (pkcs11_module is None):
        err.print("Укажите ровно одно: --container или --pkcs11-module")
        raise typer.Exit(2)
    pin = _ca_pin()
    admin_pin = os.environ.get("BANKKEYS_CA_ADMIN_PIN") or ""
    if container is not None and not admin_pin:
        admin_pin = str(typer.prompt("Новый ПИН-код администратора контейнера", hide_input=True))
    spec = KeySpec(family, curve)  # type: ignore[arg-type]
    with _database(url) as db:
        upgrade(db)
        signer, ref = _guard(
            lambda: create_ca_key(
                spec=spec,
                pin=pin,
                admin_pin=admin_pin,
                container=container,
                pkcs11_module=pkcs11_module,
                token_serial=token_serial,
            )
        )
        subject = Name(common_name=name, organization=organization, country="RU")
        now = utcnow()
        _guard(
            lambda: init_ca(
                db,
                actor,
                signer=signer,
                subject=subject,
                key_ref=ref,
                now=now,
                validity=timedelta(days=validity_days),
            )
        )
        ca = _open_ca(db)
        number = _guard(lambda: _workflow(db, ca).publish_crl(Actor.administrator(actor)))
        console.print(f"УЦ создан: {subject}; ключ {family}:{curve}; СОС № {number}")


@ca_app.command("show")
def ca_show(url: UrlOption = None) -> None:
    """Показать сертификат УЦ."""
    with _database(url) as db:
        record = _guard(lambda: ca_record(db))
        cert = parse_certificate(record.certificate_der)
        console.print(f"УЦ: {cert.subject}")
        console.print(f"Алгоритм: {record.algorithm}; серийный номер: {cert.serial:x}")
        console.print(f"Действует с {cert.not_before:%d.%m.%Y} по {cert.not_after:%d.%m.%Y}")


@ca_app.command("crl")
def ca_crl(
    out: Annotated[Path | None, typer.Option(help="Записать СОС (DER) в файл")] = None,
    actor: AsOption = "officer",
    url: UrlOption = None,
) -> None:
    """Подписать новый список отозванных сертификатов (СОС)."""
    with _database(url) as db:
        ca = _open_ca(db)
        number = _guard(lambda: _workflow(db, ca).publish_crl(Actor.security_officer(actor)))
        if out is not None:
            with db.transaction() as s:
                out.write_bytes(s.execute(select(Crl.der).where(Crl.number == number)).scalar_one())
        console.print(f"СОС № {number} подписан")


@ca_app.command("revoke")
def ca_revoke(
    serial: str,
    reason: Annotated[RevocationReason, typer.Option(help="Причина отзыва")] = (
        RevocationReason.UNSPECIFIED
    ),
    actor: AsOption = "officer",
    url: UrlOption = None,
) -> None:
    """Отозвать сертификат (СОС переподписывается сразу)."""
    with _database(url) as db:
        ca = _open_ca(db)
        _guard(lambda: _workflow(db, ca).revoke(Actor.security_officer(actor), serial, reason))
        console.print(f"Сертификат № {serial} отозван ({reason})")


# --- bank --------------------------------------------------------------------------------------


@bank_app.command("tick")
def bank_tick(
    with_ca: Annotated[bool, typer.Option(help="Подписывать СОС (нужен ПИН-код УЦ)")] = False,
    url: UrlOption = None,
) -> None:
    """Плановый шаг: окно замены, просроченные запросы, вывод старых ключей, СОС."""
    with _database(url) as db:
        ca = _open_ca(db) if with_ca else None
        report = _guard(lambda: tick(db, utcnow(), Policy(), ca))
        console.print(
            f"Уведомлений о плановой замене: {report.renewal_notices}; об истечении: "
            f"{report.expiry_notices}; запросов закрыто по сроку: {report.requests_expired}; "
            f"старых сертификатов отозвано: {report.certificates_retired}; "
            f"СОС: {report.crl_number or 'без изменений'}"
        )


@bank_app.command("org-add")
def bank_org_add(
    name: Annotated[str, typer.Option()],
    inn: Annotated[str, typer.Option()],
    ogrn: Annotated[str, typer.Option()],
    address: Annotated[str, typer.Option()],
    kpp: Annotated[str | None, typer.Option()] = None,
    actor: AsOption = "operator",
    url: UrlOption = None,
) -> None:
    """Зарегистрировать организацию-клиента."""
    with _database(url) as db:
        org_id = _guard(
            lambda: _workflow(db).register_organization(
                Actor.operator(actor), name=name, inn=inn, ogrn=ogrn, address=address, kpp=kpp
            )
        )
        console.print(f"Организация зарегистрирована: № {org_id}")


@bank_app.command("signer-add")
def bank_signer_add(
    organization_id: Annotated[int, typer.Option()],
    login: Annotated[str, typer.Option()],
    surname: Annotated[str, typer.Option()],
    given_name: Annotated[str, typer.Option(help="Имя и отчество")],
    position: Annotated[str, typer.Option()],
    snils: Annotated[str, typer.Option()],
    email: Annotated[str, typer.Option()],
    phone: Annotated[str, typer.Option()],
    acting_on: Annotated[str, typer.Option(help="Действует на основании (род. падеж)")],
    actor: AsOption = "operator",
    url: UrlOption = None,
) -> None:
    """Зарегистрировать владельца сертификата; напечатать одноразовый код активации."""
    with _database(url) as db:
        reg = _guard(
            lambda: _workflow(db).register_signer(
                Actor.operator(actor),
                organization_id,
                login=login,
                surname=surname,
                given_name=given_name,
                position=position,
                snils=snils,
                email=email,
                phone=phone,
                acting_on=acting_on,
            )
        )
        console.print(f"Владелец сертификата № {reg.signer_id}, логин {login}")
        console.print(f"Код активации (выдаётся один раз): [bold]{reg.activation_code}[/bold]")


@bank_app.command("status")
def bank_status(login: str, url: UrlOption = None) -> None:
    """Статус владельца сертификата (по логину)."""
    with _database(url) as db:
        with db.transaction() as s:
            signer_id = s.execute(select(Signer.id).where(Signer.login == login)).scalar()
        if signer_id is None:
            err.print(f"Владелец сертификата «{login}» не найден")
            raise typer.Exit(1)
        status = _guard(lambda: _workflow(db).status(signer_id))
        console.print(status.text)
        if status.request_id is not None:
            console.print(f"Запрос № {status.request_id}")
        if status.certificate_serial is not None and status.not_after is not None:
            console.print(
                f"Сертификат № {status.certificate_serial} до {status.not_after:%d.%m.%Y}"
            )


@bank_app.command("requests")
def bank_requests(
    state: Annotated[str | None, typer.Option(help="Только в этом состоянии")] = None,
    url: UrlOption = None,
) -> None:
    """Список запросов на сертификат."""
    with _database(url) as db, db.transaction() as s:
        query = select(RekeyRequest, Signer.login).join(Signer).order_by(RekeyRequest.id)
        if state:
            query = query.where(RekeyRequest.state == state)
        table = Table("№", "логин", "вид", "путь", "состояние", "принят")
        for req, login in s.execute(query).all():
            table.add_row(
                str(req.id),
                login,
                req.kind,
                req.path,
                req.state,
                f"{req.accepted_at:%d.%m.%Y %H:%M}",
            )
        console.print(table)


@bank_app.command("receive")
def bank_receive(
    request_id: int,
    kinds: Annotated[list[DocumentKind] | None, typer.Option("--kind")] = None,
    actor: AsOption = "operator",
    url: UrlOption = None,
) -> None:
    """Принять бумажные документы по запросу (акт признания и заявление)."""
    wanted = kinds or [DocumentKind.ACCEPTANCE_ACT, DocumentKind.CERTIFICATE_APPLICATION]
    with _database(url) as db:
        state = _guard(
            lambda: _workflow(db).receive_documents(Actor.operator(actor), request_id, wanted)
        )
        console.print(f"Документы приняты; состояние запроса: {state}")


@bank_app.command("receive-transfer-act")
def bank_receive_transfer_act(
    request_id: int, actor: AsOption = "operator", url: UrlOption = None
) -> None:
    """Принять подписанный оригинал акта приема-передачи (после установки сертификата)."""
    with _database(url) as db:
        at = _guard(lambda: _workflow(db).receive_transfer_act(Actor.operator(actor), request_id))
        console.print(
            f"Оригинал акта приема-передачи по запросу № {request_id} получен "
            f"{at:%d.%m.%Y %H:%M} UTC"
        )


@bank_app.command("approve")
def bank_approve(request_id: int, actor: AsOption = "operator", url: UrlOption = None) -> None:
    """Одобрить запрос; УЦ выпускает сертификат (нужен ПИН-код УЦ)."""
    with _database(url) as db:
        ca = _open_ca(db)
        outcome = _guard(lambda: _workflow(db, ca).approve(Actor.operator(actor), request_id))
        if outcome.certificate_serial:
            console.print(f"Получен новый сертификат № {outcome.certificate_serial}")
        else:
            console.print(f"Одобрений: {outcome.approvals} из {outcome.required}")


@bank_app.command("reject")
def bank_reject(
    request_id: int,
    reason: Annotated[str, typer.Option(help="Причина отказа")],
    actor: AsOption = "operator",
    url: UrlOption = None,
) -> None:
    """Отклонить запрос с указанием причины."""
    with _database(url) as db:
        _guard(lambda: _workflow(db).reject(Actor.operator(actor), request_id, reason))
        console.print(f"Запрос № {request_id} отклонён: {reason}")


@bank_app.command("activation-code")
def bank_activation_code(
    signer_id: int, actor: AsOption = "operator", url: UrlOption = None
) -> None:
    """Выдать новый код активации (после личного обращения)."""
    with _database(url) as db:
        code = _guard(lambda: _workflow(db).issue_activation_code(Actor.operator(actor), signer_id))
        console.print(f"Код активации (выдаётся один раз): [bold]{code}[/bold]")


# --- audit -------------------------------------------------------------------------------------


AnchorsOption = Annotated[
    Path | None,
    typer.Option(
        "--anchors",
        help="Файл отметок журнала, хранимый вне базы (строки «bankkeys-audit-anchor …»)",
    ),
]


@audit_app.command("verify")
def audit_verify(url: UrlOption = None, anchors: AnchorsOption = None) -> None:
    """Проверить цепочку журнала аудита (Стрибог-256) и отметки; код выхода 1 при нарушении."""
    marks = _read_anchors(anchors) if anchors is not None else []
    # Reading units, one per page: on SQLite they do not take the write lock, so the bank keeps
    # working while a long log is checked (verify itself is safe beside commits), and no
    # snapshot is held long enough to keep the WAL from being checkpointed.
    with _database(url) as db:
        problems = audit_log.verify(db.reading, anchors=marks)
    if not problems:
        held = f"; отметок проверено: {len(marks)}" if anchors is not None else ""
        console.print(f"Журнал аудита цел{held}")
        return
    for problem in problems:
        err.print(f"[red]Нарушение[/red] (запись {problem.seq}, {problem.kind}): {problem.message}")
    raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor(
    append: Annotated[
        Path | None,
        typer.Option("--append", help="Дописать отметку в этот файл (вне базы данных)"),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Отметка головы журнала для хранения вне базы: по ней «audit verify --anchors» найдёт
    удалённые последние записи и переписанный журнал."""
    with _database(url) as db, db.reading() as s:
        mark = audit_log.anchor(s)
    if append is not None:
        try:
            with append.open("a", encoding="ascii") as out:
                out.write(mark.line() + "\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            err.print(f"[red]Ошибка:[/red] отметка не записана в {append}: {exc.strerror}")
            raise typer.Exit(1) from None
    typer.echo(mark.line())  # one unwrapped line, to be copied as it is


def _read_anchors(path: Path) -> list[audit_log.Anchor]:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]Ошибка:[/red] файл отметок {path} не прочитан: {exc}")
        raise typer.Exit(2) from None
    marks = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            marks.append(audit_log.Anchor.parse(line))
        except ValueError as exc:
            err.print(f"[red]Ошибка:[/red] {path}, строка {number}: {exc}")
            raise typer.Exit(2) from None
    return marks


@audit_app.command("show")
def audit_show(
    request_id: Annotated[int | None, typer.Option("--request")] = None,
    limit: int = 50,
    url: UrlOption = None,
) -> None:
    """Показать записи журнала (последние, или по запросу)."""
    from bankkeys.bank.store.models import AuditEvent

    with _database(url) as db, db.transaction() as s:
        query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
        if request_id is not None:
            query = query.where(AuditEvent.request_id == request_id)
        table = Table("№", "время", "кто", "роль", "действие", "подробности")
        for e in reversed(s.execute(query).scalars().all()):
            table.add_row(
                str(e.seq), f"{e.at:%d.%m.%Y %H:%M:%S}", e.actor, e.role, e.action, e.details
            )
        console.print(table)
