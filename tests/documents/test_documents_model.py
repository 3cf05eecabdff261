"""Input records refuse bad data with a typed error that names the field; formatting helpers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from documents_support import BANK, CERTIFICATE, KEY, KEY_256, ORGANIZATION, REQUEST, SIGNER

from bankkeys.bank.documents import (
    KEY_ALGORITHMS,
    BankDetails,
    CertificateDetails,
    InvalidDocumentInput,
    OrganizationDetails,
    PersonName,
    PublicKeyDetails,
    RequestDetails,
    SignerDetails,
    TokenDetails,
)
from bankkeys.bank.documents.text import count_bytes, hex_groups, russian_date, snils


def refused(field_part: str, build: object) -> InvalidDocumentInput:
    assert callable(build)
    with pytest.raises(InvalidDocumentInput) as caught:
        build()
    assert field_part in caught.value.field, caught.value
    assert str(caught.value).startswith(caught.value.field)
    return caught.value


def test_empty_and_blank_names_are_refused() -> None:
    refused("Фамилия", lambda: PersonName("", "Иван"))
    refused("Имя", lambda: PersonName("Иванов", "   "))
    refused("Отчество", lambda: PersonName("Иванов", "Иван", ""))
    refused("Наименование организации", lambda: replace(ORGANIZATION, name=""))
    refused("Наименование банка", lambda: replace(BANK, name=" "))
    refused("Должность", lambda: replace(SIGNER, position=""))


def test_surrounding_spaces_and_control_characters_are_refused() -> None:
    error = refused("Фамилия", lambda: PersonName(" Иванов", "Иван"))
    assert "пробел" in error.problem
    refused("Адрес организации", lambda: replace(ORGANIZATION, address="г. Москва\nул. Ленина"))


@pytest.mark.parametrize(
    ("algorithm_oid", "size"),
    [("1.2.643.7.1.1.1.1", 64), ("1.2.643.7.1.1.1.2", 128), ("1.2.840.10045.2.1", 65)],
)
def test_key_length_must_match_the_algorithm(algorithm_oid: str, size: int) -> None:
    assert KEY_ALGORITHMS[algorithm_oid].public_key_size == size
    good = (KEY_256 * 3)[:size]
    assert PublicKeyDetails(algorithm_oid, "p", "1.2.3", good, b"\x30" + good).public_key == good
    for wrong in (size - 1, size + 1, 32):
        raw = (KEY_256 * 3)[:wrong]
        error = refused(
            "Открытый ключ",
            lambda raw=raw: PublicKeyDetails(algorithm_oid, "p", "1.2.3", raw, raw),
        )
        assert f"длина {wrong} байт" in error.problem
        assert str(size) in error.problem


def test_all_zero_key_unknown_algorithm_and_bad_oids_are_refused() -> None:
    refused("Открытый ключ", lambda: replace(KEY, public_key=bytes(64), public_key_info=bytes(90)))
    refused("Алгоритм ключа", lambda: replace(KEY, algorithm_oid="1.2.643.2.2.19"))
    refused("OID алгоритма", lambda: replace(KEY, algorithm_oid="gost"))
    refused("OID параметров", lambda: replace(KEY, parameter_set_oid="1..2"))


def test_key_must_be_the_one_in_its_public_key_info() -> None:
    error = refused("Открытый ключ", lambda: replace(KEY, public_key=KEY_256[::-1]))
    assert "SubjectPublicKeyInfo" in error.problem


def test_details_from_a_real_public_key_info() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    details = PublicKeyDetails.from_public_key_info(der)
    assert details.algorithm_oid == "1.2.840.10045.2.1"
    assert details.parameter_set_oid == "1.2.840.10045.3.1.7"
    assert details.public_key == key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert details.public_key_info == der
    refused("Открытый ключ", lambda: PublicKeyDetails.from_public_key_info(b"\x30\x03junk"))


def test_identifiers_are_checked_with_their_control_digits() -> None:
    refused("ИНН банка", lambda: replace(BANK, inn="7701234561"))
    refused("ИНН банка", lambda: replace(BANK, inn="77012345"))
    refused("БИК", lambda: replace(BANK, bic="04452599"))
    refused("ИНН организации", lambda: replace(ORGANIZATION, inn="5001122330"))
    refused("ИНН организации", lambda: replace(ORGANIZATION, inn="500100732258", kpp=None))
    refused("ОГРН", lambda: replace(ORGANIZATION, ogrn="1025001122333"))
    refused("КПП", lambda: replace(ORGANIZATION, kpp="5001"))
    refused("СНИЛС", lambda: replace(SIGNER, snils="11223344594"))
    refused("СНИЛС", lambda: replace(SIGNER, snils="112-233-445 95"))
    # Known-good public identifiers (Sberbank's INN and OGRN) pass the same checks.
    assert BankDetails("ПАО Сбербанк", "7707083893", "044525225", "Москва").inn == "7707083893"
    assert replace(ORGANIZATION, ogrn="1027700132195").ogrn == "1027700132195"


def test_sole_trader_has_twelve_digit_inn_and_ogrnip() -> None:
    trader = replace(ORGANIZATION, inn="770712345633", ogrn="304770000000127", kpp=None)
    assert trader.kpp is None
    refused("ОГРНИП", lambda: replace(ORGANIZATION, inn="770712345633", kpp=None))
    refused("ОГРН организации", lambda: replace(ORGANIZATION, ogrn="304770000000127"))


def test_acts_on_basis_must_be_in_the_genitive() -> None:
    error = refused("на основании", lambda: replace(SIGNER, acts_on_basis="Устав"))
    assert "«Устава»" in error.problem
    error = refused(
        "на основании", lambda: replace(SIGNER, acts_on_basis="Доверенность № 15 от 10.01.2026")
    )
    assert "«Доверенности»" in error.problem
    refused("на основании", lambda: replace(SIGNER, acts_on_basis=""))
    assert replace(SIGNER, acts_on_basis="Устава").acts_on_basis == "Устава"


def test_contacts_are_checked() -> None:
    refused("электронной почты", lambda: replace(SIGNER, email="ivanova.example"))
    refused("электронной почты", lambda: replace(SIGNER, email="a@b"))
    refused("Телефон", lambda: replace(SIGNER, phone="123-45"))


def test_request_number_may_not_carry_qr_separators() -> None:
    for bad in ("", "12;FP=00", "a=b", "№ 12", "x" * 41, "-12"):
        refused("Номер запроса", lambda n=bad: RequestDetails(n, date(2026, 1, 1)))
    assert RequestDetails("2026/000.1_a-b", date(2026, 1, 1)).number == "2026/000.1_a-b"
    assert REQUEST.number == "2026-000123"


def test_certificate_and_token_are_checked() -> None:
    refused("Серийный номер сертификата", lambda: replace(CERTIFICATE, serial_number="xyz"))
    refused(
        "Срок действия",
        lambda: CertificateDetails("01", date(2027, 1, 1), date(2027, 1, 1)),
    )
    refused("Модель ключевого носителя", lambda: TokenDetails("", "3220123456"))
    refused("Серийный номер ключевого носителя", lambda: TokenDetails("Рутокен ЭЦП 3.0", ""))


def test_gender_chooses_the_participle() -> None:
    assert replace(SIGNER, gender="male").acting == "действующий"
    assert replace(SIGNER, gender="female").acting == "действующая"
    assert replace(SIGNER, gender=None).acting == "действующий(-ая)"


def test_names_dates_and_numbers_are_written_the_russian_way() -> None:
    name = PersonName("Иванов", "Иван", "Петрович")
    assert name.full == "Иванов Иван Петрович"
    assert name.initials_and_surname == "И.\u00a0П.\u00a0Иванов"
    assert PersonName("Smith", "John").initials_and_surname == "J.\u00a0Smith"
    assert russian_date(date(2026, 11, 22)) == "«22»\u00a0ноября 2026\u00a0г."
    assert russian_date(date(2027, 3, 1)) == "«01»\u00a0марта 2027\u00a0г."
    assert snils("11223344595") == "112-233-445 95"
    assert [count_bytes(n) for n in (1, 2, 12, 22, 64, 65, 128)] == [
        "1 байт", "2 байта", "12 байт", "22 байта", "64 байта", "65 байт", "128 байт",
    ]  # fmt: skip


def test_hex_groups_are_four_bytes_and_eight_a_line() -> None:
    lines = hex_groups(bytes(range(64)))
    assert lines == [
        "00010203 04050607 08090A0B 0C0D0E0F 10111213 14151617 18191A1B 1C1D1E1F",
        "20212223 24252627 28292A2B 2C2D2E2F 30313233 34353637 38393A3B 3C3D3E3F",
    ]
    assert hex_groups(bytes(range(65)))[-1] == "40"
    assert "".join(hex_groups(KEY_256)).replace(" ", "") == KEY_256.hex().upper()
    assert len(hex_groups(bytes(128))) == 4


def test_organization_head_is_a_person() -> None:
    with pytest.raises(InvalidDocumentInput):
        OrganizationDetails(
            name="ООО «Ромашка»",
            inn="5001122339",
            ogrn="1025001122332",
            address="г. Балашиха",
            head=PersonName("", "Пётр"),
            head_position="Директор",
        )
    assert isinstance(SIGNER, SignerDetails)
