"""PIN entry and the forced change of factory PINs before any work (seeds 000, 003).

A token whose user or admin PIN still has its factory value (12345678 / 87654321) is refused for
work; the wizard then asks for both new PINs at once, checked against the model's policy (seed
003: upper and lower case letters, digits, special characters; user and admin PINs differ).
"""

from __future__ import annotations

import hmac

from bankkeys.client.errors import WizardError
from bankkeys.tokens import DefaultPinRefused, PinPolicy, Token
from bankkeys.tokens.policy import is_default_pin
from bankkeys.tokens.setup import replace_factory_pins


def login_for_work(token: Token, pin: str) -> None:
    """Log in and refuse to go on while a PIN is the factory one.

    Raises :class:`~bankkeys.tokens.WrongPin`, :class:`~bankkeys.tokens.PinBlocked` (with the
    tries left), or :class:`~bankkeys.tokens.DefaultPinRefused` (change the PINs first).
    """
    if not pin:
        raise WizardError("Введите PIN-код ключевого носителя")
    token.login(pin)
    pins = token.info().pins
    if pins.user_pin_default or is_default_pin("user", pin):
        token.logout()
        raise DefaultPinRefused("user")
    if pins.admin_pin_default:
        token.logout()
        raise DefaultPinRefused("admin")


def needs_new_pins(token: Token) -> bool:
    """Whether the token says a factory PIN is still set (PKCS#11 may not say until login)."""
    return token.info().pins.must_change


def replace_defaults(
    token: Token,
    policy: PinPolicy,
    new_user_pin: str,
    new_user_pin_again: str,
    new_admin_pin: str,
    new_admin_pin_again: str,
) -> None:
    """Seed 003 steps 7–8 in one form: both PINs typed twice, checked, then changed."""
    if not hmac.compare_digest(new_user_pin.encode(), new_user_pin_again.encode()):
        raise WizardError("Новый PIN-код и его подтверждение не совпадают")
    if not hmac.compare_digest(new_admin_pin.encode(), new_admin_pin_again.encode()):
        raise WizardError("Новый PIN-код администратора и его подтверждение не совпадают")
    replace_factory_pins(token, policy, new_user_pin, new_admin_pin)
