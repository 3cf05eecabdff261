"""E-mail for the notifications the bank core queues, sent through SMTP (``BANKKEYS_SMTP_URL``).

``smtp://host:25`` (plain, as inside a bank's network or in tests), ``smtp+starttls://`` and
``smtps://``; ``user:password@`` in the URL logs in. The texts use the seeds' words.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select, update

from bankkeys.bank.notifications import NotificationKind
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import Certificate, Notification
from bankkeys.bank.store.models import Signer as SignerRow
from bankkeys.server import metrics

log = logging.getLogger("bankkeys.server.mail")
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def compose(
    kind: str, payload: Mapping[str, Any], signer: SignerRow, public_url: str
) -> Mail | None:
    """The message for one notification, or None for kinds that are not mailed."""
    name = f"{signer.given_name}".strip() or signer.surname
    hello = f"Уважаемый(-ая) {name}!\n\n"
    sign = f"\n\n-- \nУдостоверяющий центр банка\n{public_url}\n"
    request_id = payload.get("request_id")
    page = f"{public_url}/client/requests/{request_id}" if request_id else f"{public_url}/client"
    org = signer.organization.name
    match kind:
        case NotificationKind.RENEWAL_WINDOW_OPENED:
            subject = "Необходима плановая замена сертификата"
            text = (
                f"Срок действия Вашего сертификата ключа проверки электронной подписи "
                f"(организация {org}) истекает {payload.get('not_after', '')}.\n"
                "Статус: «Необходима плановая замена сертификата».\n"
                "Запустите программу-клиент банка и сформируйте запрос на новый сертификат "
                "до истечения срока действия текущего."
            )
        case NotificationKind.REQUEST_ACCEPTED:
            subject = f"Запрос № {request_id} принят банком"
            text = (
                f"Ваш запрос на сертификат № {request_id} принят банком.\n"
                "Распечатайте Акт признания открытого ключа (сертификата ключа проверки ЭП) "
                "в двух экземплярах и Заявление на изготовление сертификата, подпишите, "
                "заверьте печатью организации и передайте в банк.\n"
                f"Состояние запроса: {page}"
            )
        case NotificationKind.CERTIFICATE_ISSUED:
            subject = "Получен новый сертификат"
            text = (
                f"По запросу № {request_id} изготовлен новый сертификат "
                f"(серийный номер {payload.get('serial', '')}).\n"
                "Статус: «Получен новый сертификат».\n"
                "Для получения сертификата перейдите по ссылке и нажмите «Получить сертификат»; "
                "сертификат будет записан на ключевой носитель рядом с ключом:\n"
                f"{page}"
            )
        case NotificationKind.REQUEST_REJECTED:
            subject = f"Запрос № {request_id} отклонён банком"
            text = (
                f"Ваш запрос на сертификат № {request_id} отклонён банком.\n"
                f"Причина: {payload.get('reason') or 'не указана'}.\n"
                f"Подробности: {page}"
            )
        case NotificationKind.REQUEST_EXPIRED:
            subject = f"Запрос № {request_id} не подтверждён в срок"
            text = (
                f"Запрос № {request_id} не был подтверждён банком в установленный срок и закрыт.\n"
                f"Подробности: {page}"
            )
        case NotificationKind.OLD_KEY_RETIRED:
            subject = "Старый сертификат выведен из действия"
            text = (
                f"Сертификат № {payload.get('serial', '')} отозван: Вы переведены на работу "
                "с новым комплектом ключей.\n"
                "Старый ключ больше не нужен: уничтожьте его (удалите ключевой контейнер "
                "или очистите старый смарт-ключ)."
            )
        case NotificationKind.CERTIFICATE_EXPIRED:
            subject = "Срок действия сертификата истёк"
            text = (
                "Срок действия Вашего сертификата истёк. Для получения нового сертификата "
                "обратитесь в банк лично."
            )
        case NotificationKind.CERTIFICATE_REVOKED:
            subject = "Сертификат отозван"
            text = "Ваш сертификат отозван банком. Обратитесь в банк лично."
        case _:
            return None
    return Mail(signer.email, subject, hello + text + sign)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    mode: str  # plain, starttls, ssl
    user: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        mode = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "ssl"}[parts.scheme]
        default_port = 465 if mode == "ssl" else 25
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or default_port,
            mode=mode,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpSender:
    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        self.target = SmtpTarget.parse(url)
        self.sender = sender
        self.timeout = timeout

    def send_all(self, mails: list[Mail]) -> None:
        t = self.target
        client: smtplib.SMTP
        if t.mode == "ssl":
            client = smtplib.SMTP_SSL(
                t.host, t.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
        with client:
            if t.mode == "starttls":
                client.starttls(context=ssl.create_default_context())
            if t.user and t.password:
                client.login(t.user, t.password)
            for mail in mails:
                msg = EmailMessage()
                msg["From"] = self.sender
                msg["To"] = mail.to
                msg["Subject"] = mail.subject
                msg["Date"] = formatdate(localtime=False)
                msg["Message-ID"] = make_msgid(domain="bankkeys")
                msg.set_content(mail.body)
                client.send_message(msg)


def deliver_pending(
    db: Database, sender: SmtpSender, public_url: str, now: datetime, *, limit: int = 50
) -> int:
    """Send queued notifications; returns how many were sent.

    Rows are taken under ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite's writer lock serialises)
    so two servers never take the same one; a message is marked sent in the transaction that sent
    it. If the commit is lost after the SMTP server took the message it goes again: at least once.
    """
    with db.transaction() as session:
        rows = session.execute(
            select(Notification, SignerRow)
            .join(SignerRow, SignerRow.id == Notification.signer_id)
            .where(Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
            .order_by(Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Notification)
        ).all()
        if not rows:
            return 0
        mails: list[tuple[Notification, Mail | None]] = []
        for n, signer in rows:
            payload = json.loads(n.payload)
            if "serial" in payload and "not_after" not in payload:
                # The tick queues renewal notices with the serial alone; the date is in the store.
                not_after = session.execute(
                    select(Certificate.not_after).where(Certificate.serial == payload["serial"])
                ).scalar_one_or_none()
                payload["not_after"] = f"{not_after:%d.%m.%Y}" if not_after else ""
            mails.append((n, compose(n.kind, payload, signer, public_url)))
        to_send = [m for _, m in mails if m is not None]
        try:
            if to_send:
                sender.send_all(to_send)
        except (OSError, smtplib.SMTPException) as exc:
            metrics.MAIL_FAILED.inc()
            log.warning("mail delivery failed", extra={"fields": {"error": type(exc).__name__}})
            session.execute(
                update(Notification)
                .where(Notification.id.in_([n.id for n, _ in mails]))
                .values(attempts=Notification.attempts + 1)
            )
            return 0
        for notification, mail in mails:
            notification.sent_at = now
            notification.attempts += 1
            if mail is not None:
                metrics.MAIL_SENT.labels(notification.kind).inc()
        return len(to_send)
