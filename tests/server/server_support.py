"""A running bank server over real HTTP, on SQLite and on PostgreSQL, with demo data.

The demo (CA on a software token, organization, signers, staff) is built once per xdist worker and
database kind — its token KDFs are deliberately slow — and copied per test: the SQLite var/ folder
by file copy, PostgreSQL by ``CREATE DATABASE … TEMPLATE``. uvicorn runs in a thread of the test
process with a settable clock, so tests can move time (TOTP steps, renewal windows).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyotp
import pytest
import uvicorn

from bankkeys.server import bootstrap
from bankkeys.server.app import create_app
from bankkeys.server.config import Settings, load_settings
from bankkeys.server.context import ServerContext, build_context
from conftest import missing

PG_ADMIN_URL = os.environ.get(
    "BANKKEYS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def pg_database_url(name: str) -> str:
    return f"{_pg_conninfo(PG_ADMIN_URL).rsplit('/', 1)[0]}/{name}"


def drop_pg_database(name: str) -> None:
    with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


DB_KINDS = ["sqlite", "postgresql"]
PASSWORD = bootstrap.DEMO_PASSWORD
STAFF_LOGINS = ("operator", "operator2", "officer", "admin")


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_settings(var_dir: Path, database_url: str, **changes: Any) -> Settings:
    settings = load_settings(
        None,
        {},
        var_dir=var_dir,
        database_url=database_url,
        demo=True,
        argon2_memory_kib=1024,  # cheap hashes in tests; production keeps the default
        argon2_time_cost=1,
        tick_interval=0.3,
    )
    return replace(settings, **changes)


# --- templates: the demo built once per worker ----------------------------------------------------


@dataclass(frozen=True)
class Template:
    kind: str
    var_dir: Path
    database: str  # sqlite path or PostgreSQL database name
    credentials: str

    @property
    def activation_code(self) -> str:
        for line in self.credentials.splitlines():
            if "код активации:" in line:
                return line.split("код активации:")[1].strip()
        raise AssertionError("no activation code in the demo credentials")


def _build_template(kind: str, root: Path) -> Template:
    var_dir = root / "var"
    if kind == "sqlite":
        url = f"sqlite:///{var_dir / 'bankkeys.db'}"
        name = str(var_dir / "bankkeys.db")
    else:
        name = f"bk_srv_tmpl_{uuid.uuid4().hex[:10]}"
        try:
            with psycopg.connect(
                _pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5
            ) as c:
                c.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
        url = pg_database_url(name)
    settings = base_settings(var_dir, url)
    ctx = build_context(settings)
    credentials = bootstrap.prepare(ctx, demo=True)
    ctx.dispose()
    assert credentials is not None
    return Template(kind, var_dir, name, credentials)


# The xdist workers of one run share the templates (the demo's token KDFs are slow): built once
# under a file lock, counted by users; the last user removes them.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
SHARED = Path(tempfile.gettempdir()) / f"bankkeys-server-templates-{_RUN}"


@contextlib.contextmanager
def _locked(kind: str) -> Iterator[Path]:
    SHARED.mkdir(parents=True, exist_ok=True)
    with (SHARED / f"{kind}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield SHARED / f"{kind}.json"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _acquire_template(kind: str) -> Template:
    with _locked(kind) as state_file:
        state = json.loads(state_file.read_text()) if state_file.exists() else None
        if state is None:
            t = _build_template(kind, SHARED / f"{kind}-{uuid.uuid4().hex[:6]}")
            state = {"var_dir": str(t.var_dir), "database": t.database,
                     "credentials": t.credentials, "users": 0}  # fmt: skip
        state["users"] += 1
        state_file.write_text(json.dumps(state))
        return Template(kind, Path(state["var_dir"]), state["database"], state["credentials"])


def _release_template(kind: str) -> None:
    with _locked(kind) as state_file:
        state = json.loads(state_file.read_text())
        state["users"] -= 1
        if state["users"] > 0:
            state_file.write_text(json.dumps(state))
            return
        state_file.unlink()
        if kind == "postgresql":
            drop_pg_database(state["database"])
        shutil.rmtree(Path(state["var_dir"]).parent, ignore_errors=True)


@pytest.fixture(scope="session")
def templates() -> Iterator[dict[str, Template]]:
    used: dict[str, Template] = {}
    yield used
    for kind in used:
        _release_template(kind)


def template_for(kind: str, templates: dict[str, Template], _: object = None) -> Template:
    if kind not in templates:
        templates[kind] = _acquire_template(kind)
    return templates[kind]


# --- a running server --------------------------------------------------------------------------


@dataclass
class RunningServer:
    url: str
    ctx: ServerContext
    clock: Clock
    template: Template
    settings: Settings
    _server: uvicorn.Server
    _thread: threading.Thread
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def totp(self) -> str:
        return pyotp.TOTP(bootstrap.DEMO_TOTP_SEED).at(self.clock())

    def sign_in(self, login: str, password: str = PASSWORD) -> str:
        """Password, then TOTP; each sign-in moves the clock a TOTP step (codes are single use)."""
        self.clock.advance(seconds=31)
        with self.client() as c:
            r = c.post("/api/v1/auth/login", json={"login": login, "password": password})
            assert r.status_code == 200, r.text
            challenge = r.json()["challenge"]
            r = c.post(
                "/api/v1/auth/second-factor", json={"challenge": challenge, "code": self.totp()}
            )
            assert r.status_code == 200, r.text
            token: str = r.json()["access_token"]
        self.tokens[login] = token
        return token

    def as_user(self, login: str) -> httpx.Client:
        token = self.tokens.get(login) or self.sign_in(login)
        return self.client(token)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def start_server(
    template: Template, tmp_path: Path, clock: Clock | None = None, **changes: Any
) -> RunningServer:
    var_dir = tmp_path / "var"
    shutil.copytree(template.var_dir, var_dir)
    if template.kind == "sqlite":
        url = f"sqlite:///{var_dir / 'bankkeys.db'}"
        db_name = None
    else:
        db_name = f"bk_srv_{uuid.uuid4().hex[:12]}"
        # PostgreSQL copies a template only while nobody else is connected to it.
        with (
            _locked("postgresql-copy"),
            psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True, connect_timeout=5) as c,
        ):
            c.execute(f'CREATE DATABASE "{db_name}" TEMPLATE "{template.database}"')
        url = pg_database_url(db_name)
    port = free_port()
    settings = base_settings(
        var_dir,
        url,
        port=port,
        # The CA key stays in the template's container (its path is recorded in the database).
        ca_pin_file=str(template.var_dir / "ca-pin"),
        **changes,
    )
    clock = clock or Clock()
    ctx = build_context(settings, clock=clock)
    bootstrap.prepare(ctx, demo=True)
    app = create_app(settings, clock=clock, context=ctx)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    running = RunningServer(
        f"http://127.0.0.1:{port}", ctx, clock, template, settings, server, thread
    )
    running._db_name = db_name  # type: ignore[attr-defined]
    return running


def stop_server(running: RunningServer) -> None:
    running.stop()
    db_name = getattr(running, "_db_name", None)
    if db_name:
        drop_pg_database(db_name)


@pytest.fixture(params=DB_KINDS)
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


ServerFactory = Callable[..., RunningServer]


@pytest.fixture()
def server_factory(
    db_kind: str,
    templates: dict[str, Template],
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> Iterator[ServerFactory]:
    started: list[RunningServer] = []
    template = template_for(db_kind, templates, tmp_path_factory)

    def make(**changes: Any) -> RunningServer:
        running = start_server(template, tmp_path / f"s{len(started)}", **changes)
        started.append(running)
        return running

    yield make
    for running in started:
        stop_server(running)


@pytest.fixture()
def server(server_factory: ServerFactory) -> RunningServer:
    return server_factory()


def artifacts_dir() -> Path:
    path = Path(os.environ.get("BANKKEYS_TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # screenshots are artifacts, never committed
    return path


# --- the client's side: keys, requests, the console over HTTP ----------------------------------


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def director_token(running: RunningServer) -> Any:
    """The director's software token (copied with the var/ folder), logged in."""
    from bankkeys.tokens import SoftwareContainer

    token = SoftwareContainer(running.settings.var_dir / "demo" / "director-token")
    token.login(bootstrap.DEMO_TOKEN_PIN)
    return token


