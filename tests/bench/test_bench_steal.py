"""The benches' reading of the host's steal (bench/_steal.py): counted from /proc/stat as a
share of all CPU time between two readings, with a note when it is high."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from _steal import HIGH, cpu_ticks, percent, steal_share, warning


def test_the_share_is_steal_over_all_ticks_between_readings() -> None:
    assert steal_share((10, 1000), (60, 2000)) == 0.05
    assert steal_share((10, 1000), (10, 1000)) is None  # no time passed
    assert steal_share(None, (10, 1000)) is None
    assert percent(0.123) == "12.3%" and percent(None) == "unknown"


def test_a_note_only_when_some_share_is_high() -> None:
    assert warning(0.0, None, HIGH / 2) is None
    note = warning(0.0, HIGH)
    assert note is not None and "steal" in note


def test_this_machine_is_read() -> None:
    first = cpu_ticks()
    if first is None:  # not Linux: the benches print "unknown"
        assert not Path("/proc/stat").exists()
        return
    sum(i * i for i in range(200_000))  # some CPU time passes
    second = cpu_ticks()
    assert second is not None and second[1] >= first[1] and second[0] >= first[0]
    assert 0 <= first[0] <= first[1]
