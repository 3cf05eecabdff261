"""bench/gost.py runs end to end and reports every figure. No speed is asserted here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import missing

BENCH = Path(__file__).resolve().parents[2] / "bench" / "gost.py"
FIGURES = {"sign_256", "verify_256", "sign_512", "verify_512", "streebog256"}
IMPLEMENTATIONS = ("bankkeys", "openssl", "gostcrypto")
REPEAT = 2


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    proc = run_bench("--seconds", "0.02", "--repeat", str(REPEAT), "--json")
    assert proc.returncode == 0, proc.stderr
    parsed: dict[str, Any] = json.loads(proc.stdout)
    return parsed


def test_every_available_implementation_has_every_figure(report: dict[str, Any]) -> None:
    impls = report["implementations"]
    assert set(impls) == set(IMPLEMENTATIONS)
    assert set(report["figures"]) == FIGURES
    available = [name for name, info in impls.items() if info["available"]]
    not_built = set()
    for fig in report["figures"].values():
        for name in available:
            result = fig["results"][name]
            if result["not_built"]:
                not_built.add(f"{name} {fig['label']}: {result['not_built']}")
                assert result["samples"] == []
                continue
            assert result["error"] is None, (name, fig["label"], result["error"])
            assert 1 <= len(result["samples"]) <= REPEAT
            assert all(math.isfinite(x) and x > 0 for x in result["samples"])
            assert result["best"] == max(result["samples"])
            assert min(result["samples"]) <= result["median"] <= result["best"]
        reference = fig["results"].get("openssl", {}).get("best")
        for name in ("bankkeys", "gostcrypto"):
            ratio = fig["ratios"][f"{name}/openssl"]
            if name in available and reference and not fig["results"][name]["not_built"]:
                assert ratio == pytest.approx(fig["results"][name]["best"] / reference)
            else:
                assert ratio is None
    for name, info in impls.items():
        if not info["available"]:
            assert info["reason"]
            missing(f"benchmark ran without {name}: {info['reason']}")
    if not_built:
        missing("parts not built: " + "; ".join(sorted(not_built)))


def test_cross_checks_pass(report: dict[str, Any]) -> None:
    failed = {check: result for check, result in report["checks"].items() if result != "ok"}
    assert not failed
    if report["implementations"]["openssl"]["available"]:
        assert report["checks"], "OpenSSL present but nothing was cross-checked"


def test_machine_and_versions_reported(report: dict[str, Any]) -> None:
    assert report["machine"]["cpu"]
    assert report["machine"]["logical_cpus"] >= 1
    assert report["versions"]["python"]
    for name, info in report["implementations"].items():
        if info["available"]:
            assert report["versions"][name]


def test_table_names_every_figure() -> None:
    proc = run_bench("--only", "openssl", "--seconds", "0.01", "--repeat", "1")
    assert proc.returncode == 0, proc.stderr
    if "openssl:" in proc.stdout and "n/a" in proc.stdout:
        missing("OpenSSL gost-engine not available: " + proc.stdout)
    for label in ("sign/s", "verify/s", "tc26-256-B", "tc26-512-A", "Streebog-256 MB/s", "OpenSSL"):
        assert label in proc.stdout
    assert "machine:" in proc.stdout
    assert "versions:" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [["--seconds", "0"], ["--repeat", "0"], ["--only", "nope"], ["--figures", "sign_1024"]],
)
def test_bad_options_are_refused(args: list[str]) -> None:
    proc = run_bench(*args, "--json")
    assert proc.returncode == 2
    assert "error:" in proc.stderr
    assert proc.stdout == ""
