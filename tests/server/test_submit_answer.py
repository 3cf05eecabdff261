"""The server's hot path for a submission, on SQLite and PostgreSQL: the answer built from one
statement equals the full request view; single-statement reads outside transactions leave later
transactions atomic; sessions are read afresh at every request; no connection is opened and
closed per request."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from server_support import (
    RunningServer,
    b64,
    db_kind,
    renewal_submission,
    server,
    server_factory,
    templates,
)
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import DBAPIError

from bankkeys.bank.store.db import open_database
from bankkeys.server import views
from bankkeys.server.store.models import Account, Lease

__all__ = ["db_kind", "server", "server_factory", "templates"]


def _submit(server: RunningServer) -> tuple[int, int, dict[str, Any], dict[str, Any]]:
    """The director's renewal over HTTP: (signer id, request id, the answer, the profile)."""
    with server.as_user("director") as c:
        (profile,) = c.get("/api/v1/profiles").json()
        signer_id = profile["signer_id"]
        fields = c.get(f"/api/v1/profiles/{signer_id}/subject-template").json()["fields"]
        _, submission = renewal_submission(server, fields)
        r = c.post(f"/api/v1/profiles/{signer_id}/requests", json={"request": b64(submission)})
        assert r.status_code == 201, r.text
        assert r.headers["content-type"] == "application/json"
        answer: dict[str, Any] = r.json()
    return signer_id, answer["id"], answer, profile


def test_submission_answer_is_the_full_request_view(server: RunningServer) -> None:
    _, rid, answer, profile = _submit(server)
    with server.as_user("director") as c:
        full = c.get(f"/api/v1/requests/{rid}").json()
    assert answer == full
    assert answer["state"] == "accepted" and answer["status"]["code"] == "ACCEPTED"
    assert answer["status"]["certificate_serial"] == profile["current_certificate"]["serial"]
    assert [d["kind"] for d in answer["documents"]] == ["acceptance_act", "certificate_application"]


def test_accepted_view_gives_way_to_the_full_view(server: RunningServer) -> None:
    signer_id, rid, answer, _ = _submit(server)
    ctx = server.ctx
    with ctx.db.statements() as conn:
        fast = views.accepted_request_view(conn, ctx.workflow, rid, signer_id)
        assert fast is not None and fast.model_dump(mode="json") == answer
        # Another signer's request reads as absent.
        assert views.accepted_request_view(conn, ctx.workflow, rid, signer_id + 1000) is None
    with server.as_user("director") as c:
        printed = c.post(f"/api/v1/requests/{rid}/documents/acceptance_act/printed", json={})
        assert printed.status_code == 200, printed.text
        with ctx.db.statements() as conn:  # a document record: the full view says more
            assert views.accepted_request_view(conn, ctx.workflow, rid, signer_id) is None
        assert printed.json()["documents"][0]["printed_at"] is not None
        assert c.post(f"/api/v1/requests/{rid}/cancel").status_code == 200
    with ctx.db.statements() as conn:  # moved on
        assert views.accepted_request_view(conn, ctx.workflow, rid, signer_id) is None


def test_statement_reads_leave_transactions_atomic(server: RunningServer) -> None:
    # One pooled connection: the statements' unit and the transaction share it.
    db = open_database(server.settings.resolved_database_url, pool_size=1)
    try:
        with db.statements() as conn:
            assert conn.execute(select(func.count()).select_from(Account)).scalar_one() > 0
            if db.dialect == "postgresql":
                assert conn.connection.driver_connection.autocommit  # type: ignore[union-attr]
        with pytest.raises(RuntimeError), db.transaction() as session:
            session.add(Lease(name="atomic-check", holder="t", expires_at=server.clock()))
            session.flush()
            raise RuntimeError("roll back")
        with db.statements() as conn:
            left = conn.execute(select(Lease).where(Lease.name == "atomic-check")).first()
            assert left is None
    finally:
        db.dispose()


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)  # its database-wide write lock
def test_statement_reads_beside_a_sqlite_writer(server: RunningServer) -> None:
    db = server.ctx.db
    assert db.dialect == "sqlite"
    with db.engine.connect() as writer, writer.begin():  # BEGIN IMMEDIATE: the write lock
        done = threading.Event()

        def read() -> None:
            with db.statements() as conn:
                conn.execute(text("SELECT count(*) FROM server_accounts")).scalar_one()
            done.set()

        reader = threading.Thread(target=read)
        reader.start()
        assert done.wait(5), "a statement read waited for the writer"
        reader.join()


