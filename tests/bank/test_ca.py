"""The bank's CA on real tokens (software container, SoftHSM2) and judged by OpenSSL + gost-engine:
the certificates it issues and the CRLs it signs verify outside bankkeys."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from bank_support import (
    ORG,
    Client,
    Clock,
    clock,
    db,
    db_url,
    key_spec,
    pg_worker_database,
    snils_with_check,
    sqlite_template,
)
from sqlalchemy import select

from bankkeys.bank.ca import RevocationReason, create_ca_key, init_ca, load_ca, open_ca
from bankkeys.bank.errors import CaError
from bankkeys.bank.inspect import PkiRequestInspector
from bankkeys.bank.policy import Policy
from bankkeys.bank.store.db import Database
from bankkeys.bank.store.models import Certificate, Crl
from bankkeys.bank.workflow import Actor, DocumentKind, Workflow
from bankkeys.pki.certificates import certificate_to_pem, parse_certificate
from bankkeys.pki.crls import parse_crl
from bankkeys.pki.keys import pem_encode
from bankkeys.pki.names import Name
from bankkeys.pki.signer import KeySpec
from conftest import OpenSSL, missing, openssl, openssl_gost_env

__all__ = [
    "clock", "db", "db_url", "openssl", "openssl_gost_env", "pg_worker_database",
    "sqlite_template",
]  # fmt: skip

CA_PIN, CA_ADMIN_PIN = "Ca-Pin#2026x", "Adm-Pin#2026y"
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
OPERATOR = Actor.operator("operator1")


def issue_one(db: Database, clock: Clock, workflow: Workflow) -> str:
    org = workflow.register_organization(OPERATOR, **ORG)
    reg = workflow.register_signer(OPERATOR, org, login="ivanov", surname="Иванов",
                                   given_name="Иван Иванович", position="Директор",
                                   snils=snils_with_check("112233441"), email="i@example.ru",
                                   phone="1", acting_on="Устава")  # fmt: skip
    client = Client(reg.signer_id, "ivanov", "Иванов", "Иван Иванович",
                    snils_with_check("112233441"), reg.activation_code)  # fmt: skip
    _key, pkcs10 = client.new_request()
    rid = workflow.submit_request(client.actor, client.signer_id, pkcs10,
                                  activation_code=client.activation_code)  # fmt: skip
    workflow.receive_documents(
        OPERATOR, rid, [DocumentKind.ACCEPTANCE_ACT, DocumentKind.CERTIFICATE_APPLICATION]
    )
    serial = workflow.approve(OPERATOR, rid).certificate_serial
    assert serial is not None
    return serial


def judge_with_openssl(
    db: Database, clock: Clock, openssl: OpenSSL, tmp_path: Path, serial: str
) -> None:
    with db.transaction() as s:
        ca_der = s.execute(select(Certificate.der).where(Certificate.is_ca.is_(True))).scalar_one()
        der = s.execute(select(Certificate.der).where(Certificate.serial == serial)).scalar_one()
        crl = s.execute(select(Crl.der).order_by(Crl.number.desc()).limit(1)).scalar_one()
    (tmp_path / "ca.pem").write_text(certificate_to_pem(ca_der))
    (tmp_path / "user.pem").write_text(certificate_to_pem(der))
    (tmp_path / "crl.pem").write_text(pem_encode("X509 CRL", crl))
    at = str(int(clock().timestamp()) + 60)  # the test's clock, not today's
    ok = openssl("verify", "-attime", at, "-CAfile", "ca.pem", "-crl_check", "-CRLfile",
                 "crl.pem", "user.pem", check=False)  # fmt: skip
    return_code, output = ok.returncode, (ok.stdout + ok.stderr).decode()
    revoked = parse_crl(crl).entries
    if any(format(e.serial, "x") == serial for e in revoked):
        assert return_code != 0 and "revoked" in output, output
    else:
        assert return_code == 0, output
    openssl("crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout")


def test_gost_ca_in_a_software_container_judged_by_openssl(
    db: Database, clock: Clock, openssl: OpenSSL, tmp_path: Path
) -> None:
    spec = key_spec()
    if spec.family != "gost2012-256":
        missing("GOST core bankkeys.gost.gost3410 not built")
    signer, ref = create_ca_key(spec=spec, pin=CA_PIN, admin_pin=CA_ADMIN_PIN,
                                container=tmp_path / "CA.000")  # fmt: skip
    init_ca(db, "admin", signer=signer, subject=Name(common_name="УЦ банка", country="RU"),
            key_ref=ref, now=clock())  # fmt: skip
    ca = open_ca(db, CA_PIN)  # the key reopened from the container named in the database
    assert parse_certificate(ca.certificate_der).key_spec == spec
    workflow = Workflow(db, Policy(), inspector=PkiRequestInspector(), ca=ca, clock=clock)
    workflow.publish_crl(Actor.security_officer("officer"))
    serial = issue_one(db, clock, workflow)
    judge_with_openssl(db, clock, openssl, tmp_path, serial)
    workflow.revoke(Actor.security_officer("officer"), serial, RevocationReason.KEY_COMPROMISE)
    judge_with_openssl(db, clock, openssl, tmp_path, serial)
    with pytest.raises(Exception, match=r"PIN|ПИН"):
        open_ca(db, "Wrong-Pin#1")


def test_ca_refuses_a_second_init_and_a_foreign_key(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    spec = KeySpec("ecdsa-p256", "P-256")
    signer, ref = create_ca_key(spec=spec, pin=CA_PIN, admin_pin=CA_ADMIN_PIN,
                                container=tmp_path / "A.000")  # fmt: skip
    init_ca(db, "admin", signer=signer, subject=Name(common_name="УЦ"), key_ref=ref, now=clock())
    with pytest.raises(CaError, match="уже создан"):
        init_ca(db, "admin", signer=signer, subject=Name(common_name="УЦ"), key_ref=ref,
                now=clock())  # fmt: skip
    other, _ = create_ca_key(spec=spec, pin=CA_PIN, admin_pin=CA_ADMIN_PIN,
                             container=tmp_path / "B.000")  # fmt: skip
    with pytest.raises(CaError, match="не соответствует"):
        load_ca(db, other)


def test_ca_key_on_softhsm(
    db: Database, clock: Clock, openssl: OpenSSL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        missing("SoftHSM2 not installed (Debian: softhsm2)")
    tokens = tmp_path / "softhsm-tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bank-ca",
                    "--pin", CA_PIN, "--so-pin", CA_ADMIN_PIN],
                   check=True, capture_output=True)  # fmt: skip
    import pkcs11

    pkcs11.lib(SOFTHSM_MODULE).reinitialize()  # read this test's SOFTHSM2_CONF
    signer, ref = create_ca_key(spec=KeySpec("ecdsa-p256", "P-256"), pin=CA_PIN,
                                admin_pin=CA_ADMIN_PIN, pkcs11_module=SOFTHSM_MODULE)  # fmt: skip
    assert ref["backend"] == "pkcs11" and "key_id" in ref
    init_ca(db, "admin", signer=signer, subject=Name(common_name="УЦ на HSM", country="RU"),
            key_ref=ref, now=clock())  # fmt: skip
    # Same process, same token: PKCS#11 keeps the login, so the signer is used as it is (a
    # second Pkcs11Token.login() here gets CKR_USER_ALREADY_LOGGED_IN from the tokens layer).
    ca = load_ca(db, signer)
    workflow = Workflow(db, Policy(), inspector=PkiRequestInspector(), ca=ca, clock=clock)
    workflow.publish_crl(Actor.security_officer("officer"))
    serial = issue_one(db, clock, workflow)
    judge_with_openssl(db, clock, openssl, tmp_path, serial)
