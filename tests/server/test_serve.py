"""``bankkeys serve --demo`` as its own process with TLS: first start prints the URLs and demo
credentials; HTTPS answers with HSTS and Secure, HttpOnly, SameSite cookies. And the scheduler's
lease: one process at a time runs the periodic step."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from server_support import ServerFactory, db_kind, free_port, server, server_factory, templates

from bankkeys.server.scheduler import Scheduler

__all__ = ["db_kind", "server", "server_factory", "templates"]


def tls_files(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls.pem", folder / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_demo_over_tls(tmp_path: Path) -> None:
    cert, key = tls_files(tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "BANKKEYS_VAR_DIR": str(tmp_path / "var"),
        "BANKKEYS_ARGON2_MEMORY_KIB": "1024",
        "BANKKEYS_ARGON2_TIME_COST": "1",
        "COLUMNS": "200",
    }
    env.pop("BANKKEYS_DATABASE_URL", None)
    out = tmp_path / "out.txt"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bankkeys.cli", "serve", "--demo", "--port", str(port),
             "--certfile", str(cert), "--keyfile", str(key)],
            env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    try:
        context = ssl.create_default_context(cafile=str(cert))
        url = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, out.read_text()
            try:
                r = httpx.get(f"{url}/readyz", verify=context, timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.3)
        printed = out.read_text()
        assert f"{url}/console/" in printed
        assert "BANKKEYSDEMOTOTPSEEDAAAA" in printed and "код активации" in printed
        assert (tmp_path / "var" / "bankkeys.db").is_file()
        assert (tmp_path / "var" / "ca-pin").stat().st_mode & 0o077 == 0
        r = httpx.get(f"{url}/console/login", verify=context)
        assert "max-age" in r.headers["strict-transport-security"]
        cookie = r.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        r = httpx.get(f"{url}/ca/ca.cer", verify=context)
        assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-cert"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_one_scheduler_at_a_time(server_factory: ServerFactory) -> None:
    # The server's own scheduler ran once at start and sleeps an hour; its lease lapses.
    server = server_factory(tick_interval=3600)
    first, second = Scheduler(server.ctx), Scheduler(server.ctx)
    time.sleep(0.5)
    server.clock.advance(hours=4)
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewing one's own lease
    server.clock.advance(hours=3, seconds=1)
    assert second.acquire()
    assert not first.acquire()
    assert second.run_once() and not first.run_once()
