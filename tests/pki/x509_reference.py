"""The outside judge of the DER readers: certificates and requests read by asn1crypto.

asn1crypto loads the whole structure strictly and walks it (``.native``); the fields are then
taken from its values, so every field of :class:`Certificate` and :class:`CertificationRequest`
has an independent expected value. Anything asn1crypto refuses raises here.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from asn1crypto import csr, x509

from bankkeys.pki import _asn1  # noqa: F401  (registers the GOST OIDs with asn1crypto)
from bankkeys.pki.certificates import KNOWN_EXTENSIONS, Certificate, IssuerSignTool
from bankkeys.pki.keys import public_key_from_asn1
from bankkeys.pki.names import _BY_OID, Name
from bankkeys.pki.requests import CertificationRequest

# Every field but ``der`` (the input itself): a field added later must be judged too.
CERTIFICATE_FIELDS = [f.name for f in fields(Certificate) if f.name != "der"]
REQUEST_FIELDS = [f.name for f in fields(CertificationRequest) if f.name != "der"]


def certificate(der: bytes) -> dict[str, Any]:
    cert = x509.Certificate.load(der, strict=True)
    _ = cert.native
    tbs = cert["tbs_certificate"]
    sig_oid = _algorithm(cert["signature_algorithm"])
    assert _algorithm(tbs["signature"]) == sig_oid, "signature algorithms differ"
    version = tbs["version"].native
    assert version in ("v1", "v2", "v3"), version
    spec, public = public_key_from_asn1(tbs["subject_public_key_info"])
    validity = tbs["validity"]
    return {
        "version": int(version[1:]),
        "serial": tbs["serial_number"].native,
        "signature_algorithm_oid": sig_oid,
        "issuer": name(tbs["issuer"]),
        "subject": name(tbs["subject"]),
        "not_before": _aware(validity["not_before"].native),
        "not_after": _aware(validity["not_after"].native),
        "key_spec": spec,
        "public_key": public,
        "public_key_info": tbs["subject_public_key_info"].dump(),
        "tbs": tbs.dump(),
        "signature": cert["signature_value"].native,
        "issuer_der": tbs["issuer"].dump(),
        "subject_der": tbs["subject"].dump(),
        **extensions(list(tbs["extensions"] or [])),
    }


def request(der: bytes) -> dict[str, Any]:
    value = csr.CertificationRequest.load(der, strict=True)
    _ = value.native
    info = value["certification_request_info"]
    assert info["version"].native == "v1"
    spec, public = public_key_from_asn1(info["subject_pk_info"])
    requested: list[Any] = []
    for attribute in info["attributes"] or []:
        if attribute["type"].native == "extension_request":
            assert len(attribute["values"]) == 1
            requested.extend(attribute["values"][0])
    ext = extensions(requested)
    assert ext["issuer_sign_tool"] is None
    return {
        "subject": name(info["subject"]),
        "key_spec": spec,
        "public_key": public,
        "public_key_info": info["subject_pk_info"].dump(),
        "signature_algorithm_oid": _algorithm(value["signature_algorithm"]),
        "key_usage": ext["key_usage"],
        "extended_key_usage": ext["extended_key_usage"],
        "subject_sign_tool": ext["subject_sign_tool"],
        "alt_emails": ext["alt_emails"],
        "policies": ext["policies"],
        "requested_extensions": frozenset(item["extn_id"].dotted for item in requested),
        "tbs": info.dump(),
        "signature": value["signature"].native,
    }


def name(value: Any) -> Name:
    found: dict[str, str] = {}
    other: list[tuple[str, str]] = []
    for rdn in value.chosen:
        for atv in rdn:
            oid = atv["type"].dotted
            text = atv["value"].native
            if not isinstance(text, str):
                text = "#" + atv["value"].dump().hex()
            field = _BY_OID.get(oid)
            if field is None or field in found:
                other.append((oid, text))
            else:
                found[field] = text
    return Name(**found, other=tuple(other))


def _algorithm(value: Any) -> str:
    assert value["parameters"].native is None, "unexpected parameters"
    oid: str = value["algorithm"].dotted
    return oid


def _aware(value: Any) -> datetime:
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def extensions(items: list[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    critical: set[str] = set()
    for item in items:
        oid = item["extn_id"].dotted
        assert oid not in values, f"extension {oid} twice"
        values[oid] = item["extn_value"].parsed
        if item["critical"].native:
            critical.add(oid)

    def native(oid: str) -> Any:
        value = values.get(oid)
        return None if value is None else value.native

    basic = native("2.5.29.19")
    usage = native("2.5.29.15")
    eku = values.get("2.5.29.37")
    aki = native("2.5.29.35")
    aia = native("1.3.6.1.5.5.7.1.1") or []
    tool = native("1.2.643.100.112")
    period = native("2.5.29.16")
    points = native("2.5.29.31") or []
    return {
        "is_ca": bool(basic and basic["ca"]),
        "path_length": basic["path_len_constraint"] if basic else None,
        "has_basic_constraints": basic is not None,
        "key_usage": frozenset(usage) if usage is not None else None,
        "extended_key_usage": tuple(p.dotted for p in eku) if eku is not None else None,
        "subject_key_id": native("2.5.29.14"),
        "authority_key_id": aki["key_identifier"] if aki else None,
        "policies": tuple(
            {"any_policy": "2.5.29.32.0"}.get(p["policy_identifier"], p["policy_identifier"])
            for p in native("2.5.29.32") or []
        ),
        "crl_urls": tuple(
            n
            for p in points
            if isinstance(p["distribution_point"], list)
            for n in p["distribution_point"]
            if isinstance(n, str)
        ),
        "ocsp_urls": _access(aia, "ocsp"),
        "ca_issuer_urls": _access(aia, "ca_issuers"),
        "subject_sign_tool": native("1.2.643.100.111"),
        "issuer_sign_tool": IssuerSignTool(**tool) if tool else None,
        "private_key_usage_period": (
            (period["not_before"], period["not_after"]) if period is not None else None
        ),
        "alt_emails": tuple(
            v for v in native("2.5.29.17") or [] if isinstance(v, str) and "@" in v
        ),
        "critical_extensions": frozenset(critical),
        "unknown_critical_extensions": frozenset(critical - KNOWN_EXTENSIONS),
    }


def _access(aia: list[Any], method: str) -> tuple[str, ...]:
    return tuple(
        e["access_location"]
        for e in aia
        if e["access_method"] == method and isinstance(e["access_location"], str)
    )
