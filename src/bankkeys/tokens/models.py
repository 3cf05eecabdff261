"""Token models as the user knows them: from the serial printed on the device (seed 003)."""

from __future__ import annotations

from bankkeys.tokens.policy import BASIC, RUTOKEN_ECP_3, PinPolicy

RUTOKEN_ECP_2 = "Рутокен ЭЦП 2.0"
RUTOKEN_ECP_3_MODEL = "Рутокен ЭЦП 3.0"
SOFTWARE_CONTAINER = "Программный ключевой контейнер bankkeys"


def rutoken_model(serial: str) -> str | None:
    """Rutoken ECP model from the printed serial: "2000…"/"2100…" is 2.0, "3220…" is 3.0.

    Callers pass the printed decimal form (see :func:`printed_serial`).
    """
    digits = serial.strip()
    if digits.startswith(("2000", "2100")):
        return RUTOKEN_ECP_2
    if digits.startswith("3220"):
        return RUTOKEN_ECP_3_MODEL
    return None


def printed_serial(pkcs11_serial: str, manufacturer: str) -> str:
    """The serial as printed on the device.

    Aktiv's PKCS#11 library is understood to report the serial as hex digits of the number printed
    in decimal on the device (not confirmed on a device here); other vendors are shown as reported.
    """
    serial = pkcs11_serial.strip()
    if "aktiv" in manufacturer.lower():
        try:
            return str(int(serial, 16))
        except ValueError:
            return serial
    return serial


def is_legacy(model: str) -> bool:
    """Rutoken ECP 2.0 is the legacy model that banks replace (seed 003)."""
    return model == RUTOKEN_ECP_2


def policy_for_model(model: str) -> PinPolicy:
    """The PIN policy to enforce for a model: Rutoken ECP 3.0 requires strong PINs (seed 003)."""
    return RUTOKEN_ECP_3 if model == RUTOKEN_ECP_3_MODEL else BASIC
