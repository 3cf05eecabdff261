"""Typed client errors; ``str()`` is the message for the user, in Russian."""

from __future__ import annotations


class ClientError(Exception):
    """Base of every client failure; nothing is lost when one is raised (resume later)."""

    default_message = "Ошибка рабочего места клиента"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(ClientError):
    default_message = "Настройки рабочего места повреждены"


class BankNotConfigured(ClientError):
    default_message = "Банк не подключён: выполните «bankkeys client connect АДРЕС»"


class BankUnreachable(ClientError):
    default_message = (
        "Нет связи с сервером банка. Проверьте подключение к Интернету и настройки прокси; "
        "ничего не потеряно — повторите операцию позже"
    )


class NotSignedIn(ClientError):
    default_message = "Войдите в систему: логин, пароль и одноразовый код"


class BankRefused(ClientError):
    """The bank answered with an error; ``code`` is the API's machine-readable class."""

    def __init__(
        self, status_code: int, code: str, message: str, current_status: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.current_status = current_status


class CaMismatch(ClientError):
    """The bank presents a CA certificate other than the pinned one."""

    default_message = (
        "Сертификат УЦ банка не совпадает с сохранённым ранее. Работа остановлена: "
        "возможна подмена сервера. Обратитесь в банк"
    )


class CertificateRefused(ClientError):
    """The certificate from the bank does not fit the key on the token or the bank's CA."""


class TokenNeeded(ClientError):
    """A particular token must be plugged in (or the other one removed) to go on."""

    def __init__(self, message: str, *, serial: str | None = None) -> None:
        super().__init__(message)
        self.serial = serial


class WizardError(ClientError):
    """A step of the wizard cannot run in the current state; the message says what to do."""