def new_key_request(fields: dict[str, str]) -> tuple[Any, bytes]:
    """A fresh key pair (software) and its PKCS#10 for the subject ``fields``."""
    from bankkeys.pki.names import Name
    from bankkeys.pki.requests import build_request
    from bankkeys.pki.software import SoftwareSigner

    key = SoftwareSigner.generate(bootstrap.key_spec())
    return key, build_request(Name(**fields), key)


def renewal_submission(running: RunningServer, fields: dict[str, str]) -> tuple[Any, bytes]:
    """The director's renewal: new key, PKCS#10 in CMS signed with the key on the demo token."""
    from bankkeys.pki.certificates import parse_certificate
    from bankkeys.pki.cms import sign_cms

    token = director_token(running)
    (key_info,) = token.key_pairs()
    (cert_info,) = token.certificates()
    new_key, pkcs10 = new_key_request(fields)
    signed = sign_cms(
        pkcs10, token.signer(key_info.id), parse_certificate(cert_info.der), detached=False
    )
    return new_key, signed


class Console:
    """A bank employee in the console, over HTTP with a cookie session (forms and CSRF)."""

    def __init__(self, running: RunningServer, login: str) -> None:
        import re

        self.running = running
        self.http = httpx.Client(base_url=running.url, timeout=30, follow_redirects=False)
        page = self.http.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text
        running.clock.advance(seconds=31)
        r = self.http.post(
            "/console/login",
            data={"login": login, "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
        assert r.status_code == 200, r.text
        challenge = re.search(r'name="challenge" value="([^"]+)"', r.text)
        assert challenge, r.text
        r = self.http.post(
            "/console/second-factor",
            data={
                "challenge": challenge.group(1),
                "code": running.totp(),
                "csrf_token": csrf.group(1),
            },
        )
        assert r.status_code == 303, r.text
        home = self.http.get(r.headers["location"])
        token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert token, home.text
        self.csrf = token.group(1)

    def post(self, path: str, **data: Any) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf, **data})

    def receive_documents(self, request_id: int) -> httpx.Response:
        return self.post(
            f"/console/requests/{request_id}/documents",
            kinds=["acceptance_act", "certificate_application"],
        )

    def approve(self, request_id: int) -> httpx.Response:
        return self.post(f"/console/requests/{request_id}/approve")

    def reject(self, request_id: int, reason: str) -> httpx.Response:
        return self.post(f"/console/requests/{request_id}/reject", reason=reason)

    def close(self) -> None:
        self.http.close()
