"""PIN policy: factory PINs, retry limits, and the rules a new PIN must satisfy."""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass
from typing import Any

from bankkeys.tokens.errors import PinPolicyViolation, PinRole

DEFAULT_USER_PIN = "12345678"
DEFAULT_ADMIN_PIN = "87654321"
SPECIAL_CHARACTERS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "


def is_default_pin(role: PinRole, pin: str) -> bool:
    """Whether ``pin`` is the factory value for ``role`` (compared in constant time)."""
    default = DEFAULT_ADMIN_PIN if role == "admin" else DEFAULT_USER_PIN
    return hmac.compare_digest(pin.encode(), default.encode())


@dataclass(frozen=True)
class PinPolicy:
    """Rules for new PINs and the retry limits (Rutoken ECP: user 1–10, admin 3–10 tries)."""

    min_length: int = 6
    max_length: int = 32
    require_upper: bool = False
    require_lower: bool = False
    require_digit: bool = False
    require_special: bool = False
    pins_differ: bool = True
    user_max_tries: int = 10
    admin_max_tries: int = 10

    def __post_init__(self) -> None:
        if not 1 <= self.user_max_tries <= 100 or not 1 <= self.admin_max_tries <= 100:
            raise ValueError("retry limits must be between 1 and 100")
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("min_length must be between 1 and max_length")

    def violations(self, role: PinRole, new_pin: str, other_pin: str | None = None) -> list[str]:
        """Every rule ``new_pin`` breaks (in Russian); ``other_pin`` is the other PIN if known."""
        reasons: list[str] = []
        if len(new_pin) < self.min_length:
            reasons.append(f"длина не менее {self.min_length} символов")
        if len(new_pin) > self.max_length:
            reasons.append(f"длина не более {self.max_length} символов")
        if self.require_upper and not any(c.isupper() for c in new_pin):
            reasons.append("буквы в верхнем регистре")
        if self.require_lower and not any(c.islower() for c in new_pin):
            reasons.append("буквы в нижнем регистре")
        if self.require_digit and not any(c.isdigit() for c in new_pin):
            reasons.append("цифры")
        if self.require_special and not any(c in SPECIAL_CHARACTERS for c in new_pin):
            reasons.append("спецсимволы")
        if is_default_pin("user", new_pin) or is_default_pin("admin", new_pin):
            reasons.append("PIN-код не должен совпадать с PIN-кодом по умолчанию")
        if (
            self.pins_differ
            and other_pin is not None
            and hmac.compare_digest(new_pin.encode(), other_pin.encode())
        ):
            reasons.append("PIN-код пользователя и администратора должны отличаться")
        return reasons

    def check(self, role: PinRole, new_pin: str, other_pin: str | None = None) -> None:
        """Raise :class:`PinPolicyViolation` listing every broken rule."""
        reasons = self.violations(role, new_pin, other_pin)
        if reasons:
            raise PinPolicyViolation(reasons)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PinPolicy:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# Seed 003: "Пароль должен содержать буквы в верхнем и нижнем регистре, цифры и спецсимволы",
# "PIN-код пользователя и администратора должны отличаться".
RUTOKEN_ECP_3 = PinPolicy(
    min_length=8, require_upper=True, require_lower=True, require_digit=True, require_special=True
)
BASIC = PinPolicy()
