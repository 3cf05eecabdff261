"""The bank's certification authority (УЦ): it signs only what the workflow hands it.

Split after step-ca and Boulder: :mod:`bankkeys.bank.workflow` decides *whether* (the registration
authority); the CA here decides nothing about people — it turns an :class:`IssuanceOrder` into a
certificate and a list of revocations into a CRL, through a :class:`~bankkeys.pki.signer.Signer`
(a key in a software container or on a PKCS#11 device).

Crash safety: a certificate is signed in memory and written in the same database transaction as
its record and the request's new state. Killed before the commit, nothing of it exists anywhere;
after, both exist. Serials are 128 random bits under a UNIQUE constraint, so a serial is never
used twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Final, Protocol

from sqlalchemy import select

from bankkeys.bank import audit
from bankkeys.bank.audit import canonical_json
from bankkeys.bank.errors import CaError
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import CaRecord, Certificate
from bankkeys.gost.streebog import streebog256
from bankkeys.pki import crls as pki_crls
from bankkeys.pki.certificates import Certificate as PkiCertificate
from bankkeys.pki.certificates import CertificateTemplate, build_certificate, parse_certificate
from bankkeys.pki.errors import PkiError
from bankkeys.pki.names import Name
from bankkeys.pki.signer import KeySpec, Signer
from bankkeys.tokens import Pkcs11Module, SoftwareContainer, Token
from bankkeys.tokens.setup import replace_factory_pins


class RevocationReason(StrEnum):
    """RFC 5280 CRLReason names (as asn1crypto spells them)."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    CA_COMPROMISE = "ca_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"
    CERTIFICATE_HOLD = "certificate_hold"
    PRIVILEGE_WITHDRAWN = "privilege_withdrawn"


@dataclass(frozen=True)
class IssuanceOrder:
    """Everything the CA puts into one end-entity certificate; decided by the workflow."""

    serial: int
    subject: Name
    public_key_info: bytes
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class RevokedEntry:
    serial: int
    revoked_at: datetime
    reason: RevocationReason


class IssuingAuthority(Protocol):
    """What the workflow needs from a CA."""

    @property
    def certificate_der(self) -> bytes: ...

    @property
    def not_after(self) -> datetime: ...

    def issue(self, order: IssuanceOrder) -> bytes:
        """Sign a certificate for ``order``; DER."""
        ...

    def sign_crl(
        self,
        *,
        number: int,
        this_update: datetime,
        next_update: datetime,
        revoked: Sequence[RevokedEntry],
    ) -> bytes:
        """Sign a CRL; DER."""
        ...


# --- the CA itself -------------------------------------------------------------------------------

EXTENDED_KEY_USAGE: Final = (
    "1.3.6.1.5.5.7.3.2",  # id-kp-clientAuth: logging in to the bank
    "1.3.6.1.5.5.7.3.4",  # id-kp-emailProtection: signing documents (as Russian CAs do)
)


@dataclass
class BankCA:
    """An :class:`IssuingAuthority` over a pki :class:`Signer` and the CA certificate."""

    signer: Signer
    certificate: PkiCertificate
    crl_urls: tuple[str, ...] = ()

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.der

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_after

    def issue(self, order: IssuanceOrder) -> bytes:
        template = CertificateTemplate(
            subject=order.subject,
            not_before=order.not_before,
            not_after=order.not_after,
            serial=order.serial,
            key_usage=frozenset({"digital_signature", "non_repudiation"}),
            extended_key_usage=EXTENDED_KEY_USAGE,
            crl_urls=self.crl_urls,
        )
        try:
            return build_certificate(template, order.public_key_info, self.signer, self.certificate)
        except PkiError as exc:
            raise CaError(f"УЦ не смог выпустить сертификат: {exc}") from exc

    def sign_crl(
        self,
        *,
        number: int,
        this_update: datetime,
        next_update: datetime,
        revoked: Sequence[RevokedEntry],
    ) -> bytes:
        entries = [pki_crls.RevokedEntry(e.serial, e.revoked_at, str(e.reason)) for e in revoked]
        try:
            return pki_crls.build_crl(
                self.signer,
                self.certificate,
                entries,
                this_update=this_update,
                next_update=next_update,
                crl_number=number,
            )
        except PkiError as exc:
            raise CaError(f"УЦ не смог подписать список отзыва: {exc}") from exc


def self_signed_ca_certificate(
    signer: Signer, subject: Name, *, now: datetime, validity: timedelta
) -> bytes:
    """The CA's own certificate (a root: the bank's УЦ for its clients)."""
    template = CertificateTemplate(
        subject=subject,
        not_before=now.replace(microsecond=0),
        not_after=now.replace(microsecond=0) + validity,
        is_ca=True,
        path_length=0,
        key_usage=frozenset({"key_cert_sign", "crl_sign", "digital_signature"}),
    )
    return build_certificate(template, signer.public_key_info, signer)


