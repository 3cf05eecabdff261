"""The request fields the signer checks and corrects («Обязательно проверьте корректность
заполнения всех полей и скорректируйте при необходимости!», seeds 000–001).

The bank's subject template is the starting point; corrections are checked locally (lengths,
digits) before any key is generated, and the bank checks the identity fields against its records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bankkeys.client.errors import WizardError
from bankkeys.pki.errors import PkiError
from bankkeys.pki.names import Name

# field -> label, in the order shown
LABELS: dict[str, str] = {
    "surname": "Фамилия",
    "given_name": "Имя и отчество",
    "title": "Должность",
    "organization": "Организация",
    "common_name": "Наименование (CN)",
    "inn": "ИНН",
    "innle": "ИНН организации",
    "ogrn": "ОГРН",
    "ogrnip": "ОГРНИП",
    "snils": "СНИЛС",
    "email": "Адрес электронной почты",
    "locality": "Населённый пункт",
    "country": "Страна",
}
READ_ONLY = frozenset({"country"})


@dataclass(frozen=True)
class RequestField:
    name: str
    label: str
    value: str
    editable: bool


def request_fields(template: Mapping[str, str]) -> list[RequestField]:
    """The fields to show, labelled, in a stable order (unknown names last, as they came)."""
    names = [n for n in LABELS if n in template] + [n for n in template if n not in LABELS]
    return [
        RequestField(n, LABELS.get(n, n), template[n], n not in READ_ONLY and n in LABELS)
        for n in names
    ]


def build_subject(template: Mapping[str, str], corrections: Mapping[str, str]) -> Name:
    """The subject for the PKCS#10: the template with the signer's corrections applied.

    Raises :class:`WizardError` naming the field when a value is malformed or not correctable.
    """
    values = dict(template)
    for name, raw in corrections.items():
        value = " ".join(raw.split())
        if name not in values or name in READ_ONLY or name not in LABELS:
            raise WizardError(f"Поле «{LABELS.get(name, name)}» нельзя изменить")
        if not value:
            raise WizardError(f"Поле «{LABELS[name]}» не может быть пустым")
        values[name] = value
    known: dict[str, Any] = {k: v for k, v in values.items() if k in LABELS}
    try:
        return Name(**known)
    except PkiError as exc:
        raise WizardError(f"Проверьте поля запроса: {exc}") from exc
