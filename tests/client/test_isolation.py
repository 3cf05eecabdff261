"""The client talks to the bank only over HTTP: it never imports bankkeys.bank or .server."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bankkeys.client

CLIENT = Path(bankkeys.client.__file__).parent
FORBIDDEN = ("bankkeys.bank", "bankkeys.server")


def test_importing_the_client_loads_no_bank_or_server_module() -> None:
    code = (
        "import sys, bankkeys.client.cli, bankkeys.client.web.app, bankkeys.client.web.server\n"
        "bad = sorted(m for m in sys.modules\n"
        "    if m.startswith(('bankkeys.bank', 'bankkeys.server')))\n"
        "print(bad)\n"
        "assert 'bankkeys.client.service' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_no_client_source_imports_bank_or_server() -> None:
    offenders = []
    files = sorted(CLIENT.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
                names = [a.value for a in node.args if isinstance(a, ast.Constant)]  # type: ignore[misc]
            offenders += [f"{path.name}: {n}" for n in names if str(n).startswith(FORBIDDEN)]
    assert offenders == []
