"""Bank speed: re-key requests accepted + approved + issued per second, and one scheduler tick.

Figures, on SQLite (file, WAL) and PostgreSQL (127.0.0.1, a fresh database):

* ``requests/s`` — planned renewals taken through the whole bank side: the CMS-signed PKCS#10 is
  verified and accepted («Принят банком»), the paper documents registered, the request approved
  and the certificate issued by the CA («Получен новый сертификат»). Client-side work (key
  generation, signing the request) is done before the clock starts. Several threads, one
  connection each, as several app servers would.
* ``bank CPU ms/request`` — the CPU time of the bank's processes (or threads) per request, the
  database server's not included: the figure that does not move with the machine's load.
* ``tick over N certificates`` — one ``bankkeys bank tick`` over N certificates whose notAfter are
  spread over the next year (about N/12 enter the renewal window): the first tick queues their
  notices, the second finds nothing new (the idempotent steady state).

Targets (not asserted): 500 requests/s and a tick under 1 s over 100,000 certificates on
PostgreSQL on a 2-core machine.

    .venv/bin/python bench/bank.py
    .venv/bin/python bench/bank.py --requests 2000 --workers 4 --json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import psycopg
from sqlalchemy import func, insert, make_url, select, text

from _steal import cpu_ticks, percent, steal_share, warning
from bankkeys.bank.ca import BankCA, IssuanceOrder, init_ca, load_ca
from bankkeys.bank.inspect import PkiRequestInspector
from bankkeys.bank.policy import Policy
from bankkeys.bank.store.db import Database, open_database, upgrade
from bankkeys.bank.store.models import Certificate, Organization, Signer
from bankkeys.bank.tick import tick
from bankkeys.bank.workflow import Actor, DocumentKind, Workflow, fingerprint
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.cms import sign_cms
from bankkeys.pki.names import Name
from bankkeys.pki.requests import build_request
from bankkeys.pki.signer import KeySpec
from bankkeys.pki.software import SoftwareSigner

# A server on this machine is reached over its Unix socket, as a bank server next to its
# database would be (admin guide): every round trip costs both processes less than over TCP.
PG_SOCKET_DIR: Final = "/var/run/postgresql"
PG_ADMIN = os.environ.get("BANKKEYS_BENCH_POSTGRES_URL") or (
    f"postgresql://postgres@/test?host={PG_SOCKET_DIR}"
    if Path(PG_SOCKET_DIR, ".s.PGSQL.5432").exists()
    else "postgresql://postgres@127.0.0.1:5432/test"
)


def pg_link() -> str:
    url = make_url(PG_ADMIN)
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        return f"Unix socket {socket_dir}"
    return f"TCP {url.host or 'localhost'}:{url.port or 5432}"


NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
INN, OGRN = "7707083893", "1027700132195"
PAPER = [DocumentKind.ACCEPTANCE_ACT, DocumentKind.CERTIFICATE_APPLICATION]


def key_spec() -> KeySpec:
    try:
        import bankkeys.gost.gost3410  # noqa: F401

        return KeySpec("gost2012-256", "tc26-256-A")
    except ImportError:
        return KeySpec("ecdsa-p256", "P-256")


# --- databases -----------------------------------------------------------------------------------


@dataclass
class Target:
    kind: str
    url: str
    cleanup: Any


def make_target(kind: str, tmp: Path) -> Target:
    if kind == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:8]}.db"
        return Target(kind, f"sqlite:///{path}", lambda: None)
    name = f"bankkeys_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    return Target(kind, url, drop)


def fresh_db(target: Target, pool: int) -> Database:
    db = open_database(target.url, pool_size=pool)
    upgrade(db)
    return db


# --- requests per second -------------------------------------------------------------------------


@dataclass
class Prepared:
    signer_id: int
    login: str
    submission: bytes


def subject(i: int) -> Name:
    return Name(
        common_name="ООО «Ромашка»",
        organization="ООО «Ромашка»",
        surname=f"Иванов{i}",
        given_name="Иван Иванович",
        country="RU",
        innle=INN,
        ogrn=OGRN,
        snils="11223344595",
        email=f"s{i}@example.ru",
    )


def prepare(db: Database, ca: BankCA, n: int) -> list[Prepared]:
    """``n`` signers holding a valid certificate, and each one's renewal request ready to send."""
    spec = key_spec()
    with db.transaction() as s:
        org = Organization(
            name="ООО «Ромашка»", inn=INN, ogrn=OGRN, address="Москва", created_at=NOW
        )
        s.add(org)
        s.flush()
        s.execute(
            insert(Signer),
            [
                {
                    "organization_id": org.id,
                    "login": f"s{i}",
                    "surname": f"Иванов{i}",
                    "given_name": "Иван Иванович",
                    "position": "Директор",
                    "snils": "11223344595",
                    "email": f"s{i}@example.ru",
                    "phone": "1",
                    "acting_on": "Устава",
                    "created_at": NOW,
                }
                for i in range(n)
            ],
        )
        ids = {login: sid for login, sid in s.execute(select(Signer.login, Signer.id))}
    certs, prepared = [], []
    for i in range(n):
        old_key, new_key = SoftwareSigner.generate(spec), SoftwareSigner.generate(spec)
        serial = 10**20 + i
        der = ca.issue(
            IssuanceOrder(
                serial,
                subject(i),
                old_key.public_key_info,
                NOW - timedelta(days=340),
                NOW + timedelta(days=25),
            )
        )
        certs.append(
            {
                "serial": format(serial, "x"),
                "signer_id": ids[f"s{i}"],
                "is_ca": False,
                "der": der,
                "not_before": NOW - timedelta(days=340),
                "not_after": NOW + timedelta(days=25),
                "key_fingerprint": fingerprint(old_key.public_key_info),
                "issued_at": NOW - timedelta(days=340),
            }
        )
        pkcs10 = build_request(subject(i), new_key)
        submission = sign_cms(pkcs10, old_key, parse_certificate(der), detached=False)
        prepared.append(Prepared(ids[f"s{i}"], f"s{i}", submission))
    with db.transaction() as s:
        s.execute(insert(Certificate), certs)
    return prepared


