"""The signer interface: anything that can sign with one private key.

A key in memory, a key on a PKCS#11 token or in a software container, the CA key on an HSM: each
is a :class:`Signer`, so certificates, CRLs and CMS are built the same way whoever holds the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

KeyFamily = Literal["gost2012-256", "gost2012-512", "ecdsa-p256"]


@dataclass(frozen=True)
class KeySpec:
    """What kind of key pair: the family and, for GOST, the curve's canonical name.

    ``curve`` is a name understood by :func:`bankkeys.gost.params.get_curve` (for example
    ``"tc26-256-B"`` or ``"cryptopro-A"``) for GOST families, and ``"P-256"`` for ECDSA.
    """

    family: KeyFamily
    curve: str


@runtime_checkable
class Signer(Protocol):
    """Signs with one private key that the caller never sees."""

    @property
    def key_spec(self) -> KeySpec:
        """The family and curve of the key."""
        ...

    @property
    def public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo of the key (RFC 9215 form for GOST, RFC 5480 for ECDSA)."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Hash ``data`` with the family's digest and sign it.

        Returns the signature in its wire form: ``s || r`` big-endian for GOST (64 or 128 bytes),
        a DER ``ECDSA-Sig-Value`` for ECDSA.
        """
        ...
