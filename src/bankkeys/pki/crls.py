"""Certificate revocation lists (RFC 5280 section 5): build via the CA Signer, parse, look up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from bankkeys.pki import _asn1
from bankkeys.pki._asn1 import crl as asn1_crl
from bankkeys.pki._asn1 import x509
from bankkeys.pki._common import (
    algorithm_oid,
    aware,
    check_serial,
    key_identifier,
    signature_algorithm,
    utc,
    x509_time,
)
from bankkeys.pki.certificates import Certificate, load_der
from bankkeys.pki.errors import InvalidInput, ParseError
from bankkeys.pki.keys import decode_public_key_info, pem_encode
from bankkeys.pki.names import Name, name_from_asn1
from bankkeys.pki.signer import Signer
from bankkeys.pki.verify import verify_with_key

REASONS: Final = frozenset(
    {
        "unspecified",
        "key_compromise",
        "ca_compromise",
        "affiliation_changed",
        "superseded",
        "cessation_of_operation",
        "certificate_hold",
        "remove_from_crl",
        "privilege_withdrawn",
        "aa_compromise",
    }
)
_KNOWN_CRL_EXTENSIONS: Final = frozenset({"2.5.29.20", "2.5.29.35"})
_KNOWN_ENTRY_EXTENSIONS: Final = frozenset({"2.5.29.21", "2.5.29.24"})


@dataclass(frozen=True)
class RevokedEntry:
    """One revoked certificate; ``reason`` is an RFC 5280 CRLReason name, None if not given."""

    serial: int
    revoked_at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Crl:
    """A parsed CRL; ``der`` is the exact input. The signature is not checked here."""

    der: bytes
    issuer: Name
    this_update: datetime
    next_update: datetime | None
    crl_number: int | None
    authority_key_id: bytes | None
    entries: tuple[RevokedEntry, ...]
    signature_algorithm_oid: str
    unknown_critical_extensions: frozenset[str]
    issuer_der: bytes = field(repr=False)
    tbs: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    def find(self, serial: int) -> RevokedEntry | None:
        """The entry for a serial number, if revoked."""
        for entry in self.entries:
            if entry.serial == serial:
                return entry
        return None

    def to_pem(self) -> str:
        return pem_encode("X509 CRL", self.der)


def build_crl(
    issuer_signer: Signer,
    issuer_certificate: Certificate,
    entries: Iterable[RevokedEntry],
    *,
    this_update: datetime,
    next_update: datetime,
    crl_number: int,
) -> bytes:
    """A v2 CRL signed by the CA, with CRL number, authority key identifier, next update and
    per-entry reason codes; DER."""
    if issuer_certificate.public_key_info != issuer_signer.public_key_info:
        raise InvalidInput("ключ подписи не соответствует сертификату УЦ")
    if issuer_certificate.key_usage is not None and "crl_sign" not in issuer_certificate.key_usage:
        raise InvalidInput("сертификат УЦ не разрешает подпись CRL (cRLSign)")
    this_update, next_update = utc(this_update), utc(next_update)
    if next_update <= this_update:
        raise InvalidInput("nextUpdate должен быть позже thisUpdate")
    if crl_number < 0 or crl_number.bit_length() > 159:
        raise InvalidInput("номер CRL должен быть неотрицательным и не длиннее 20 байт")
    revoked = []
    seen: set[int] = set()
    for entry in entries:
        check_serial(entry.serial)
        if entry.serial in seen:
            raise InvalidInput(f"серийный номер {entry.serial:x} указан дважды")
        seen.add(entry.serial)
        item: dict[str, Any] = {
            "user_certificate": entry.serial,
            "revocation_date": x509_time(entry.revoked_at),
        }
        if entry.reason is not None:
            if entry.reason not in REASONS or entry.reason == "remove_from_crl":
                raise InvalidInput(f"недопустимая причина отзыва: {entry.reason!r}")
            if entry.reason != "unspecified":  # RFC 5280 5.3.1: omit rather than unspecified
                item["crl_entry_extensions"] = [
                    {"extn_id": "crl_reason", "critical": False, "extn_value": entry.reason}
                ]
        revoked.append(item)
    authority_key_id = issuer_certificate.subject_key_id or key_identifier(
        issuer_certificate.public_key_info
    )
    algorithm = signature_algorithm(issuer_signer)
    tbs_fields: dict[str, Any] = {
        "version": "v2",
        "signature": algorithm,
        "issuer": x509.Name.load(issuer_certificate.subject_der),
        "this_update": x509_time(this_update),
        "next_update": x509_time(next_update),
        "crl_extensions": [
            {"extn_id": "crl_number", "critical": False, "extn_value": crl_number},
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": authority_key_id},
            },
        ],
    }
    if revoked:  # RFC 5280: an empty revokedCertificates list is omitted
        tbs_fields["revoked_certificates"] = revoked
    tbs_der = _asn1.dump(asn1_crl.TbsCertList(tbs_fields))
    signed = asn1_crl.CertificateList(
        {
            "tbs_cert_list": asn1_crl.TbsCertList.load(tbs_der),
            "signature_algorithm": algorithm,
            "signature": issuer_signer.sign(tbs_der),
        }
    )
    return _asn1.dump(signed)


def parse_crl(data: bytes | str) -> Crl:
    """Parse a CRL (DER or PEM); any defect is a ParseError."""
    der = load_der(data, "X509 CRL")
    what = "список отозванных сертификатов (CRL)"
    value = _asn1.load(asn1_crl.CertificateList, der, what)
    with _asn1.guarded(what):
        tbs = value["tbs_cert_list"]
        sig_oid = algorithm_oid(value["signature_algorithm"], what)
        if algorithm_oid(tbs["signature"], what) != sig_oid:
            raise ParseError(f"{what}: алгоритм подписи в теле и снаружи различается")
        extensions: dict[str, Any] = {}
        critical: set[str] = set()
        for item in tbs["crl_extensions"]:
            oid = item["extn_id"].dotted
            if oid in extensions:
                raise ParseError(f"{what}: расширение {oid} повторяется")
            extensions[oid] = item["extn_value"].parsed.native
            if item["critical"].native:
                critical.add(oid)
        aki = extensions.get("2.5.29.35")
        entries = tuple(_entry(item, what, critical) for item in tbs["revoked_certificates"])
        next_update = tbs["next_update"].native
        return Crl(
            der=der,
            issuer=name_from_asn1(tbs["issuer"]),
            this_update=aware(tbs["this_update"].native),
            next_update=aware(next_update) if next_update is not None else None,
            crl_number=extensions.get("2.5.29.20"),
            authority_key_id=aki["key_identifier"] if aki else None,
            entries=entries,
            signature_algorithm_oid=sig_oid,
            unknown_critical_extensions=frozenset(
                critical - _KNOWN_CRL_EXTENSIONS - _KNOWN_ENTRY_EXTENSIONS
            ),
            issuer_der=_asn1.dump(tbs["issuer"]),
            tbs=_asn1.dump(tbs),
            signature=value["signature"].native,
        )


def _entry(item: Any, what: str, critical: set[str]) -> RevokedEntry:
    reason = None
    for extension in item["crl_entry_extensions"]:
        if extension["critical"].native:
            critical.add(extension["extn_id"].dotted)
        if extension["extn_id"].dotted == "2.5.29.21":
            reason = extension["extn_value"].parsed.native
    serial = item["user_certificate"].native
    if not isinstance(serial, int):
        raise ParseError(f"{what}: некорректный серийный номер")
    return RevokedEntry(serial, aware(item["revocation_date"].native), reason)


def verify_crl_signature(crl: Crl, issuer_public_key_info: bytes) -> None:
    """Check the CRL's signature with the CA's key; SignatureInvalid if it fails."""
    spec, public = decode_public_key_info(issuer_public_key_info)  # validates the key
    verify_with_key(spec, public, crl.tbs, crl.signature, crl.signature_algorithm_oid,
                    key_checked=True)  # fmt: skip
