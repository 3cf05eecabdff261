"""bench/bank.py runs end to end on both databases and reports every figure (no speed asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bank_support import PG_ADMIN_URL

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bank.py"


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True,
                          check=False, timeout=600)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["process", "thread"])
def test_bench_reports_every_figure(mode: str) -> None:
    from bank_support import create_pg_database, drop_pg_database

    drop_pg_database(create_pg_database("bankkeys_probe"))  # PostgreSQL reachable, or skip/fail
    proc = run_bench("--requests", "6", "--certificates", "240", "--workers", "2", "--mode", mode,
                     "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report["results"]) == {"sqlite", "postgresql"}
    # A server on this machine is reached as a bank server next to it would reach it.
    link = report["postgresql_link"]
    if not os.environ.get("BANKKEYS_BENCH_POSTGRES_URL"):
        socket = Path("/var/run/postgresql/.s.PGSQL.5432").exists()
        assert link == ("Unix socket /var/run/postgresql" if socket else "TCP 127.0.0.1:5432")
    for result in report["results"].values():
        req, tick = result["requests"], result["tick"]
        assert req["requests"] == 6 and req["per_second"] > 0 and req["mode"] == mode
        # The bank's own CPU per request is measured (processes: the children's CPU).
        assert req["cpu_ms_per_request"] > 0 and len(req["load_average"]) == 2
        assert tick["certificates"] == 240
        # notAfter spread over a year: those within 30 days are noticed once, then none.
        assert 15 <= tick["first_notices"] <= 25 and tick["steady_notices"] == 0
    # The local PostgreSQL's backends are measured too (worker processes only).
    pg_cpu = report["results"]["postgresql"]["requests"]["database_cpu_ms_per_request"]
    # (A few requests may cost under the kernel's 10 ms tick: zero, but measured.)
    assert (pg_cpu is not None and pg_cpu >= 0) if mode == "process" else pg_cpu is None
    assert report["results"]["sqlite"]["requests"]["database_cpu_ms_per_request"] is None
    assert PG_ADMIN_URL  # the bench used the same server as the tests


@pytest.mark.parametrize("args", [["--requests", "0"], ["--db", "mysql"], ["--workers", "0"]])
def test_bad_options_are_refused(args: list[str]) -> None:
    proc = run_bench(*args)
    assert proc.returncode == 2 and "error:" in proc.stderr and proc.stdout == ""