def process_slice(db: Database, ca: BankCA, items: list[Prepared]) -> None:
    """The bank's side of each request: accept, register the documents, approve and issue."""
    workflow = Workflow(db, Policy(), inspector=PkiRequestInspector(), ca=ca, clock=lambda: NOW)
    operator = Actor.operator("bench")
    for item in items:
        actor = Actor.client(item.signer_id, item.login)
        rid = workflow.submit_request(actor, item.signer_id, item.submission)
        workflow.receive_documents(operator, rid, PAPER)
        if workflow.approve(operator, rid).certificate_serial is None:
            raise RuntimeError("not issued")


def run_threads(db: Database, ca: BankCA, slices: list[list[Prepared]]) -> list[str]:
    errors: list[str] = []

    def run(items: list[Prepared]) -> None:
        try:
            process_slice(db, ca, items)
        except Exception as exc:
            errors.append(repr(exc))

    pool = [threading.Thread(target=run, args=(sl,)) for sl in slices]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return errors


def _child(url: str, ca: BankCA, items: list[Prepared], db_cpu: Any, measured: Any) -> None:
    # Every connection of this process (the pool's and the one driver units keep) carries its
    # name, so that its PostgreSQL backends, and only they, are measured.
    name = f"bankkeys-bench-{os.getpid()}"
    if url.startswith("postgresql"):
        url = (
            make_url(url)
            .update_query_dict({"application_name": name})
            .render_as_string(hide_password=False)
        )
    db = open_database(url, pool_size=1)
    try:
        with db.driver_transaction() as unit:  # both connections open before the clock
            unit.execute(select(func.now()))
        before = _backends_cpu_seconds(db, name)
        process_slice(db, ca, items)
        after = _backends_cpu_seconds(db, name)
        if before is not None and after is not None:
            spent = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
            with db_cpu.get_lock():
                db_cpu.value += spent
            with measured.get_lock():
                measured.value += 1
    finally:
        db.dispose()


_BACKENDS_NAMED: Final = text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")


def _backends_cpu_seconds(db: Database, name: str) -> dict[int, float] | None:
    """CPU seconds of each PostgreSQL backend serving this process (None on SQLite, or when the
    server is not on this machine); a backend opened during the run counts from its start."""
    if db.dialect != "postgresql":
        return None
    with db.transaction() as s:
        pids = [int(pid) for pid in s.execute(_BACKENDS_NAMED, {"name": name}).scalars()]
    found = {pid: _process_cpu_seconds(pid) for pid in pids}
    if not found or any(cpu is None for cpu in found.values()):
        return None
    return {pid: cpu for pid, cpu in found.items() if cpu is not None}


