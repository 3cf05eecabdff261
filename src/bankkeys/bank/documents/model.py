"""What the printed documents are made of: plain, validated input records.

The documents module does not read the bank's store: the caller maps its records onto these
dataclasses. Each record checks itself when it is built, so a document is never printed with an
empty name, a mistyped INN or a public key of the wrong length; the error names the field by its
label on the form (:class:`InvalidDocumentInput`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from bankkeys.bank.documents.errors import InvalidDocumentInput

Gender = Literal["male", "female"]

_DIGITS = re.compile(r"\d+")
_OID = re.compile(r"(0|[1-9]\d*)(\.(0|[1-9]\d*))+")
# The request number travels inside the QR payload, whose separators are ';' and '='.
_REQUEST_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9./_-]{0,39}")
_KPP = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")
_HEX = re.compile(r"[0-9A-Fa-f]+")


@dataclass(frozen=True)
class KeyAlgorithm:
    """A public-key algorithm as the documents print it."""

    oid: str
    title: str
    public_key_size: int  # bytes of the raw key: X||Y for GOST, 04||X||Y for ECDSA


# The key algorithms bankkeys issues certificates for (RFC 9215; RFC 5480 for P-256).
KEY_ALGORITHMS: Final[dict[str, KeyAlgorithm]] = {
    a.oid: a
    for a in (
        KeyAlgorithm("1.2.643.7.1.1.1.1", "ГОСТ Р 34.10-2012, ключ 256 бит", 64),
        KeyAlgorithm("1.2.643.7.1.1.1.2", "ГОСТ Р 34.10-2012, ключ 512 бит", 128),
        KeyAlgorithm("1.2.840.10045.2.1", "ECDSA P-256", 65),
    )
}

# Nominative forms that seed 003 asks to write in the genitive ("Устава", "Доверенности № …").
_NOMINATIVE_BASES: Final[dict[str, str]] = {
    "устав": "Устава",
    "доверенность": "Доверенности",
    "свидетельство": "Свидетельства",
    "приказ": "Приказа",
    "решение": "Решения",
    "протокол": "Протокола",
    "положение": "Положения",
}


def _text(field: str, value: str) -> None:
    if not value or not value.strip():
        raise InvalidDocumentInput(field, "не заполнено")
    if value != value.strip():
        raise InvalidDocumentInput(field, "лишние пробелы в начале или в конце")
    if any(ch < " " for ch in value):
        raise InvalidDocumentInput(field, "содержит управляющие символы (перевод строки и т. п.)")


def _digits(field: str, value: str, lengths: tuple[int, ...]) -> None:
    if not _DIGITS.fullmatch(value) or len(value) not in lengths:
        wanted = " или ".join(str(n) for n in lengths)
        raise InvalidDocumentInput(field, f"должно состоять из {wanted} цифр, получено «{value}»")


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def _check_inn(field: str, inn: str, lengths: tuple[int, ...]) -> None:
    _digits(field, inn, lengths)
    if len(inn) == 10:
        ok = _weighted(inn, (2, 4, 10, 3, 5, 9, 4, 6, 8)) == int(inn[9])
    else:
        ok = _weighted(inn, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == int(inn[10]) and _weighted(
            inn, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
        ) == int(inn[11])
    if not ok:
        raise InvalidDocumentInput(field, f"контрольное число не сходится («{inn}»)")


def _check_ogrn(field: str, ogrn: str) -> None:
    _digits(field, ogrn, (13, 15))
    modulus = 11 if len(ogrn) == 13 else 13
    if int(ogrn[:-1]) % modulus % 10 != int(ogrn[-1]):
        raise InvalidDocumentInput(field, f"контрольное число не сходится («{ogrn}»)")


def _check_snils(field: str, snils: str) -> None:
    _digits(field, snils, (11,))
    total = sum(int(d) * (9 - i) for i, d in enumerate(snils[:9]))
    control = total % 101 if total > 101 else total
    if control in (100, 101):
        control = 0
    if control != int(snils[9:]):
        raise InvalidDocumentInput(field, f"контрольное число не сходится («{snils}»)")


def _check_oid(field: str, value: str) -> None:
    if not _OID.fullmatch(value):
        raise InvalidDocumentInput(field, f"не похоже на OID («{value}»)")


@dataclass(frozen=True)
class PersonName:
    """A person's name as Russian documents print it."""

    surname: str
    given_name: str
    patronymic: str | None = None

    def __post_init__(self) -> None:
        _text("Фамилия", self.surname)
        _text("Имя", self.given_name)
        if self.patronymic is not None:
            _text("Отчество", self.patronymic)

    @property
    def full(self) -> str:
        """«Иванов Иван Иванович»."""
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)

    @property
    def initials_and_surname(self) -> str:
        """«И. И. Иванов», the form under a signature; non-breaking spaces keep it on one line."""
        initials = [f"{p[0]}." for p in (self.given_name, self.patronymic) if p]
        return "\u00a0".join([*initials, self.surname])


