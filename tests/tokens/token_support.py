"""Fixtures for the token tests (imported by the test modules): a fresh SoftHSM2 token and a
fresh software container, each with the factory PINs, so that one suite runs over both backends."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bankkeys.tokens import KdfParams, SoftwareContainer, Token
from bankkeys.tokens.policy import DEFAULT_ADMIN_PIN, DEFAULT_USER_PIN, RUTOKEN_ECP_3
from conftest import missing

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
USER_PIN = "Rabota-2024!"
ADMIN_PIN = "Admin#Strong9"
# Cheap Argon2id for tests only; the container stores its parameters, production uses the default.
TEST_KDF = KdfParams(time_cost=1, memory_cost_kib=256, parallelism=1)


@dataclass
class Fixture:
    backend: str
    token: Token
    remove: object  # callable that makes the token vanish (pull the flash drive / device)
    counts_tries: bool  # the backend reports exact tries left and blocks the PIN


@pytest.fixture()
def softhsm_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private SoftHSM2 token directory for this test, visible to the already loaded module."""
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        missing("SoftHSM2 not installed (Debian: softhsm2)")
    tokens = tmp_path / "softhsm-tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    yield tokens


def init_softhsm_token(label: str) -> None:
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label,
         "--pin", DEFAULT_USER_PIN, "--so-pin", DEFAULT_ADMIN_PIN],
        check=True, capture_output=True,
    )  # fmt: skip


def load_module() -> object:
    """The PKCS#11 module, re-initialised so that it reads this test's SOFTHSM2_CONF."""
    import pkcs11

    from bankkeys.tokens import Pkcs11Module

    lib = pkcs11.lib(SOFTHSM_MODULE)
    lib.reinitialize()
    return Pkcs11Module(SOFTHSM_MODULE)


@pytest.fixture(params=["softhsm", "container"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fixture]:
    """A token straight from the factory: PINs 12345678 / 87654321."""
    if request.param == "softhsm":
        tokens = request.getfixturevalue("softhsm_env")
        label = f"t-{uuid.uuid4().hex[:8]}"
        init_softhsm_token(label)
        module = load_module()
        token = module.token(label=label, policy=RUTOKEN_ECP_3)  # type: ignore[attr-defined]
        fixture = Fixture("softhsm", token, lambda: shutil.rmtree(tokens), counts_tries=False)
    else:
        folder = tmp_path / "AB12CD.000"
        token = SoftwareContainer.create(folder, "Тестовый контейнер", kdf=TEST_KDF)
        fixture = Fixture("container", token, lambda: shutil.rmtree(folder), counts_tries=True)
    yield fixture
    fixture.token.close()


@pytest.fixture()
def ready(fresh: Fixture) -> Fixture:
    """A token whose factory PINs were replaced (seed 003 steps 7–8), logged in as the user."""
    token = fresh.token
    token.change_user_pin(DEFAULT_USER_PIN, USER_PIN)
    token.change_admin_pin(DEFAULT_ADMIN_PIN, ADMIN_PIN)
    token.login(USER_PIN)
    return fresh


@pytest.fixture()
def no_ci_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CI"}