def test_sessions_are_read_afresh_at_every_request(server: RunningServer) -> None:
    token = server.sign_in("accountant")
    with server.client(token) as c:
        assert c.get("/api/v1/me").status_code == 200
        server.clock.advance(
            minutes=server.settings.token_ttl_minutes, seconds=1
        )  # the token expired
        assert c.get("/api/v1/me").status_code == 401
        # The submission looks its session up inside its worker thread: refused the same way.
        refused = c.post("/api/v1/profiles/1/requests", json={"request": "AAAA"})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "NotAuthenticated"
    token = server.sign_in("accountant")
    with server.client(token) as c:
        assert c.get("/api/v1/me").status_code == 200
        with server.ctx.db.transaction() as session:
            session.execute(
                update(Account).where(Account.login == "accountant").values(disabled=True)
            )
        assert c.get("/api/v1/me").status_code == 401


def test_no_connection_is_closed_per_request(server: RunningServer) -> None:
    # A pool smaller than the threads that use it opens a connection beyond it for a request and
    # closes it when the request returns it: a new PostgreSQL backend per request.
    token = server.sign_in("director")
    closed = 0

    def count(*_: object) -> None:
        nonlocal closed
        closed += 1

    def one(_: int) -> int:
        with server.client(token) as c:
            return sum(c.get("/api/v1/profiles").status_code for _ in range(5))

    event.listen(server.ctx.db.engine, "close", count)
    try:
        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(one, range(32))) == {1000}
    finally:
        event.remove(server.ctx.db.engine, "close", count)
    assert closed == 0


def test_a_worker_process_freezes_its_start_up_objects(server: RunningServer) -> None:
    from bankkeys.server.cli import _env_of

    env = {
        **os.environ,
        **{f"BANKKEYS_{k.upper()}": v for k, v in _env_of(server.settings).items()},
    }
    probe = (
        "import gc\nfrom bankkeys.server.asgi import create\n"
        "before = gc.get_freeze_count()\ncreate()\nprint(before, gc.get_freeze_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    before, after = int(out[0]), int(out[1])
    # Out of the collector's sight: a full collection no longer walks them.
    assert before == 0 and after > 50_000


def test_reading_units_keep_no_writes(server: RunningServer) -> None:
    # One pooled connection: the reading units and the transaction after them share it.
    db = open_database(server.settings.resolved_database_url, pool_size=1)
    lease = Lease(name="read-only-check", holder="t", expires_at=server.clock())
    try:
        if db.dialect == "postgresql":
            with db.reading() as session:
                assert session.execute(text("SHOW transaction_read_only")).scalar_one() == "on"
            with pytest.raises(DBAPIError, match="read-only transaction"), db.reading() as session:
                session.add(lease)
                session.flush()
        with db.reading() as session:  # queued, not flushed: discarded
            session.add(Lease(name="read-only-check", holder="t", expires_at=server.clock()))
        if db.dialect == "sqlite":
            with db.reading() as session:  # flushed: rolled back
                session.add(lease)
                session.flush()
        with db.statements() as conn:
            found = conn.execute(select(Lease).where(Lease.name == "read-only-check")).first()
            assert found is None
        with db.transaction() as session:  # the connection writes again afterwards
            session.add(Lease(name="read-only-check", holder="t", expires_at=server.clock()))
        with db.statements() as conn:
            assert conn.execute(select(Lease).where(Lease.name == "read-only-check")).first()
    finally:
        db.dispose()
