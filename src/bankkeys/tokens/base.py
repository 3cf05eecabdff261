"""The `Token` protocol: what everything above needs from a place where private keys live.

A token holds key pairs and certificates. A certificate belongs to a key when both carry the same
``id`` (the PKCS#11 ``CKA_ID`` convention), which is how "store this certificate next to its key"
works on every backend. Private keys never leave a token: there is no export, only :meth:`signer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from bankkeys.pki.signer import KeySpec, Signer

Backend = Literal["pkcs11", "software"]


@dataclass(frozen=True)
class PinState:
    """What the token says about its PINs. ``None`` means the device does not tell."""

    user_tries_left: int | None
    admin_tries_left: int | None
    user_pin_default: bool | None
    admin_pin_default: bool | None
    user_blocked: bool
    admin_blocked: bool

    @property
    def must_change(self) -> bool:
        """True while either PIN still has its factory value (work is refused until changed)."""
        return bool(self.user_pin_default) or bool(self.admin_pin_default)


@dataclass(frozen=True)
class TokenInfo:
    backend: Backend
    model: str
    serial: str
    label: str
    manufacturer: str
    pins: PinState


@dataclass(frozen=True)
class KeyInfo:
    """A key pair on a token; ``id`` ties it to its certificate."""

    id: bytes
    label: str
    spec: KeySpec
    public_key_info: bytes  # DER SubjectPublicKeyInfo


@dataclass(frozen=True)
class CertificateInfo:
    id: bytes
    label: str
    der: bytes


@runtime_checkable
class TokenSigner(Signer, Protocol):
    """A :class:`Signer` for a key on a token, also able to sign a ready digest."""

    @property
    def key_id(self) -> bytes: ...

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a digest made by the family's hash (Streebog for GOST, SHA-256 for ECDSA)."""
        ...


@runtime_checkable
class Token(Protocol):
    """One token (device or software container), used through one login session.

    Methods that touch private keys or write need :meth:`login` first, and are refused with
    :class:`~bankkeys.tokens.errors.DefaultPinRefused` while a PIN still has its factory value.
    """

    def info(self) -> TokenInfo: ...

    def login(self, user_pin: str) -> None:
        """Check the user PIN (a wrong one costs a try) and open the session."""
        ...

    def logout(self) -> None: ...

    def key_pairs(self) -> list[KeyInfo]: ...

    def certificates(self) -> list[CertificateInfo]: ...

    def generate_key(self, spec: KeySpec, label: str, key_id: bytes | None = None) -> KeyInfo:
        """Generate a non-exportable key pair on the token."""
        ...

    def signer(self, key_id: bytes) -> TokenSigner: ...

    def import_certificate(
        self, der: bytes, label: str | None = None, key_id: bytes | None = None
    ) -> CertificateInfo:
        """Store a certificate next to its key (found by its public key unless ``key_id`` given)."""
        ...

    def delete(self, object_id: bytes) -> None:
        """Delete the key pair and the certificate carrying ``object_id``."""
        ...

    def change_user_pin(self, old_pin: str, new_pin: str) -> None: ...

    def change_admin_pin(self, old_pin: str, new_pin: str) -> None: ...

    def unblock_user_pin(self, admin_pin: str, new_user_pin: str) -> None:
        """Reset the user PIN (and its retry counter) with the admin (SO) PIN."""
        ...

    def close(self) -> None: ...
