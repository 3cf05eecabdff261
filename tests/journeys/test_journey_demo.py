"""``bankkeys demo`` as a newcomer meets it: a process that starts the bank server and the client's
local UI on the embedded defaults, prints where to click, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from journey_support import free_port

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


def _wait_for_guide(proc: subprocess.Popen[str], out: Path, deadline: float) -> str:
    while time.monotonic() < deadline:
        text = out.read_text(encoding="utf-8")
        if "Остановить: Ctrl-C" in text:
            return text
        assert proc.poll() is None, f"demo exited early:\n{text}"
        time.sleep(0.2)
    raise AssertionError(f"no guide printed:\n{out.read_text(encoding='utf-8')}")


def test_demo_starts_both_servers_prints_the_guide_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as fout, err.open("w") as ferr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bankkeys.cli", "demo", "--port", str(port),
             "--ui-port", str(ui_port)],
            cwd=tmp_path, stdout=fout, stderr=ferr, text=True,
            # Block-buffered, as a service's or a pipe's output is: the guide must still show.
            env={**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
                 "COLUMNS": "200"},
        )  # fmt: skip
        try:
            guide = _wait_for_guide(proc, out, time.monotonic() + 120)
            bank = f"http://127.0.0.1:{port}"
            launch = re.search(rf"(http://127\.0\.0\.1:{ui_port}/launch\?key=\S+)", guide)
            assert launch, guide
            assert f"{bank}/console/" in guide
            assert "director" in guide and "accountant" in guide and "код активации" in guide
            assert "Demo-Password-2026" in guide and "BANKKEYSDEMOTOTPSEEDAAAA" in guide
            assert "KEYS.000" in guide  # the empty flash drive for the first key
            with httpx.Client(timeout=10) as http:
                assert http.get(f"{bank}/ca/ca.cer").status_code == 200
                assert http.get(f"{bank}/console/login").status_code == 200
                launched = http.get(launch.group(1))
                assert launched.status_code == 303, launched.text
                home = http.get(f"http://127.0.0.1:{ui_port}/")
                assert home.status_code in (200, 303)
                tokens = http.get(f"http://127.0.0.1:{ui_port}/tokens").text
                assert "Флешка (демо)" in tokens, tokens  # the workstation sees the demo tokens
                if shutil.which("softhsm2-util") and Path(SOFTHSM).exists():
                    assert "SoftHSM2" in guide and "Смарт-ключ демо" in tokens, tokens
            assert (tmp_path / "var" / "bankkeys.db").is_file()  # SQLite under var/
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    stderr = err.read_text(encoding="utf-8")
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert "Демонстрация остановлена" in out.read_text(encoding="utf-8")
    for url in (f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{ui_port}/"):
        try:
            httpx.get(url, timeout=2)
        except httpx.ConnectError:
            continue
        raise AssertionError(f"{url} still answers after Ctrl-C")
    # The database holds sealed TOTP secrets now: without their key file the demo refuses to
    # start, naming the file, and leaves the database as it was (no new key, no traceback).
    key_file = tmp_path / "var" / "totp-key"
    assert key_file.is_file()
    key_file.unlink()
    database = (tmp_path / "var" / "bankkeys.db").read_bytes()
    again = subprocess.run(
        [sys.executable, "-m", "bankkeys.cli", "demo", "--port", str(port),
         "--ui-port", str(ui_port)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert again.returncode == 1, again.stdout + again.stderr
    assert "Traceback" not in again.stderr, again.stderr
    assert "ключ секретов TOTP" in again.stderr and "totp-key" in again.stderr, again.stderr
    assert not key_file.exists()
    assert (tmp_path / "var" / "bankkeys.db").read_bytes() == database
