"""Run by test_crash.py in a subprocess: approve every ready request, printing each serial after
its transaction committed. The test kills this process with SIGKILL at a random moment."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from bankkeys.bank.ca import load_ca
from bankkeys.bank.store.db import open_database
from bankkeys.bank.store.models import RekeyRequest
from bankkeys.bank.workflow import Actor, Workflow
from bankkeys.pki.software import SoftwareSigner


def main(url: str, key_file: str) -> None:
    db = open_database(url)
    ca = load_ca(db, SoftwareSigner.from_pkcs8(Path(key_file).read_bytes()))
    workflow = Workflow(db, ca=ca)
    with db.transaction() as s:
        ready = (
            s.execute(select(RekeyRequest.id).where(RekeyRequest.state == "documents_received"))
            .scalars()
            .all()
        )
    print("ready", len(ready), flush=True)
    for rid in ready:
        outcome = workflow.approve(Actor.operator("crash-op"), rid)
        print("issued", rid, outcome.certificate_serial, flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