def init_ca(
    db: Database,
    actor_login: str,
    *,
    signer: Signer,
    subject: Name,
    key_ref: Mapping[str, str],
    now: datetime,
    validity: timedelta = timedelta(days=3653),
) -> int:
    """Create the bank's CA record (certificate and key reference) and its first CRL."""
    der = self_signed_ca_certificate(signer, subject, now=now, validity=validity)
    cert = parse_certificate(der)
    with db.transaction() as session:
        if session.execute(select(CaRecord.id)).first() is not None:
            raise CaError("УЦ банка уже создан")
        record = CaRecord(
            name=str(subject),
            certificate_der=der,
            key_ref=canonical_json(key_ref),
            algorithm=f"{signer.key_spec.family}:{signer.key_spec.curve}",
            created_at=now,
        )
        session.add(record)
        session.flush()
        session.add(
            Certificate(
                serial=format(cert.serial, "x"),
                signer_id=None,
                request_id=None,
                is_ca=True,
                der=der,
                not_before=cert.not_before,
                not_after=cert.not_after,
                key_fingerprint=streebog256(cert.public_key_info).hexdigest(),
                issued_at=now,
            )
        )
        audit.append(
            session,
            at=now,
            actor=actor_login,
            role="administrator",
            action="ca_init",
            certificate_serial=format(cert.serial, "x"),
            details={"subject": str(subject), "algorithm": record.algorithm, "key": dict(key_ref)},
        )
        return record.id


def ca_record(db: Database) -> CaRecord:
    with db.transaction() as session:
        record = session.execute(
            select(CaRecord).order_by(CaRecord.id.desc()).limit(1)
        ).scalar_one_or_none()
        if record is None:
            raise CaError("УЦ банка не создан: выполните «bankkeys ca init»")
        return record


def load_ca(db: Database, signer: Signer, *, crl_urls: tuple[str, ...] = ()) -> BankCA:
    """The CA of this database, signing with ``signer`` (which must hold the CA's key)."""
    record = ca_record(db)
    cert = parse_certificate(record.certificate_der)
    if cert.public_key_info != signer.public_key_info:
        raise CaError("Ключ на носителе не соответствует сертификату УЦ")
    return BankCA(signer, cert, crl_urls)


# --- where the CA key lives ----------------------------------------------------------------------

ENV_CA_PIN = "BANKKEYS_CA_PIN"


def create_ca_key(
    *,
    spec: KeySpec,
    pin: str,
    admin_pin: str,
    container: Path | None = None,
    pkcs11_module: str | None = None,
    token_serial: str | None = None,
    label: str = "bank-ca",
) -> tuple[Signer, dict[str, str]]:
    """Generate the CA key on a token; returns its signer and the reference stored in the DB.

    A software container is created with factory PINs and switched to ``pin``/``admin_pin`` at
    once (a token refuses work with factory PINs); a PKCS#11 token must be initialised already.
    """
    token: Token
    if container is not None:
        new = SoftwareContainer.create(container, label)
        replace_factory_pins(new, new.policy, pin, admin_pin)
        token, ref = new, {"backend": "container", "path": str(Path(container).resolve())}
    else:
        p11 = Pkcs11Module(pkcs11_module)
        token = p11.token(serial=token_serial)
        ref = {"backend": "pkcs11", "module": p11.path, "serial": token.info().serial}
    token.login(pin)
    key = token.generate_key(spec, label)
    ref["key_id"] = key.id.hex()
    return token.signer(key.id), ref


def open_ca_signer(key_ref: Mapping[str, str], pin: str) -> Signer:
    """Log in to the CA's token named by ``key_ref`` and return the CA key's signer."""
    backend = key_ref.get("backend")
    token: Token
    if backend == "container":
        token = SoftwareContainer(Path(key_ref["path"]))
    elif backend == "pkcs11":
        token = Pkcs11Module(key_ref["module"]).token(serial=key_ref["serial"])
    else:
        raise CaError(f"Ключ УЦ не на носителе (тип «{backend}»): подпись из CLI невозможна")
    token.login(pin)
    return token.signer(bytes.fromhex(key_ref["key_id"]))


def open_ca(db: Database, pin: str) -> BankCA:
    """The CA of this database with its key opened from the recorded token."""
    record = ca_record(db)
    return load_ca(db, open_ca_signer(json.loads(record.key_ref), pin))
