"""CPU time the host of this virtual machine gave to others ("steal", /proc/stat): on a shared
host it comes and goes by the second, and a rate measured while it is high is the host's
figure, not the code's. The benches print it beside their rates."""

from __future__ import annotations

from pathlib import Path


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, all) ticks of every CPU so far; None where /proc/stat cannot be read."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if first[0] != "cpu" or len(first) < 9:
        return None
    ticks = [int(x) for x in first[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is counted
    # in user already.
    return ticks[7], sum(ticks[:8])


def steal_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of the CPU time between two readings that the host took (0..1)."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


HIGH = 0.05  # from here on a rate says more about the host than about the code


def percent(share: float | None) -> str:
    return "unknown" if share is None else f"{share * 100:.1f}%"


def warning(*shares: float | None) -> str | None:
    """A line for the reader when the host took much of the CPU time during a measurement."""
    if any(share is not None and share >= HIGH for share in shares):
        return (
            "  the host took much CPU time from this machine while it measured (steal): "
            "rates are not comparable to a quiet run's"
        )
    return None
