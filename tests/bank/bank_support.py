"""Fixtures of the bank tests: a migrated database on SQLite and on PostgreSQL, a clock, a CA,
clients with keys. Imported by the test modules (fixtures by name)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text

from bankkeys.bank.ca import BankCA, init_ca, load_ca
from bankkeys.bank.inspect import PkiRequestInspector
from bankkeys.bank.policy import Policy
from bankkeys.bank.store.db import Database, open_database, upgrade
from bankkeys.bank.store.models import Certificate
from bankkeys.bank.workflow import Actor, DocumentKind, Workflow
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.cms import sign_cms
from bankkeys.pki.names import Name
from bankkeys.pki.requests import build_request
from bankkeys.pki.signer import KeySpec
from bankkeys.pki.software import SoftwareSigner
from conftest import missing

PG_ADMIN_URL = os.environ.get(
    "BANKKEYS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
DB_KINDS = ["sqlite", "postgresql"]


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def pg_database_url(name: str) -> str:
    base = _pg_conninfo(PG_ADMIN_URL).rsplit("/", 1)[0]
    return f"{base}/{name}"


def create_pg_database(prefix: str) -> str:
    """A new, empty PostgreSQL database; returns its name. Fails (CI) or skips if unreachable."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    return name


def drop_pg_database(name: str) -> None:
    with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bank-template") / "template.db"
    db = open_database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_worker_database() -> Iterator[str]:
    """One migrated database per xdist worker; tests empty it before use."""
    name = create_pg_database("bankkeys_t")
    url = pg_database_url(name)
    db = open_database(url)
    upgrade(db)
    db.dispose()
    yield url
    drop_pg_database(name)


def fresh_pg(url: str) -> Database:
    """Empty every table (ours and other parts'), keep the schema, reset the audit head."""
    db = open_database(url, pool_size=8)
    with db.engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT IN ('alembic_version', 'audit_head')"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})
    return db


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """The URL of a migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "bank.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        url: str = request.getfixturevalue("pg_worker_database")
        fresh_pg(url).dispose()
        yield url


@pytest.fixture()
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url, pool_size=8)
    yield database
    database.dispose()


@dataclass
class Clock:
    """A settable clock: the workflow reads it, tests move it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


# --- a bank with a CA, and clients with keys ------------------------------------------------------

ORG = {
    "name": "ООО «Ромашка»",
    "inn": "7707083893",
    "kpp": "770701001",
    "ogrn": "1027700132195",
    "address": "г. Москва, ул. Тверская, д. 1",
}


def key_spec() -> KeySpec:
    """GOST 2012-256 when the GOST core is built, else ECDSA P-256 (same code paths)."""
    if importlib.util.find_spec("bankkeys.gost.gost3410") is not None:
        return KeySpec("gost2012-256", "tc26-256-A")
    return KeySpec("ecdsa-p256", "P-256")


def snils_with_check(nine: str) -> str:
    total = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    control = total % 101 if total > 101 else total
    return nine + f"{0 if control in (100, 101) else control:02d}"


@dataclass
class Client:
    """A signer on file and what the client's workstation holds."""

    signer_id: int
    login: str
    surname: str
    given_name: str
    snils: str
    activation_code: str
    key: SoftwareSigner | None = None
    certificate_der: bytes | None = None

    @property
    def actor(self) -> Actor:
        return Actor.client(self.signer_id, self.login)

    def subject(self, **changes: str) -> Name:
        fields: dict[str, str] = {
            "common_name": ORG["name"],
            "organization": ORG["name"],
            "surname": self.surname,
            "given_name": self.given_name,
            "title": "Генеральный директор",
            "country": "RU",
            "innle": ORG["inn"],
            "ogrn": ORG["ogrn"],
            "snils": self.snils,
            "email": f"{self.login}@example.ru",
        }
        fields.update(changes)
        return Name(**fields)  # type: ignore[arg-type]

    def new_request(self, **subject_changes: str) -> tuple[SoftwareSigner, bytes]:
        """A fresh key pair and its PKCS#10 (proof of possession inside)."""
        key = SoftwareSigner.generate(key_spec())
        return key, build_request(self.subject(**subject_changes), key)

    def signed(self, pkcs10: bytes) -> bytes:
        """The PKCS#10 in CMS SignedData, signed by the current key (renewal)."""
        assert self.key is not None and self.certificate_der is not None
        return sign_cms(pkcs10, self.key, parse_certificate(self.certificate_der), detached=False)


