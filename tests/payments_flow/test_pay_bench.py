"""bench/payments.py runs end to end: every signed order comes back accepted and every figure is
reported; the untimed warm-up orders are not counted. No speed is asserted here (speed is
printed by the bench itself)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "payments.py"


def test_pay_bench_reports_every_figure() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--orders",
            "40",
            "--batch",
            "15",
            "--concurrency",
            "2",
            "--warm-up",
            "15",
            "--core-seconds",
            "0.2",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(proc.stdout)
    assert figures["verdicts"] == {"accepted": 40}, figures
    assert figures["reasons"] == []
    for name in (
        "verified_per_s",
        "batch_p50_ms",
        "batch_p99_ms",
        "core_verify_per_s_single_core",
        "ratio_per_process",
    ):
        assert math.isfinite(figures[name]) and figures[name] > 0, (name, figures)
    assert figures["batch_p99_ms"] >= figures["batch_p50_ms"]
