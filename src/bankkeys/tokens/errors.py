"""Typed token errors with the user-facing Russian messages (the seeds' own words where they exist).

Every failure of a token operation is a :class:`TokenError`; callers catch the subclass they can act
on (ask for the PIN again, offer an unblock, ask to insert the token) and show ``str(error)``.
"""

from __future__ import annotations

from typing import Literal

PinRole = Literal["user", "admin"]


class TokenError(Exception):
    """Base of every token failure; ``str()`` is the message for the user, in Russian."""

    default_message = "Ошибка ключевого носителя"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class WrongPin(TokenError):
    """The PIN did not match; ``tries_left`` is None when the device does not report it."""

    def __init__(self, role: PinRole = "user", tries_left: int | None = None) -> None:
        who = "PIN-код администратора" if role == "admin" else "PIN-код"
        text = f"Неверный {who}."
        if tries_left is not None:
            text += f" Осталось попыток: {tries_left}"
        super().__init__(text)
        self.role: PinRole = role
        self.tries_left = tries_left


class PinBlocked(TokenError):
    """The retry counter reached zero."""

    def __init__(self, role: PinRole = "user") -> None:
        if role == "admin":
            text = (
                "PIN-код администратора заблокирован. Разблокировать PIN-код пользователя "
                "и переформатировать носитель больше нельзя"
            )
        else:
            text = "PIN-код заблокирован. Разблокируйте его PIN-кодом администратора"
        super().__init__(text)
        self.role: PinRole = role


class DefaultPinRefused(TokenError):
    """Work is refused while a PIN still has its factory value (seed 003, steps 7–8)."""

    def __init__(self, role: PinRole = "user") -> None:
        who = "PIN-код администратора" if role == "admin" else "PIN-код"
        super().__init__(f"Текущий {who} потенциально небезопасен. Необходимо сменить его на новый")
        self.role: PinRole = role


class PinPolicyViolation(TokenError):
    """A new PIN breaks the PIN policy; ``reasons`` lists every broken rule."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("Новый PIN-код не соответствует требованиям: " + "; ".join(reasons))
        self.reasons = list(reasons)


class NotLoggedIn(TokenError):
    default_message = "Введите PIN-код ключевого носителя"


class TokenNotFound(TokenError):
    default_message = "Ключевой носитель не найден. Подключите его к компьютеру"


class TokenRemoved(TokenError):
    default_message = (
        "Ключевой носитель отключён во время работы. Подключите его и повторите операцию"
    )


class KeyNotFound(TokenError):
    default_message = "Ключ не найден на ключевом носителе"


class ObjectNotFound(TokenError):
    default_message = "Объект не найден на ключевом носителе"


class UnsupportedKeySpec(TokenError):
    default_message = "Ключевой носитель не поддерживает этот алгоритм ключа"


class CertificateMismatch(TokenError):
    default_message = "Сертификат не соответствует ни одному ключу на носителе"


class ContainerCorrupted(TokenError):
    default_message = "Ключевой контейнер повреждён или изменён"


class ContainerExists(TokenError):
    default_message = "В этой папке уже есть ключевой контейнер"


class TokenDeviceError(TokenError):
    """Any other device failure; the PKCS#11 reason is kept for the log, not for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Ошибка ключевого носителя ({reason})")
        self.reason = reason