def _process_cpu_seconds(pid: int | None) -> float | None:
    # A local server's backend is a process of this machine: its CPU time is in /proc.
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # a remote database server
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_processes(
    url: str, ca: BankCA, slices: list[list[Prepared]]
) -> tuple[list[str], float | None]:
    """One forked process per slice, as separate app servers would run; the errors, and the
    CPU seconds their PostgreSQL backends spent (None where it cannot be read)."""
    ctx = multiprocessing.get_context("fork")
    db_cpu, measured = ctx.Value("d", 0.0), ctx.Value("i", 0)
    procs = [ctx.Process(target=_child, args=(url, ca, sl, db_cpu, measured)) for sl in slices]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    errors = [f"worker exit code {p.exitcode}" for p in procs if p.exitcode != 0]
    return errors, (db_cpu.value if measured.value == len(procs) else None)


def requests_per_second(target: Target, n: int, workers: int, mode: str) -> dict[str, Any]:
    db = fresh_db(target, pool=workers + 1)
    try:
        signer = SoftwareSigner.generate(key_spec())
        ca_name = Name(common_name="УЦ банка", organization="АО Банк", country="RU")
        init_ca(
            db,
            "admin",
            signer=signer,
            subject=ca_name,
            key_ref={"backend": "memory"},
            now=NOW - timedelta(days=400),
            validity=timedelta(days=3650),
        )
        ca = load_ca(db, signer)
        work = prepare(db, ca, n)
        slices = [work[k::workers] for k in range(workers)]
        load_before = os.getloadavg()[0]
        ticks = cpu_ticks()
        db_cpu = None
        if mode == "thread":
            cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
            start = time.perf_counter()
            errors = run_threads(db, ca, slices)
            elapsed = time.perf_counter() - start
            cpu = _cpu_seconds(resource.RUSAGE_SELF) - cpu_before
        else:
            db.dispose()  # forked children open their own connections
            cpu_before = _cpu_seconds(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            errors, db_cpu = run_processes(target.url, ca, slices)
            elapsed = time.perf_counter() - start
            cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_before
        steal = steal_share(ticks, cpu_ticks())
        if errors:
            raise RuntimeError("; ".join(errors))
        with db.transaction() as s:
            issued = s.execute(
                select(func.count())
                .select_from(Certificate)
                .where(Certificate.request_id.is_not(None))
            ).scalar_one()
        if issued != n:
            raise RuntimeError(f"{issued} certificates issued for {n} requests")
        return {
            "requests": n,
            "workers": workers,
            "mode": mode,
            "seconds": elapsed,
            "per_second": n / elapsed,
            # The bank processes' own CPU time (not the database server's): on a shared, loaded
            # machine this, unlike requests/s, does not depend on what else is running.
            "cpu_ms_per_request": cpu * 1000 / n,
            # PostgreSQL's backends serving the workers (a local server only): with the bank's,
            # the machine's whole cost of a request, and so the ceiling on these cores.
            "database_cpu_ms_per_request": None if db_cpu is None else db_cpu * 1000 / n,
            "load_average": [load_before, os.getloadavg()[0]],
            "host_steal_share": steal,
            "key": f"{key_spec().family}:{key_spec().curve}",
        }
    finally:
        db.dispose()


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# --- tick ----------------------------------------------------------------------------------------


def tick_over(target: Target, n: int) -> dict[str, Any]:
    db = fresh_db(target, pool=2)
    try:
        with db.transaction() as s:
            org = Organization(name="ООО", inn=INN, ogrn=OGRN, address="М", created_at=NOW)
            s.add(org)
            s.flush()
            org_id = org.id
        chunk = 10_000
        for base in range(0, n, chunk):
            size = min(chunk, n - base)
            with db.transaction() as s:
                s.execute(
                    insert(Signer),
                    [
                        {
                            "organization_id": org_id,
                            "login": f"t{base + i}",
                            "surname": "Т",
                            "given_name": "Т Т",
                            "position": "П",
                            "snils": "11223344595",
                            "email": "t@example.ru",
                            "phone": "1",
                            "acting_on": "Устава",
                            "created_at": NOW,
                        }
                        for i in range(size)
                    ],
                )
                first = s.execute(select(Signer.id).where(Signer.login == f"t{base}")).scalar_one()
                s.execute(
                    insert(Certificate),
                    [
                        {
                            "serial": f"c{base + i:x}",
                            "signer_id": first + i,
                            "is_ca": False,
                            "der": b"\x30\x00",
                            "not_before": NOW - timedelta(days=30),
                            "not_after": NOW + timedelta(minutes=(base + i) * 525_600 // n + 1),
                            "key_fingerprint": f"{base + i:064x}",
                            "issued_at": NOW - timedelta(days=30),
                        }
                        for i in range(size)
                    ],
                )
        with db.engine.begin() as conn:  # committed: statistics, as autovacuum would keep
            conn.exec_driver_sql("ANALYZE")

        policy = Policy()
        start = time.perf_counter()
        first_report = tick(db, NOW, policy)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        second_report = tick(db, NOW, policy)
        second_s = time.perf_counter() - start
        return {
            "certificates": n,
            "first_seconds": first_s,
            "first_notices": first_report.renewal_notices,
            "steady_seconds": second_s,
            "steady_notices": second_report.renewal_notices,
        }
    finally:
        db.dispose()


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Enough that each process's one-off costs (statements compiled and prepared, the first
    # connection) do not show in the rate: with 1000 they were a tenth of it.
    parser.add_argument("--requests", type=int, default=3000)
    # Two bank processes per core: each waits for its commits' WAL flushes and for the database
    # about half the time, and with the audit log's eight chains they no longer wait for each
    # other (docs/en/admin-guide.md, «The bank's throughput»). On the 2-core machine four
    # processes beat two in each of four alternating pairs.
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--mode", choices=("process", "thread"), default="process")
    parser.add_argument("--certificates", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    if args.requests < 1 or args.workers < 1 or args.certificates < 1:
        parser.error("--requests, --workers and --certificates must be positive")
    if not kinds or any(k not in ("sqlite", "postgresql") for k in kinds):
        parser.error("--db: sqlite and/or postgresql")
    report: dict[str, Any] = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "logical_cpus": os.cpu_count(),
        },
        "versions": {"python": platform.python_version()},
        "postgresql_link": pg_link() if "postgresql" in kinds else None,
        "results": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            target = make_target(kind, Path(tmp))
            try:
                rps = requests_per_second(target, args.requests, args.workers, args.mode)
            finally:
                target.cleanup()
            target = make_target(kind, Path(tmp))
            try:
                ticked = tick_over(target, args.certificates)
            finally:
                target.cleanup()
            report["results"][kind] = {"requests": rps, "tick": ticked}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"machine: {report['machine']['cpu']}, {report['machine']['logical_cpus']} CPUs; "
        f"python {report['versions']['python']}"
    )
    for kind, res in report["results"].items():
        r, t = res["requests"], res["tick"]
        units = "processes" if r["mode"] == "process" else "threads"
        print(
            f"{kind:>10}: {r['per_second']:8.1f} requests/s accepted+approved+issued "
            f"({r['requests']} in {r['seconds']:.2f} s, {r['workers']} {units}, {r['key']})"
        )
        if kind == "postgresql":
            print(f"{'':>10}  connected over {report['postgresql_link']}")
        print(
            f"{'':>10}  bank CPU {r['cpu_ms_per_request']:.1f} ms/request; load average "
            f"{r['load_average'][0]:.1f} -> {r['load_average'][1]:.1f}; host steal "
            f"{percent(r['host_steal_share'])}"
        )
        if note := warning(r["host_steal_share"]):
            print(f"{'':>10}{note}")
        if r["database_cpu_ms_per_request"] is not None:
            both = r["cpu_ms_per_request"] + r["database_cpu_ms_per_request"]
            cpus = report["machine"]["logical_cpus"] or 1
            print(
                f"{'':>10}  PostgreSQL backends {r['database_cpu_ms_per_request']:.1f} ms/request; "
                f"together {both:.1f} ms: at most {cpus * 1000 / both:.0f} requests/s "
                f"on {cpus} CPUs"
            )
        print(
            f"{'':>10}  tick over {t['certificates']} certificates: "
            f"{t['first_seconds']:.3f} s first ({t['first_notices']} notices), "
            f"{t['steady_seconds']:.3f} s steady ({t['steady_notices']} new)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
