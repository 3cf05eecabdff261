"""Shared test fixtures: outside tools (OpenSSL + gost-engine, SoftHSM2, ...), located or refused.

A test that needs a tool asks for its fixture. Without the tool the test skips with the reason,
except under ``CI=true``, where a missing tool is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> NoReturn:
    """Skip for a missing tool, or fail under CI=true."""
    if IN_CI:
        pytest.fail(f"required tool missing under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


OPENSSL_GOST_CONF = """\
openssl_conf = openssl_def
[openssl_def]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
default_algorithms = ALL
"""

OpenSSL = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture(scope="session")
def openssl_gost_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment with OPENSSL_CONF loading gost-engine; checked to really provide GOST."""
    if shutil.which("openssl") is None:
        missing("openssl not installed")
    conf = tmp_path_factory.mktemp("openssl") / "openssl.cnf"
    conf.write_text(OPENSSL_GOST_CONF)
    env = dict(os.environ, OPENSSL_CONF=str(conf))
    probe = subprocess.run(
        ["openssl", "dgst", "-md_gost12_256"], input=b"", env=env, capture_output=True, check=False
    )
    if probe.returncode != 0:
        missing("OpenSSL gost-engine not available (Debian: libengine-gost-openssl)")
    return env


@pytest.fixture()
def openssl(openssl_gost_env: dict[str, str], tmp_path: Path) -> Iterator[OpenSSL]:
    """Run ``openssl ARGS`` with the GOST engine in a temp dir; raises on a non-zero exit
    unless ``check=False`` is passed."""

    def run(
        *args: str, input: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            ["openssl", *args],
            input=input,
            env=openssl_gost_env,
            cwd=tmp_path,
            capture_output=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"openssl {' '.join(args)} failed ({proc.returncode}):\n"
                + proc.stderr.decode(errors="replace")
            )
        return proc

    yield run


def screenshot(page: Any, path: Path | str, *, full_page: bool = False) -> None:
    """Save a Playwright screenshot once the page has settled.

    Chromium refuses a capture while a navigation started by the last click is still committing
    ("Unable to capture screenshot"); wait for the load and try again, a few times at most."""
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(3):
        try:
            page.wait_for_load_state("load")
            page.screenshot(path=str(path), full_page=full_page)
            return
        except PlaywrightError as exc:
            if "Unable to capture screenshot" not in str(exc) or attempt == 2:
                raise
            page.wait_for_timeout(300)


def pdf_words(pdf: bytes | Path) -> str:
    """The text of a PDF as poppler's pdftotext reads it, runs of white space folded to one."""
    if shutil.which("pdftotext") is None:
        missing("pdftotext not installed (Debian: poppler-utils)")
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return " ".join(out.split())
