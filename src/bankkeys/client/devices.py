"""Which tokens are plugged in: PKCS#11 tokens (Rutoken, SoftHSM2 in tests) and software key
containers (a folder, usually on a flash drive — seed 004).

A token is known to the user by its model and the serial printed on it (seed 003: "2000…"/"2100…"
is Рутокен ЭЦП 2.0, "3220…" is Рутокен ЭЦП 3.0); :class:`PresentToken` carries both.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from bankkeys.client.errors import TokenNeeded
from bankkeys.client.home import ClientConfig
from bankkeys.tokens import Pkcs11Module, SoftwareContainer, Token, TokenError, TokenInfo
from bankkeys.tokens.container import STATE_FILE
from bankkeys.tokens.models import RUTOKEN_ECP_3_MODEL, is_legacy, policy_for_model, rutoken_model
from bankkeys.tokens.policy import PinPolicy


@dataclass(frozen=True)
class PresentToken:
    """A token plugged in now, as the user knows it."""

    serial: str
    model: str
    label: str
    backend: str
    location: str  # container folder, or the PKCS#11 module path
    info: TokenInfo

    @property
    def title(self) -> str:
        """ "Рутокен ЭЦП 3.0 № 3220…" — what the wizard says when it asks for this token."""
        return f"{self.model} № {self.serial}"

    @property
    def legacy(self) -> bool:
        return is_legacy(self.model)

    @property
    def must_change_pins(self) -> bool:
        return self.info.pins.must_change


def token_model(info: TokenInfo) -> str:
    """The model by the printed serial where it tells, else what the token reports."""
    return rutoken_model(info.serial) or info.model


def _containers(config: ClientConfig) -> list[Path]:
    seen: dict[str, Path] = {}
    for text in config.containers:
        seen.setdefault(str(Path(text)), Path(text))
    for root in config.container_roots:
        base = Path(root)
        with contextlib.suppress(OSError):
            for child in sorted(base.iterdir()):
                if (child / STATE_FILE).is_file():
                    seen.setdefault(str(child), child)
    return [p for p in seen.values() if (p / STATE_FILE).is_file()]


class Devices:
    """Lists the tokens present and opens one by serial."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._module_path = config.pkcs11_module or os.environ.get("BANKKEYS_PKCS11_MODULE")
        self._module: Pkcs11Module | None = None

    def _pkcs11(self) -> Pkcs11Module | None:
        if self._module_path is None:
            return None
        if self._module is None:
            try:
                self._module = Pkcs11Module(self._module_path)
            except TokenError:
                return None
        return self._module

    def present(self) -> list[PresentToken]:
        found: list[PresentToken] = []
        module = self._pkcs11()
        if module is not None:
            with contextlib.suppress(TokenError):
                for token in module.tokens():
                    with contextlib.suppress(TokenError):
                        info = token.info()
                        found.append(
                            PresentToken(
                                info.serial, token_model(info), info.label, "pkcs11",
                                module.path, info,
                            )
                        )  # fmt: skip
        for folder in _containers(self.config):
            with contextlib.suppress(TokenError):
                info = SoftwareContainer(folder).info()
                found.append(
                    PresentToken(
                        info.serial, token_model(info), info.label, "software", str(folder), info
                    )
                )
        return found

    def find(self, serial: str) -> PresentToken | None:
        return next((t for t in self.present() if t.serial == serial), None)

    def open(self, serial: str) -> Token:
        """Open the token with this serial, or ask for it by name (seed 003: "вставьте …")."""
        present = self.find(serial)
        if present is None:
            raise TokenNeeded(
                f"Подключите к компьютеру ключевой носитель № {serial}", serial=serial
            )
        return open_present(present, self._pkcs11())


def open_present(present: PresentToken, module: Pkcs11Module | None) -> Token:
    if present.backend == "software":
        return SoftwareContainer(Path(present.location))
    if module is None:
        raise TokenNeeded("Не загружена библиотека PKCS#11 ключевого носителя")
    policy = policy_for_model(present.model)
    return module.token(serial=present.serial, policy=policy)


def pin_policy(present: PresentToken, token: Token) -> PinPolicy:
    """The PIN policy to enforce when replacing factory PINs: the container's own, else by model.

    A new token of an unknown model gets the strict Rutoken ECP 3.0 rules of seed 003."""
    if isinstance(token, SoftwareContainer):
        return token.policy
    if present.model == RUTOKEN_ECP_3_MODEL or rutoken_model(present.serial) is None:
        return policy_for_model(RUTOKEN_ECP_3_MODEL)
    return policy_for_model(present.model)