@dataclass(frozen=True)
class BankDetails:
    """The bank (and its certification centre) as printed in the documents' headers."""

    name: str
    inn: str
    bic: str
    address: str

    def __post_init__(self) -> None:
        _text("Наименование банка", self.name)
        _check_inn("ИНН банка", self.inn, (10,))
        _digits("БИК банка", self.bic, (9,))
        _text("Адрес банка", self.address)


@dataclass(frozen=True)
class OrganizationDetails:
    """The bank's client: a legal entity (INN of 10 digits, OGRN) or a sole trader (12, OGRNIP)."""

    name: str
    inn: str
    ogrn: str
    address: str
    head: PersonName
    head_position: str
    kpp: str | None = None

    def __post_init__(self) -> None:
        _text("Наименование организации", self.name)
        _check_inn("ИНН организации", self.inn, (10, 12))
        _check_ogrn("ОГРН/ОГРНИП организации", self.ogrn)
        if len(self.inn) == 10 and len(self.ogrn) != 13:
            raise InvalidDocumentInput("ОГРН организации", "у юридического лица ОГРН из 13 цифр")
        if len(self.inn) == 12 and len(self.ogrn) != 15:
            raise InvalidDocumentInput(
                "ОГРНИП", "у индивидуального предпринимателя ОГРНИП из 15 цифр"
            )
        _text("Адрес организации", self.address)
        _text("Должность руководителя", self.head_position)
        if self.kpp is not None and not _KPP.fullmatch(self.kpp):
            raise InvalidDocumentInput(
                "КПП организации", f"должен состоять из 9 знаков, «{self.kpp}»"
            )


@dataclass(frozen=True)
class SignerDetails:
    """The certificate's owner (владелец сертификата ключа проверки ЭП).

    ``acts_on_basis`` is the document the signer acts on, already in the genitive case, as seed 003
    asks: «Устава», «Доверенности № 15 от 10.01.2026». It follows «действующий на основании».
    ``gender`` chooses «действующий»/«действующая»; unknown prints «действующий(-ая)».
    """

    name: PersonName
    position: str
    snils: str
    email: str
    phone: str
    acts_on_basis: str
    gender: Gender | None = None

    def __post_init__(self) -> None:
        _text("Должность владельца сертификата", self.position)
        _check_snils("СНИЛС владельца сертификата", self.snils)
        _text("Адрес электронной почты", self.email)
        local, at, domain = self.email.partition("@")
        if not at or not local or "." not in domain or " " in self.email:
            raise InvalidDocumentInput(
                "Адрес электронной почты", f"не похож на адрес («{self.email}»)"
            )
        _text("Телефон", self.phone)
        if sum(ch.isdigit() for ch in self.phone) < 10:
            raise InvalidDocumentInput("Телефон", f"меньше 10 цифр («{self.phone}»)")
        field = "Документ, на основании которого действует владелец"
        _text(field, self.acts_on_basis)
        first_word = self.acts_on_basis.split()[0].lower().rstrip(",.")
        if first_word in _NOMINATIVE_BASES:
            genitive = _NOMINATIVE_BASES[first_word]
            raise InvalidDocumentInput(
                field, f"укажите в родительном падеже: «{genitive}», а не «{self.acts_on_basis}»"
            )

    @property
    def acting(self) -> str:
        """«действующий» in the signer's gender."""
        if self.gender == "male":
            return "действующий"
        if self.gender == "female":
            return "действующая"
        return "действующий(-ая)"


