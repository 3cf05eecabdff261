"""GOST speed: bankkeys.gost against OpenSSL 3 + gost-engine and the pure-Python gostcrypto.

Figures: sign/s and verify/s for GOST R 34.10-2012 on tc26-256-B and tc26-512-A over a 1 KiB
message (hashing included), and Streebog-256 MB/s (10^6 bytes) over a 1 MiB buffer. OpenSSL runs
in-process through ctypes; all three run in this one thread on the same inputs. For every figure
each implementation is warmed up, then the implementations take turns in short repetitions
(``--repeat`` of them share ``--seconds``), so a burst of load on the machine falls on all of them
alike; the best repetition is the figure (the median is in --json). Time is this thread's CPU time
unless ``--clock wall``. Before timing, bankkeys and OpenSSL must agree on digests and accept each
other's signatures (reported as cross-checks).

    .venv/bin/python bench/gost.py                 # table, ~2 s per figure and implementation
    .venv/bin/python bench/gost.py --seconds 5 --json
    .venv/bin/python bench/gost.py --only bankkeys,openssl --figures sign_256,verify_256
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass, field
from typing import Any

from _gost_checks import cross_checks
from _gost_impls import (
    BUFFER_SIZE,
    FIGURES,
    GOSTCRYPTO_SLICE,
    IMPLEMENTATIONS,
    MESSAGE_SIZE,
    Figure,
    Implementation,
    Inputs,
    NotBuilt,
    Unavailable,
    Workload,
)
from _gost_timing import CLOCKS, Calibration, measure, warm_up

REFERENCE = "openssl"
DISPLAY = {"bankkeys": "bankkeys", "openssl": "OpenSSL", "gostcrypto": "gostcrypto"}
COMPARED = ("bankkeys", "gostcrypto")


@dataclass
class Result:
    samples: list[float] = field(default_factory=list)
    error: str | None = None
    not_built: str | None = None

    @property
    def valid(self) -> bool:
        return bool(self.samples) and self.error is None and self.not_built is None

    @property
    def best(self) -> float | None:
        return max(self.samples) if self.valid else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.valid else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    impls, unavailable = load_implementations(args.only)
    inputs = Inputs.random()
    load_before = os.getloadavg()
    checks = cross_checks(impls, inputs)
    results = {
        figure.key: run_figure(figure, impls, inputs, args.seconds, args.repeat, args.clock)
        for figure in FIGURES
        if figure.key in args.figures
    }
    report = build_report(args, impls, unavailable, results, checks, (load_before, os.getloadavg()))
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print(render_table(report))
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="measuring time per figure and implementation"
    )
    parser.add_argument("--repeat", type=int, default=20, help="repetitions sharing --seconds")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="thread CPU or wall time"
    )
    parser.add_argument(
        "--only",
        type=lambda s: s.split(","),
        default=list(IMPLEMENTATIONS),
        help="comma-separated subset of " + ",".join(IMPLEMENTATIONS),
    )
    parser.add_argument(
        "--figures",
        type=lambda s: s.split(","),
        default=[f.key for f in FIGURES],
        help="comma-separated subset of " + ",".join(f.key for f in FIGURES),
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.repeat < 1:
        parser.error("--seconds must be positive and --repeat at least 1")
    if unknown := set(args.only) - set(IMPLEMENTATIONS):
        parser.error(f"unknown implementation(s): {', '.join(sorted(unknown))}")
    if unknown := set(args.figures) - {f.key for f in FIGURES}:
        parser.error(f"unknown figure(s): {', '.join(sorted(unknown))}")
    return args


def load_implementations(names: list[str]) -> tuple[dict[str, Implementation], dict[str, str]]:
    impls: dict[str, Implementation] = {}
    unavailable: dict[str, str] = {}
    for name in IMPLEMENTATIONS:
        if name not in names:
            continue
        try:
            impls[name] = IMPLEMENTATIONS[name]()
        except Unavailable as exc:
            unavailable[name] = str(exc)
    return impls, unavailable


def run_figure(
    figure: Figure,
    impls: dict[str, Implementation],
    inputs: Inputs,
    seconds: float,
    repeat: int,
    clock_name: str,
) -> dict[str, Result]:
    clock = CLOCKS[clock_name]
    print(f"measuring {figure.key} ...", file=sys.stderr, flush=True)
    results = {name: Result() for name in impls}
    prepared: dict[str, tuple[Workload, Calibration]] = {}
    for name, impl in impls.items():
        try:
            load = impl.workload(figure, inputs)
            prepared[name] = (load, warm_up(load, min(0.5, seconds / 4), clock))
        except NotBuilt as exc:
            results[name].not_built = str(exc)
        except Exception as exc:  # an implementation that breaks is reported, not fatal
            results[name].error = f"{type(exc).__name__}: {exc}"
    # An implementation slower than a repetition's share of time gets fewer, longer repetitions, so
    # each one still measures for about ``seconds`` in all (gostcrypto takes ~0.5 s a verification).
    share = seconds / repeat
    rounds = {
        name: repeat
        if cal.seconds_per_call <= share
        else max(1, min(repeat, int(seconds / cal.seconds_per_call)))
        for name, (_, cal) in prepared.items()
    }
    for round_no in range(repeat):
        for name, (load, calibration) in prepared.items():
            if results[name].error is not None or round_no >= rounds[name]:
                continue
            try:
                results[name].samples.append(measure(load, share, calibration, clock))
            except Exception as exc:
                results[name].error = f"{type(exc).__name__}: {exc}"
    return results


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
    }


def build_report(
    args: argparse.Namespace,
    impls: dict[str, Implementation],
    unavailable: dict[str, str],
    results: dict[str, dict[str, Result]],
    checks: dict[str, str],
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for figure in FIGURES:
        if figure.key not in results:
            continue
        per_impl = results[figure.key]
        reference = per_impl.get(REFERENCE, Result()).best
        ratios: dict[str, float | None] = {}
        for name in COMPARED:
            best = per_impl.get(name, Result()).best
            ratios[f"{name}/{REFERENCE}"] = best / reference if best and reference else None
        figures[figure.key] = {
            "label": figure.label,
            "unit": figure.unit,
            "results": {
                name: {
                    "best": result.best,
                    "median": result.median,
                    "samples": result.samples,
                    "error": result.error,
                    "not_built": result.not_built,
                }
                for name, result in per_impl.items()
            },
            "ratios": ratios,
        }
    return {
        "machine": machine() | {"loadavg_before": load[0], "loadavg_after": load[1]},
        "versions": {"python": platform.python_version()}
        | {name: impl.version for name, impl in impls.items()},
        "implementations": {
            name: {"available": name in impls, "reason": unavailable.get(name)}
            for name in IMPLEMENTATIONS
            if name in impls or name in unavailable
        },
        "settings": {
            "seconds": args.seconds,
            "repeat": args.repeat,
            "clock": args.clock,
            "statistic": "best of repeats",
            "message_bytes": MESSAGE_SIZE,
            "buffer_bytes": BUFFER_SIZE,
            "gostcrypto_hash_slice_bytes": GOSTCRYPTO_SLICE,
        },
        "checks": checks,
        "figures": figures,
    }


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return (f"{value:.2f}" if value >= 0.1 else f"{value:.2g}") + "x"


def render_table(report: dict[str, Any]) -> str:
    names = list(IMPLEMENTATIONS)
    impl_info = report["implementations"]
    m, s = report["machine"], report["settings"]
    lines = [
        "GOST R 34.10/34.11-2012 speed: bankkeys vs OpenSSL 3 + gost-engine vs gostcrypto",
        f"machine:  {m['cpu']}, {m['logical_cpus']} logical CPUs ({m['usable_cpus']} usable), "
        f"{m['platform']}",
        "load avg: "
        + " -> ".join(
            " ".join(f"{x:.2f}" for x in avg) for avg in (m["loadavg_before"], m["loadavg_after"])
        )
        + " (1/5/15 min, before -> after)",
        "versions: " + "; ".join(f"{k} {v}" for k, v in report["versions"].items()),
        f"method:   {s['message_bytes']} B message (hash included), {s['buffer_bytes'] >> 20} MiB "
        f"buffer; best of {s['repeat']} x {s['seconds'] / s['repeat']:.2g} s per figure after "
        f"warm-up, {s['clock']} clock, one thread, implementations interleaved; MB = 10^6 bytes",
        f"          gostcrypto hashes the buffer in {s['gostcrypto_hash_slice_bytes'] >> 10} KiB "
        "slices (one 1 MiB pass would outlast the measurement)",
    ]
    for name, info in impl_info.items():
        if not info["available"]:
            lines.append(f"{name}: {info['reason']}")
    header = ["figure", *(DISPLAY[n] for n in names)]
    header += [f"{DISPLAY[n]}/{DISPLAY[REFERENCE]}" for n in COMPARED]
    rows = [header]
    for fig in report["figures"].values():
        row = [fig["label"]]
        for name in names:
            res = fig["results"].get(name)
            if res is None:
                reason = impl_info.get(name, {}).get("reason") or ""
                row.append("not built" if reason.startswith("not built") else "n/a")
            elif res["error"]:
                row.append("error")
            elif res["not_built"]:
                row.append("not built")
            else:
                row.append(_rate(res["best"]))
        row += [_ratio(fig["ratios"][f"{n}/{REFERENCE}"]) for n in COMPARED]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines.append("")
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    errors = [
        f"{name} {fig['label']}: {res['error']}"
        for fig in report["figures"].values()
        for name, res in fig["results"].items()
        if res["error"]
    ]
    if errors:
        lines += ["", "errors:", *errors]
    not_built = sorted(
        {
            f"{name}: {res['not_built']}"
            for fig in report["figures"].values()
            for name, res in fig["results"].items()
            if res["not_built"]
        }
    )
    lines += not_built
    if report["checks"]:
        lines += ["", "cross-checks:"] + [f"  {v:>4}  {k}" for k, v in report["checks"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
