"""Timing one workload: warm-up, then repetitions, each a rate in the figure's unit per second.

The default clock is this thread's CPU time: the benchmark shares a small machine with other jobs,
and CPU time leaves out the moments another process holds the core, which wall time would charge to
whichever implementation happened to be running. Everything runs in this one thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from _gost_impls import Workload

CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.thread_time, "wall": time.perf_counter}
# Reading the clock costs about a microsecond; batches keep that under ~0.1% of a measurement.
BATCH_SECONDS = 0.001


@dataclass(frozen=True)
class Calibration:
    batch: int  # calls between two clock readings
    seconds_per_call: float


def warm_up(load: Workload, seconds: float, clock: Callable[[], float]) -> Calibration:
    """Run the workload for about ``seconds`` (at least twice) and size the batch from it."""
    calls = 0
    start = clock()
    elapsed = 0.0
    while calls < 2 or elapsed < seconds:
        load.run()
        calls += 1
        elapsed = clock() - start
    per_call = max(elapsed / calls, 1e-9)
    return Calibration(max(1, int(BATCH_SECONDS / per_call)), per_call)


def measure(
    load: Workload, seconds: float, calibration: Calibration, clock: Callable[[], float]
) -> float:
    """Rate (units per second) over batches until ``seconds`` have passed; at least one batch."""
    run, batch = load.run, range(calibration.batch)
    calls = 0
    start = clock()
    deadline = start + seconds
    while True:
        for _ in batch:
            run()
        calls += calibration.batch
        now = clock()
        if now >= deadline:
            break
    return calls * load.work / max(now - start, 1e-9)
