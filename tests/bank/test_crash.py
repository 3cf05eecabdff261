"""Crash safety of issuance: SIGKILL at random moments leaves no certificate without a record, no
record without a certificate, no serial twice, and every reported issuance durable."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bank_support import (
    OPERATOR,
    PAPER,
    Bank,
    bank,
    clock,
    db,
    db_url,
    pg_worker_database,
    sqlite_template,
)
from sqlalchemy import select

from bankkeys.bank import audit
from bankkeys.bank.store.models import Certificate, RekeyRequest
from bankkeys.pki.certificates import parse_certificate
from bankkeys.pki.software import SoftwareSigner

__all__ = ["bank", "clock", "db", "db_url", "pg_worker_database", "sqlite_template"]

WORKER = Path(__file__).with_name("crash_worker.py")
REQUESTS = 24  # four kills after at most 3 issuances each leave work for every kill


def check_invariants(bank: Bank, reported: set[str]) -> int:
    with bank.db.transaction() as s:
        certs = s.execute(select(Certificate).where(Certificate.is_ca.is_(False))).scalars().all()
        requests = s.execute(select(RekeyRequest)).scalars().all()
        assert audit.verify(s) == []
    serials = [c.serial for c in certs]
    assert len(serials) == len(set(serials))  # no serial twice
    by_request = {c.request_id: c for c in certs}
    for cert in certs:  # every record holds its certificate
        parsed = parse_certificate(cert.der)
        assert format(parsed.serial, "x") == cert.serial
        assert parsed.not_after == cert.not_after
    for req in requests:  # every issued request has its certificate and only issued ones do
        assert (req.state == "issued") == (req.id in by_request), req.state
        assert req.state in ("documents_received", "issued")
    assert reported <= set(serials)  # what the worker reported as done survived the kill
    return len(certs)


def run_worker(
    bank: Bank, db_url: str, key_file: Path, kill: tuple[int, float] | None
) -> tuple[set[str], bool]:
    """Serials the worker reported, and whether it was killed with work left.

    ``kill`` = (n, delay): SIGKILL ``delay`` seconds after the worker reported its n-th
    issuance — a random moment inside the next ones however fast issuance is on this machine
    (a fixed delay from the start let a fast worker finish before any kill landed)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(WORKER.parent), *sys.path]))
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), db_url, str(key_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline().decode().strip()]  # "ready N": about to issue
    assert lines[0].startswith("ready"), proc.stderr.read().decode() if proc.stderr else ""
    if kill is not None:
        after, delay = kill
        while sum(line.startswith("issued") for line in lines) < after:
            line = proc.stdout.readline().decode().strip()
            if not line:
                break
            lines.append(line)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    lines += out.decode().splitlines()
    finished = "done" in lines
    if kill is None:
        assert proc.returncode == 0, err.decode()
    elif finished:  # the kill came after the last issuance (it may still beat the exit)
        assert proc.returncode in (0, -signal.SIGKILL), err.decode()
    else:
        assert proc.returncode == -signal.SIGKILL
    issued = [line.split() for line in lines if line.startswith("issued")]
    assert all(len(fields) == 3 for fields in issued), (lines, err.decode())
    serials = {fields[2] for fields in issued}
    return serials, not finished


@pytest.mark.slow
def test_sigkill_during_issuance_loses_nothing(bank: Bank, db_url: str, tmp_path: Path) -> None:
    ca_signer = bank.ca.signer
    assert isinstance(ca_signer, SoftwareSigner)
    key_file = tmp_path / "ca.p8"
    key_file.write_bytes(ca_signer.to_pkcs8())
    for _ in range(REQUESTS):
        client = bank.new_client()
        _k, pkcs10 = client.new_request()
        rid = bank.workflow.submit_request(client.actor, client.signer_id, pkcs10,
                                           activation_code=client.activation_code)  # fmt: skip
        bank.workflow.receive_documents(OPERATOR, rid, PAPER)

    rng = random.Random(os.getpid())
    reported: set[str] = set()
    issued = 0
    progress: list[int] = []
    interrupted = 0
    for _ in range(4):
        kill = (rng.randrange(0, 4), rng.uniform(0.0, 0.004))
        serials, cut_short = run_worker(bank, db_url, key_file, kill)
        reported |= serials
        interrupted += cut_short
        now_issued = check_invariants(bank, reported)
        assert now_issued >= issued
        progress.append(now_issued - issued)
        issued = now_issued
    reported |= run_worker(bank, db_url, key_file, None)[0]
    assert check_invariants(bank, reported) == REQUESTS
    assert interrupted > 0, f"no kill landed before the end: {progress}"
