"""Distinguished names with the Russian qualified-certificate attributes, as a typed dataclass.

Attribute encodings follow the FSB/Минцифры qualified-certificate rules and RFC 5280: INN, INNLE,
OGRN, OGRNIP and SNILS are NumericString of fixed length, country a two-letter PrintableString,
e-mail an IA5String, everything else a UTF8String.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any, Final

from asn1crypto import parser as asn1_parser

from bankkeys.pki import _asn1
from bankkeys.pki._asn1 import core, x509
from bankkeys.pki.errors import InvalidInput, ParseError

# field name -> (asn1crypto attribute name, OID); the tuple order is the order written in a DN.
_ATTRIBUTES: Final = (
    ("country", "country_name", "2.5.4.6"),
    ("state", "state_or_province_name", "2.5.4.8"),
    ("locality", "locality_name", "2.5.4.7"),
    ("street", "street_address", "2.5.4.9"),
    ("organization", "organization_name", "2.5.4.10"),
    ("organizational_unit", "organizational_unit_name", "2.5.4.11"),
    ("title", "title", "2.5.4.12"),
    ("common_name", "common_name", "2.5.4.3"),
    ("surname", "surname", "2.5.4.4"),
    ("given_name", "given_name", "2.5.4.42"),
    ("email", "email_address", "1.2.840.113549.1.9.1"),
    ("ogrn", "ogrn", _asn1.OGRN),
    ("ogrnip", "ogrnip", _asn1.OGRNIP),
    ("innle", "innle", _asn1.INNLE),
    ("inn", "inn", _asn1.INN),
    ("snils", "snils", _asn1.SNILS),
)
_DIGITS: Final = {"inn": 12, "innle": 10, "ogrn": 13, "ogrnip": 15, "snils": 11}
_BY_OID: Final = {oid: field for field, _name, oid in _ATTRIBUTES}


@dataclass(frozen=True)
class Name:
    """A distinguished name. ``given_name`` holds the first name and patronymic ("Иван Иванович").

    ``other`` keeps attributes this class has no field for, as ``(dotted OID, text)`` pairs, so a
    name read from a certificate loses nothing.
    """

    common_name: str | None = None
    surname: str | None = None
    given_name: str | None = None
    title: str | None = None
    organization: str | None = None
    organizational_unit: str | None = None
    country: str | None = None
    state: str | None = None
    locality: str | None = None
    street: str | None = None
    email: str | None = None
    inn: str | None = None
    innle: str | None = None
    ogrn: str | None = None
    ogrnip: str | None = None
    snils: str | None = None
    other: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name, length in _DIGITS.items():
            value = getattr(self, name)
            if value is not None and (
                len(value) != length or not value.isascii() or not value.isdigit()
            ):
                raise InvalidInput(f"{name.upper()}: ожидалось {length} цифр, получено {value!r}")
        if self.country is not None and (
            len(self.country) != 2 or not self.country.isascii() or not self.country.isalpha()
        ):
            raise InvalidInput(
                f"код страны: ожидались две латинские буквы, получено {self.country!r}"
            )
        if self.email is not None and (not self.email.isascii() or "@" not in self.email):
            raise InvalidInput(f"адрес электронной почты некорректен: {self.email!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and not value.strip():
                raise InvalidInput(f"пустое значение атрибута {f.name}")

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, ()) for f in fields(self))

    def __str__(self) -> str:
        parts = [
            f"{name}={getattr(self, field)}"
            for field, name, _oid in _ATTRIBUTES
            if getattr(self, field) is not None
        ]
        parts += [f"{oid}={value}" for oid, value in self.other]
        return ", ".join(parts)


def name_to_asn1(name: Name) -> Any:
    """The asn1crypto ``Name`` of a :class:`Name` (one attribute per RDN, fixed order)."""
    return x509.Name.load(_name_der(name))


@functools.lru_cache(maxsize=1024)
def _name_der(name: Name) -> bytes:
    # Each RDN holds exactly one attribute, so its DER SET OF needs no sorting: the attributes
    # are encoded one by one and wrapped with asn1crypto's own header encoder. Building the
    # nested asn1crypto objects instead re-encodes the growing sequence on every append.
    attributes = [
        x509.NameTypeAndValue({"type": attr, "value": _encode_value(field, value)})
        for field, attr, _oid in _ATTRIBUTES
        if (value := getattr(name, field)) is not None
    ]
    attributes += [
        x509.NameTypeAndValue({"type": oid, "value": core.UTF8String(text)})
        for oid, text in name.other
    ]
    rdns = b"".join(_SET_OF(_asn1.dump(atv)) for atv in attributes)
    return _SEQUENCE_OF(rdns)


def _SET_OF(contents: bytes) -> bytes:
    return bytes(asn1_parser.emit(0, 1, 17, contents))  # universal, constructed, SET


def _SEQUENCE_OF(contents: bytes) -> bytes:
    return bytes(asn1_parser.emit(0, 1, 16, contents))  # universal, constructed, SEQUENCE


def _encode_value(field: str, value: str) -> Any:
    if field in _DIGITS:
        return core.NumericString(value)
    if field == "country":
        return core.PrintableString(value)
    if field == "email":
        return x509.EmailAddress(value)
    return x509.DirectoryString(name="utf8_string", value=value)


def name_from_asn1(value: Any) -> Name:
    """A :class:`Name` from a parsed asn1crypto ``Name``; multi-valued RDNs are flattened."""
    found: dict[str, str] = {}
    other: list[tuple[str, str]] = []
    with _asn1.guarded("имя (Name)"):
        for rdn in value.chosen:
            for atv in rdn:
                oid = atv["type"].dotted
                text = atv["value"].native
                if not isinstance(text, str):
                    text = _text_of_unknown(atv["value"])
                field = _BY_OID.get(oid)
                if field is None or field in found:
                    other.append((oid, text))
                else:
                    found[field] = text
    try:
        return Name(**found, other=tuple(other))
    except InvalidInput as exc:
        raise ParseError(f"имя (Name): {exc}") from None


def _text_of_unknown(value: Any) -> str:
    # An attribute without a known string type: keep its DER in hex rather than lose it.
    return "#" + _asn1.dump(value).hex()


def name_to_der(name: Name) -> bytes:
    """DER of a Name."""
    return _name_der(name)


def name_from_der(der: bytes) -> Name:
    """A Name from its DER."""
    return name_from_asn1(_asn1.load(x509.Name, der, "имя (Name)"))
