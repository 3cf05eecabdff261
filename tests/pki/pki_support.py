"""Shared helpers and fixtures of the PKI tests: key specs, signers, the GOST core if present."""

from __future__ import annotations

import importlib.util

import pytest

from bankkeys.pki.signer import KeySpec
from bankkeys.pki.software import SoftwareSigner
from conftest import missing

ECDSA = KeySpec("ecdsa-p256", "P-256")
GOST_SPECS = [
    KeySpec("gost2012-256", "cryptopro-A"),
    KeySpec("gost2012-256", "tc26-256-A"),
    KeySpec("gost2012-256", "tc26-256-B"),
    KeySpec("gost2012-512", "tc26-512-A"),
    KeySpec("gost2012-512", "tc26-512-C"),
]
ALL_SPECS = [ECDSA, *GOST_SPECS]


def gost_available() -> bool:
    return importlib.util.find_spec("bankkeys.gost.gost3410") is not None


def require_gost(spec: KeySpec) -> None:
    if spec.family != "ecdsa-p256" and not gost_available():
        missing("GOST core bankkeys.gost.gost3410 not available yet")


@pytest.fixture(params=ALL_SPECS, ids=lambda s: f"{s.family}:{s.curve}")
def spec(request: pytest.FixtureRequest) -> KeySpec:
    value: KeySpec = request.param
    require_gost(value)
    return value


@pytest.fixture()
def signer(spec: KeySpec) -> SoftwareSigner:
    return SoftwareSigner.generate(spec)
