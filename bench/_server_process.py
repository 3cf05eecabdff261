"""What the HTTP benches share: a scratch site (folder, database, port), the bank server as a
child process, and reading a process tree's CPU and memory from /proc."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_ADMIN = os.environ.get(
    "BANKKEYS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Site:
    work: Path
    env: dict[str, str]  # the server's configuration (BANKKEYS_*), also used to prepare data
    url: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_site(db: str, prefix: str) -> Iterator[Site]:
    """A temporary folder, a fresh database (SQLite under it, or a new PostgreSQL database that
    is dropped afterwards) and a free port, as a server configuration. The folder is removed
    afterwards: each run leaves a database of its own (tens of MB) and its WAL."""
    work = Path(tempfile.mkdtemp(prefix=f"{prefix}-{db}-"))
    port = free_port()
    env = {
        "BANKKEYS_VAR_DIR": str(work / "var"),
        "BANKKEYS_ARGON2_MEMORY_KIB": "1024",
        "BANKKEYS_ARGON2_TIME_COST": "1",
        "BANKKEYS_TICK_INTERVAL": "30",
        "BANKKEYS_LOG_LEVEL": "warning",
        "BANKKEYS_PORT": str(port),
    }
    pg_name = None
    if db == "postgresql":
        import psycopg

        pg_name = f"bankkeys_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{pg_name}"')
        env["BANKKEYS_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
    try:
        yield Site(work, env, f"http://127.0.0.1:{port}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if pg_name:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@contextmanager
def running_server(site: Site, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    """``bankkeys serve`` on the site, ready; stopped with SIGINT (then killed) afterwards."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bankkeys.cli", "serve", "--workers", str(workers)],
        env={**os.environ, **site.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=site.work,
    )
    try:
        wait_ready(site.url, server)
        yield server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


def _process_table() -> dict[int, tuple[int, list[str]]]:
    """pid -> (parent pid, the /proc/PID/stat fields after the command name)."""
    table: dict[int, tuple[int, list[str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), fields)
    return table


def process_tree(pid: int) -> set[int]:
    """A process and its live descendants (a server's workers)."""
    parents = {child: parent for child, (parent, _) in _process_table().items()}
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live descendants, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    table = _process_table()
    return sum(
        (int(table[p][1][11]) + int(table[p][1][12])) / tick
        for p in process_tree(pid)
        if p in table
    )


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and its live descendants, KiB."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def postgres_backend_cpu(database: str) -> dict[int, float]:
    """User + system CPU, in seconds, of each live PostgreSQL backend connected to ``database``
    (a backend's command line names its database), by process id. Compare two readings pid by
    pid: a backend that exits in between takes its CPU with it."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for pid, (_, fields) in _process_table().items():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"postgres: ") and f" {database} ".encode() in cmdline:
            found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found
