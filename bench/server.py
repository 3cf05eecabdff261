"""The bank server under load: re-key requests accepted per second, p50/p99 latency, server RSS.

For each database (SQLite file, PostgreSQL at BANKKEYS_BENCH_POSTGRES_URL or 127.0.0.1:5432) the
bench starts ``bankkeys serve`` as its own process(es) (``--workers`` processes on one port;
the target is PostgreSQL with two: 300 accepted/s, p99 < 100 ms), prepares N signers with a
current certificate, a signed-in API session each and a ready renewal (a new key's PKCS#10 in CMS
signed with the current key), then a second process — the clients — sends all N submissions with
``--concurrency`` connections and reports what the server answered. Setup writes its rows straight
into the store (organization, signers, sessions): only the timed requests go through the server.
Numbers are printed, never asserted.

    .venv/bin/python bench/server.py                    # both databases, 600 requests each
    .venv/bin/python bench/server.py --db postgresql --workers 2 --requests 2000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _server_process import running_server, scratch_site, tree_rss_kib

ROOT = Path(__file__).resolve().parent.parent


def snils(nine: str) -> str:
    total = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    control = total % 101 if total > 101 else total
    return nine + f"{0 if control in (100, 101) else control:02d}"


# --- setup (in this process, straight into the store) ------------------------------------------


def prepare(env: dict[str, str], count: int) -> list[dict[str, Any]]:
    """Demo data and CA through the server's own first start, then ``count`` signers ready to
    renew; returns the client jobs (token, signer id, base64 submission)."""
    from bankkeys.bank.ca import IssuanceOrder
    from bankkeys.bank.store.models import Certificate, Organization, PublicKeySeen, Signer
    from bankkeys.bank.workflow import Role, fingerprint, serial_hex
    from bankkeys.pki.certificates import parse_certificate
    from bankkeys.pki.cms import sign_cms
    from bankkeys.pki.names import Name
    from bankkeys.pki.requests import build_request
    from bankkeys.pki.software import SoftwareSigner
    from bankkeys.server import bootstrap
    from bankkeys.server.config import load_settings
    from bankkeys.server.context import build_context, open_bank_ca
    from bankkeys.server.store.models import Account, SessionRecord

    settings = load_settings(None, env)
    ctx = build_context(settings)
    bootstrap.prepare(ctx, demo=True)
    ca = open_bank_ca(ctx.db, settings)
    assert ca is not None
    now = datetime.now(UTC)
    spec = bootstrap.key_spec()
    password_hash = ctx.auth.hash_password(secrets.token_urlsafe(16))
    jobs: list[dict[str, Any]] = []
    with ctx.db.transaction() as session:
        org = Organization(
            name="ООО «Нагрузка»", inn="7702070139", ogrn="1027739609391",
            address="г. Москва", kpp=None, created_at=now,
        )  # fmt: skip
        session.add(org)
        session.flush()
        for i in range(count):
            sn = snils(f"{500000000 + i:09d}")
            signer = Signer(
                organization_id=org.id, login=f"bench{i}", surname=f"Нагрузкин{i}",
                given_name="Пётр Петрович", position="Директор", snils=sn,
                email=f"bench{i}@example.ru", phone="+7 495 000-00-00", acting_on="Устава",
                created_at=now,
            )  # fmt: skip
            session.add(signer)
            session.flush()
            fields = {
                "common_name": org.name, "organization": org.name, "surname": signer.surname,
                "given_name": signer.given_name, "title": "Директор", "country": "RU",
                "innle": org.inn, "ogrn": org.ogrn, "snils": sn,
            }  # fmt: skip
            old_key = SoftwareSigner.generate(spec)
            serial = secrets.randbits(127) | (1 << 126)
            der = ca.issue(
                IssuanceOrder(serial, Name(**fields), old_key.public_key_info,
                              now - timedelta(days=340), now + timedelta(days=25))
            )  # fmt: skip
            fp = fingerprint(old_key.public_key_info)
            session.add(PublicKeySeen(fingerprint=fp, signer_id=signer.id, first_seen_at=now))
            session.add(
                Certificate(
                    serial=serial_hex(serial), signer_id=signer.id, is_ca=False, der=der,
                    not_before=now - timedelta(days=340), not_after=now + timedelta(days=25),
                    key_fingerprint=fp, issued_at=now,
                )
            )  # fmt: skip
            account = Account(
                login=signer.login, role=str(Role.CLIENT_SIGNER), signer_id=signer.id,
                display_name=signer.surname, password_hash=password_hash,
                totp_secret=bootstrap.DEMO_TOTP_SEED, last_totp_step=0, failed_attempts=0,
                disabled=False, created_at=now, password_changed_at=now,
            )  # fmt: skip
            session.add(account)
            session.flush()
            token = secrets.token_urlsafe(32)
            session.add(
                SessionRecord(
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    account_id=account.id, kind="api", created_at=now,
                    expires_at=now + timedelta(hours=2),
                )
            )  # fmt: skip
            new_key = SoftwareSigner.generate(spec)
            pkcs10 = build_request(Name(**fields), new_key)
            cms = sign_cms(pkcs10, old_key, parse_certificate(der), detached=False)
            jobs.append(
                {"token": token, "signer_id": signer.id,
                 "request": base64.b64encode(cms).decode("ascii")}
            )  # fmt: skip
    ctx.dispose()
    return jobs


# --- the clients (a second process) -------------------------------------------------------------


async def _clients(url: str, jobs: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    import httpx

    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                r = await client.post(
                    f"/api/v1/profiles/{job['signer_id']}/requests",
                    json={"request": job["request"]},
                    headers={"Authorization": f"Bearer {job['token']}"},
                )
                elapsed = time.perf_counter() - start
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code == 201:
                    latencies.append(elapsed)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"wall": wall, "latencies": latencies, "statuses": statuses}


def client_main(jobs_file: str, url: str, concurrency: int, out_file: str) -> None:
    jobs = json.loads(Path(jobs_file).read_text())
    result = asyncio.run(_clients(url, jobs, concurrency))
    Path(out_file).write_text(json.dumps(result))


# --- orchestration --------------------------------------------------------------------------------


def run_one(db: str, workers: int, count: int, concurrency: int) -> dict[str, Any]:
    with scratch_site(db, "bankkeys-bench") as site:
        t0 = time.perf_counter()
        jobs = prepare(site.env, count)
        setup = time.perf_counter() - t0
        jobs_file = site.work / "jobs.json"
        jobs_file.write_text(json.dumps(jobs))
        with running_server(site, workers) as server:
            rss_before = tree_rss_kib(server.pid)
            out = site.work / "result.json"
            subprocess.run(
                [sys.executable, __file__, "--client", str(jobs_file), site.url,
                 str(concurrency), str(out)],
                check=True,
            )  # fmt: skip
            rss_after = tree_rss_kib(server.pid)
        result = json.loads(out.read_text())
    lat = sorted(result["latencies"])
    accepted = len(lat)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    return {
        "db": db,
        "workers": workers,
        "requests": count,
        "concurrency": concurrency,
        "accepted": accepted,
        "statuses": result["statuses"],
        "accepted_per_s": accepted / result["wall"] if result["wall"] else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(lat) * 1000 if lat else float("nan"),
        "server_rss_mib_idle": rss_before / 1024,
        "server_rss_mib_after": rss_after / 1024,
        "setup_s": setup,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=None, help="server processes")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = []
    for db in dbs:
        workers = args.workers or (2 if db == "postgresql" else 1)
        results.append(run_one(db, workers, args.requests, args.concurrency))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"bankkeys server bench — {os.cpu_count()} CPUs; target (PostgreSQL, 2 processes): "
          "300 accepted/s, p99 < 100 ms")  # fmt: skip
    header = f"{'db':<11}{'procs':>6}{'conc':>6}{'accepted':>10}{'acc/s':>9}{'p50 ms':>9}"
    print(header + f"{'p99 ms':>9}{'RSS MiB':>10}  statuses")
    for r in results:
        print(
            f"{r['db']:<11}{r['workers']:>6}{r['concurrency']:>6}"
            f"{r['accepted']:>5}/{r['requests']:<4}{r['accepted_per_s']:>9.1f}"
            f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['server_rss_mib_after']:>10.1f}"
            f"  {r['statuses']}"
        )


if __name__ == "__main__":
    main()
