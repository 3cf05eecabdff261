"""First use of a new token (seed 003, steps 7–8): replace both factory PINs in one step."""

from __future__ import annotations

from bankkeys.tokens.base import Token
from bankkeys.tokens.policy import DEFAULT_ADMIN_PIN, DEFAULT_USER_PIN, PinPolicy


def replace_factory_pins(
    token: Token, policy: PinPolicy, new_user_pin: str, new_admin_pin: str
) -> None:
    """Check both new PINs against ``policy`` (including "user and admin PINs differ") before
    touching the token, then change the user PIN from 12345678 and the admin PIN from 87654321.

    Raises :class:`~bankkeys.tokens.errors.PinPolicyViolation` without spending a try when a new
    PIN is unfit, :class:`~bankkeys.tokens.errors.WrongPin` when the token no longer has a
    factory PIN.
    """
    policy.check("user", new_user_pin, new_admin_pin)
    policy.check("admin", new_admin_pin, new_user_pin)
    token.change_user_pin(DEFAULT_USER_PIN, new_user_pin)
    token.change_admin_pin(DEFAULT_ADMIN_PIN, new_admin_pin)