@dataclass(frozen=True)
class PublicKeyDetails:
    """The public key (ключ проверки ЭП) of the request.

    ``public_key`` is the raw key as the algorithm defines it (printed in hex);
    ``public_key_info`` the DER SubjectPublicKeyInfo exactly as the request carried it, whose
    Streebog-256 is the key's fingerprint everywhere in bankkeys (the store's ``key_fingerprint``).
    :meth:`from_public_key_info` derives everything from the DER alone.
    """

    algorithm_oid: str
    parameter_set_name: str
    parameter_set_oid: str
    public_key: bytes
    public_key_info: bytes

    @classmethod
    def from_public_key_info(cls, der: bytes) -> PublicKeyDetails:
        """Read algorithm, parameters and raw key from a DER SubjectPublicKeyInfo (via pki)."""
        from bankkeys.pki import algorithms
        from bankkeys.pki.errors import PkiError
        from bankkeys.pki.keys import decode_public_key_info

        try:
            spec, raw = decode_public_key_info(der)
        except PkiError as exc:
            raise InvalidDocumentInput("Открытый ключ", str(exc)) from None
        alg = algorithms.algorithm(spec.family)
        if alg is algorithms.ECDSA_P256:
            return cls(alg.key_oid, "P-256", "1.2.840.10045.3.1.7", raw, der)
        params = algorithms.param_set(spec.curve)
        return cls(alg.key_oid, spec.curve, params.oid, raw, der)

    def __post_init__(self) -> None:
        _check_oid("OID алгоритма ключа", self.algorithm_oid)
        if self.algorithm_oid not in KEY_ALGORITHMS:
            raise InvalidDocumentInput(
                "Алгоритм ключа", f"неподдерживаемый алгоритм {self.algorithm_oid}"
            )
        _text("Параметры ключа", self.parameter_set_name)
        _check_oid("OID параметров ключа", self.parameter_set_oid)
        expected = self.algorithm.public_key_size
        if len(self.public_key) != expected:
            raise InvalidDocumentInput(
                "Открытый ключ",
                f"длина {len(self.public_key)} байт, для «{self.algorithm.title}» нужно {expected}",
            )
        if not any(self.public_key):
            raise InvalidDocumentInput("Открытый ключ", "состоит из одних нулей")
        # The key and its DER travel together; a DER that does not hold this key is another key.
        if self.public_key not in self.public_key_info:
            raise InvalidDocumentInput(
                "Открытый ключ", "не совпадает с ключом в SubjectPublicKeyInfo запроса"
            )

    @property
    def algorithm(self) -> KeyAlgorithm:
        return KEY_ALGORITHMS[self.algorithm_oid]


@dataclass(frozen=True)
class RequestDetails:
    """The re-key request the documents belong to: its number and the date it was made."""

    number: str
    date: date

    def __post_init__(self) -> None:
        if not _REQUEST_NUMBER.fullmatch(self.number):
            raise InvalidDocumentInput(
                "Номер запроса",
                "от 1 до 40 знаков: латинские буквы, цифры, «.», «/», «_», «-»; "
                f"получено «{self.number}»",
            )


@dataclass(frozen=True)
class CertificateDetails:
    """The issued certificate, once there is one: serial number (hex) and validity dates."""

    serial_number: str
    not_before: date
    not_after: date

    def __post_init__(self) -> None:
        if not _HEX.fullmatch(self.serial_number) or len(self.serial_number) > 40:
            raise InvalidDocumentInput(
                "Серийный номер сертификата",
                f"до 40 шестнадцатеричных цифр, «{self.serial_number}»",
            )
        if self.not_after <= self.not_before:
            raise InvalidDocumentInput("Срок действия сертификата", "окончание не позже начала")


@dataclass(frozen=True)
class TokenDetails:
    """The key carrier the certificate was written to (seed 003: model and printed serial)."""

    model: str
    serial: str

    def __post_init__(self) -> None:
        _text("Модель ключевого носителя", self.model)
        _text("Серийный номер ключевого носителя", self.serial)


@dataclass(frozen=True)
class KeyDocumentInput:
    """Everything the acceptance act, the application and the transfer act are filled from."""

    bank: BankDetails
    organization: OrganizationDetails
    signer: SignerDetails
    request: RequestDetails
    key: PublicKeyDetails
    certificate: CertificateDetails | None = None
