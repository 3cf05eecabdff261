"""Distinguished names with the Russian qualified-certificate attributes, as a typed dataclass.

Attribute encodings follow the FSB/Минцифры qualified-certificate rules and RFC 5280: INN, INNLE,
OGRN, OGRNIP and SNILS are NumericString of fixed length, country a two-letter PrintableString,
e-mail an IA5String, everything else a UTF8String.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any, Final

from bankkeys.pki import _asn1
from bankkeys.pki import _der_read as der_read
from bankkeys.pki import _der_write as _der
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
    # Written straight to DER. Each RDN holds exactly one attribute, so its SET OF needs no
    # sorting.
    rdns = [
        _der.set_of_contents(_der.sequence(_OID_DER[field], _encode_value(field, value)))
        for field, _attr, _oid in _ATTRIBUTES
        if (value := getattr(name, field)) is not None
    ]
    rdns += [
        _der.set_of_contents(_der.sequence(_other_type(oid), _text_der(oid, text)))
        for oid, text in name.other
    ]
    return _der.sequence_of(rdns)


_OID_DER: Final = {field: _der.oid(oid) for field, _attr, oid in _ATTRIBUTES}
# asn1crypto's names of attribute types ("common_name"), which `other` may use instead of OIDs.
_TYPE_BY_NAME: Final = {name: oid for oid, name in x509.NameType._map.items()}
# Attribute types whose value must be a particular string type (NumericString, IA5String...):
# text of the caller's in UTF8String would be a malformed attribute.
_TYPED_VALUES: Final = frozenset(
    oid
    for oid, attr in x509.NameType._map.items()
    if x509.NameTypeAndValue._oid_specs.get(attr)
    not in (None, x509.DirectoryString, core.UTF8String)
)


def _other_type(oid: str) -> bytes:
    return _der.oid(_TYPE_BY_NAME.get(oid, oid))


def _text_der(oid: str, text: str) -> bytes:
    if _TYPE_BY_NAME.get(oid, oid) in _TYPED_VALUES:
        raise InvalidInput(f"атрибут {oid} не может быть записан как текст UTF8String")
    return _utf8(text)


def _utf8(text: str) -> bytes:
    try:
        return _der.utf8_string(text)
    except UnicodeEncodeError:
        raise InvalidInput(f"значение атрибута имени не кодируется в UTF-8: {text!r}") from None


def _encode_value(field: str, value: str) -> bytes:
    # The character sets were checked by Name itself.
    if field in _DIGITS:
        return _der.numeric_string(value)
    if field == "country":
        return _der.printable_string(value)
    if field == "email":
        return _der.ia5_string(email_octets(value))
    return _utf8(value)


def email_octets(address: str) -> bytes:
    """The IA5 octets of an e-mail address (the subject's emailAddress, an rfc822Name).

    The host part goes through IDNA, as asn1crypto's EmailAddress does: an ASCII host stays as it
    is, but an empty or over-long label is refused.
    """
    mailbox, _, host = address.rpartition("@")
    try:
        return mailbox.encode("ascii") + b"@" + host.encode("idna")
    except UnicodeError:
        raise InvalidInput(f"адрес электронной почты некорректен: {address!r}") from None


def name_from_asn1(value: Any) -> Name:
    """A :class:`Name` from a parsed asn1crypto ``Name`` (the CRL reader's), read from its DER."""
    with _asn1.guarded("имя (Name)"):
        der = _asn1.dump(value)
    return name_from_der(der)


# Attribute value types as the reference ASN.1 schema (X.520 and the FSB rules, as asn1crypto
# declares them) has them: which string tags each attribute admits. Attributes of any other type
# are read by asn1crypto (see _attribute_by_asn1).
_DIRECTORY_STRING: Final = frozenset(
    {
        der_read.TELETEX_STRING,
        der_read.PRINTABLE_STRING,
        der_read.UNIVERSAL_STRING,
        der_read.UTF8_STRING,
        der_read.BMP_STRING,
        der_read.IA5_STRING,  # not in X.520, but written by some CAs and accepted by asn1crypto
    }
)
_DIRECTORY_STRING_OIDS: Final = frozenset(
    {
        *(
            f"2.5.4.{n}"
            for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 17, 41, 42, 43, 44, 46, 65, 97)
        ),
        "1.3.6.1.4.1.311.60.2.1.1",  # jurisdiction locality (EV)
        "1.3.6.1.4.1.311.60.2.1.2",  # jurisdiction state or province (EV)
        "1.3.6.1.4.1.311.60.2.1.3",  # jurisdiction country (EV)
        "0.9.2342.19200300.100.1.1",  # userId
        "0.2.262.1.10.7.20",  # nameDistinguisher
    }
)
_NUMERIC_OIDS: Final = frozenset({_asn1.OGRN, _asn1.OGRNIP, _asn1.INNLE, _asn1.INN, _asn1.SNILS})
_NUMERIC: Final = frozenset({der_read.NUMERIC_STRING})
_EMAIL_OID: Final = "1.2.840.113549.1.9.1"
# PKCS#9 says IA5String; UTF8String and PrintableString are met in the wild (asn1crypto takes them).
_EMAIL: Final = frozenset({der_read.IA5_STRING, der_read.UTF8_STRING, der_read.PRINTABLE_STRING})


def name_from_der(der: bytes) -> Name:
    """A Name from its DER; any defect is a ParseError."""
    what = "имя (Name)"
    der_read.check(der, what)
    return name_of(bytes(der), der_read.read(der, 0, len(der), what))


def name_of(data: bytes, tlv: der_read.Tlv) -> Name:
    """The :class:`Name` of the Name at ``tlv`` in already framing-checked ``data``."""
    return _name(data[tlv.start : tlv.end])


@functools.lru_cache(maxsize=4096)
def _name(der: bytes) -> Name:
    # Names repeat (the issuer of every certificate is the CA): each is read once.
    found: dict[str, str] = {}
    other: list[tuple[str, str]] = []
    for oid, text in attributes_of(der, der_read.read(der, 0, len(der), "имя (Name)")):
        field = _BY_OID.get(oid)
        if field is None or field in found:
            other.append((oid, text))
        else:
            found[field] = text
    try:
        return Name(**found, other=tuple(other))
    except InvalidInput as exc:
        raise ParseError(f"имя (Name): {exc}") from None


def attributes_of(data: bytes, tlv: der_read.Tlv) -> list[tuple[str, str]]:
    """The ``(dotted OID, text)`` of every attribute of a Name, in order; multi-valued RDNs are
    flattened. A value that is no string is kept as ``#`` and the hex of its DER."""
    # The hot loop of certificate parsing (a dozen attributes per subject): tags are compared
    # inline rather than through der_read.expect.
    r = der_read
    what = "имя (Name)"
    result = []
    for rdn in r.children(data, r.expect(tlv, r.SEQUENCE, what), what):
        if rdn.tag != r.SET:
            raise ParseError(f"{what}: ожидался SET (RelativeDistinguishedName)")
        for atv in r.children(data, rdn, what):
            parts = r.children(data, atv, what) if atv.tag == r.SEQUENCE else ()
            if len(parts) != 2:
                raise ParseError(f"{what}: повреждённый атрибут")
            kind, value = parts
            oid = r.oid(data, kind, what)
            if oid in _DIRECTORY_STRING_OIDS:
                text = r.text(data, value, _DIRECTORY_STRING, what)
            elif oid in _NUMERIC_OIDS:
                text = r.text(data, value, _NUMERIC, what)
            elif oid == _EMAIL_OID:
                if value.tag not in _EMAIL:
                    raise ParseError(f"{what}: адрес электронной почты не строкой IA5String")
                text = email_text(data[value.body : value.end], what)
            else:
                text = _attribute_by_asn1(data[atv.start : atv.end])
            result.append((oid, text))
    return result


def email_text(raw: bytes, what: str) -> str:
    """An e-mail address as asn1crypto reads one: the mailbox as Windows-1252, the host as IDNA."""
    mailbox, at, host = raw.rpartition(b"@")
    try:
        if not at:
            return raw.decode("cp1252")
        return mailbox.decode("cp1252") + "@" + host.decode("idna")
    except UnicodeError:
        raise ParseError(f"{what}: адрес электронной почты в неверной кодировке") from None


@functools.lru_cache(maxsize=256)
def _attribute_by_asn1(der: bytes) -> str:
    # Attribute types outside the table above (a telephone number, a domain component, an
    # unregistered OID) are rare: asn1crypto reads them, with its rules for each type.
    atv = _asn1.load(x509.NameTypeAndValue, der, "имя (Name)")
    with _asn1.guarded("имя (Name)"):
        text = atv["value"].native
        return text if isinstance(text, str) else _text_of_unknown(atv["value"])


def _text_of_unknown(value: Any) -> str:
    # An attribute without a known string type: keep its DER in hex rather than lose it.
    return "#" + _asn1.dump(value).hex()


def name_to_der(name: Name) -> bytes:
    """DER of a Name."""
    return _name_der(name)