OPERATOR = Actor.operator("operator1")
OPERATOR2 = Actor.operator("operator2")
OFFICER = Actor.security_officer("officer")
ADMIN = Actor.administrator("admin")
SYSTEM = Actor.system()


@dataclass
class Bank:
    db: Database
    clock: Clock
    workflow: Workflow
    ca: BankCA
    org_id: int
    counter: int = 0

    def with_policy(self, **changes: object) -> Bank:
        policy = replace(self.workflow.policy, **changes)  # type: ignore[arg-type]
        self.workflow = replace(self.workflow, policy=policy)
        return self

    def new_client(self, surname: str = "Иванов") -> Client:
        self.counter += 1
        login = f"signer{self.counter}"
        snils = snils_with_check(f"{112233440 + self.counter:09d}")
        reg = self.workflow.register_signer(
            OPERATOR, self.org_id, login=login, surname=surname, given_name="Иван Иванович",
            position="Генеральный директор", snils=snils, email=f"{login}@example.ru",
            phone="+7 495 000-00-00", acting_on="Устава",
        )  # fmt: skip
        return Client(reg.signer_id, login, surname, "Иван Иванович", snils, reg.activation_code)

    def request_id_of(self, client: Client) -> int:
        status = self.workflow.status(client.signer_id)
        assert status.request_id is not None, status
        return status.request_id

    def certificate_of(self, serial: str) -> bytes:
        with self.db.transaction() as s:
            return s.execute(
                select(Certificate.der).where(Certificate.serial == serial)
            ).scalar_one()

    def first_key(self, client: Client) -> str:
        """Initial generation through approval and installation; returns the serial."""
        key, pkcs10 = client.new_request()
        rid = self.workflow.submit_request(
            client.actor, client.signer_id, pkcs10, activation_code=client.activation_code
        )
        return self._finish(client, rid, key)

    def renew(self, client: Client) -> str:
        key, pkcs10 = client.new_request()
        rid = self.workflow.submit_request(client.actor, client.signer_id, client.signed(pkcs10))
        return self._finish(client, rid, key)

    def _finish(self, client: Client, rid: int, key: SoftwareSigner) -> str:
        self.workflow.receive_documents(OPERATOR, rid, PAPER)
        outcome = self.workflow.approve(OPERATOR, rid)
        assert outcome.certificate_serial is not None
        self.workflow.confirm_installation(client.actor, rid)
        client.key = key
        client.certificate_der = self.certificate_of(outcome.certificate_serial)
        return outcome.certificate_serial


PAPER = [DocumentKind.ACCEPTANCE_ACT, DocumentKind.CERTIFICATE_APPLICATION]


def make_ca(db: Database, clock: Clock) -> BankCA:
    signer = SoftwareSigner.generate(key_spec())
    subject = Name(common_name="УЦ АО «Тестовый банк»", organization="АО «Тестовый банк»",
                   country="RU", innle="7702070139", ogrn="1027739609391")  # fmt: skip
    init_ca(db, "admin", signer=signer, subject=subject, key_ref={"backend": "memory"},
            now=clock() - timedelta(days=1))  # fmt: skip
    return load_ca(db, signer)


@pytest.fixture()
def bank(db: Database, clock: Clock) -> Bank:
    ca = make_ca(db, clock)
    wf = Workflow(db, Policy(), inspector=PkiRequestInspector(), ca=ca, clock=clock)
    org_id = wf.register_organization(OPERATOR, **ORG)
    return Bank(db, clock, wf, ca, org_id)
