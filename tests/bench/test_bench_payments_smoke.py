"""bench/payments.py runs end to end on both databases (a server, a client process) and reports
every figure. No speed is asserted here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import missing

BENCH = Path(__file__).resolve().parents[2] / "bench" / "payments.py"
FIGURES = (
    "verified_per_s",
    "batch_p50_ms",
    "batch_p99_ms",
    "core_verify_per_s_single_core",
    "ratio_per_process",
    "server_cpu_ms_per_document",
    "client_cpu_ms_per_document",
)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_payments_bench_reports_every_figure(db: str) -> None:
    if db == "postgresql":
        import psycopg

        try:
            psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3).close()
        except psycopg.OperationalError as exc:
            missing(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--db", db, "--orders", "30", "--batch", "10",
         "--core-seconds", "0.1", "--json"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["verdicts"] == {"accepted": 30}, report
    for key in FIGURES:
        # CPU is read in clock ticks (10 ms): a tiny run may show none on a fast machine.
        floor = 0 if key.endswith("cpu_ms_per_document") else 1e-9
        assert math.isfinite(report[key]) and report[key] >= floor, (key, report)
    assert report["batch_p50_ms"] <= report["batch_p99_ms"]
    # The host's steal during the posting and the core's two runs: a share of CPU time.
    shares = [report["host_steal_share"], *report["core_host_steal_share"]]
    assert len(shares) == 3
    assert all(s is not None and 0.0 <= s <= 1.0 for s in shares), shares
