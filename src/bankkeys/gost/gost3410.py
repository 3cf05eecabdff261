"""GOST R 34.10-2012 digital signatures on the native core ``bankkeys.gost._ec``.

Wire forms (see :mod:`bankkeys.gost`): private key ``d`` little-endian, public key ``X || Y``
little-endian, digest read little-endian, signature ``s || r`` big-endian. Key generation, public
key derivation and signing run in constant time in C with the GIL released; verification is
variable time (it only sees public data).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from bankkeys.gost import _ec, streebog
from bankkeys.gost.errors import InvalidLength
from bankkeys.gost.params import Curve, engine_id

if TYPE_CHECKING:
    from typing import Self

    from typing_extensions import Buffer

__all__ = [
    "PrivateKey",
    "PublicKey",
    "check_public_key",
    "digest_and_verify",
    "digest_and_verify_many",
    "digest_to_int",
    "generate_private_key",
    "public_key",
    "sign",
    "sign_digest",
    "verify",
    "verify_digest",
]


def generate_private_key(curve: Curve) -> bytes:
    """A fresh private key: ``curve.size`` bytes little-endian, uniform in [1, q-1] (OS CSPRNG)."""
    return _ec.generate(engine_id(curve))


def public_key(curve: Curve, private: Buffer) -> bytes:
    """The public key ``X || Y`` (little-endian coordinates) of ``private``."""
    return _ec.public_key(engine_id(curve), private)


def sign_digest(curve: Curve, private: Buffer, digest: Buffer) -> bytes:
    """Sign a Streebog digest of ``curve.size`` bytes; returns ``s || r`` big-endian."""
    return _ec.sign(engine_id(curve), private, digest)


def sign(curve: Curve, private: Buffer, message: Buffer) -> bytes:
    """Hash ``message`` with the curve's Streebog and sign the digest."""
    return sign_digest(curve, private, _hash(curve, message))


def verify_digest(
    curve: Curve, public: Buffer, digest: Buffer, signature: Buffer, *, key_checked: bool = False
) -> None:
    """Return if ``signature`` is valid for ``digest``; raise :class:`InvalidSignature` if not
    (and :class:`InvalidPublicKey` / :class:`InvalidLength` for malformed inputs).

    ``key_checked``: the caller validated ``public`` with :func:`check_public_key` before (a
    certificate's key, checked when the certificate was read), so the q-subgroup check — about
    the cost of a verification on the cofactor-4 curves tc26-256-A and tc26-512-C — is skipped;
    the range and on-curve checks still run."""
    _ec.verify(engine_id(curve), public, digest, signature, key_checked)


def verify(curve: Curve, public: Buffer, message: Buffer, signature: Buffer) -> None:
    """Hash ``message`` with the curve's Streebog and verify ``signature`` over the digest."""
    verify_digest(curve, public, _hash(curve, message), signature)


def digest_and_verify(
    curve: Curve,
    public: Buffer,
    message: Buffer,
    signature: Buffer,
    content: Buffer,
    *,
    key_checked: bool = False,
) -> tuple[bytes, bool]:
    """The curve's Streebog of ``content``, and whether ``signature`` verifies over the curve's
    Streebog of ``message`` (as :func:`verify`) — a CMS signer's signed attributes and the
    content whose digest they carry — in one call that holds the GIL for neither. A signature
    that does not verify, for whatever reason (lengths, key, the equation), gives False rather
    than an exception. ``key_checked``: see :func:`verify_digest`."""
    return _ec.digest_and_verify(engine_id(curve), public, message, signature, content, key_checked)


def digest_and_verify_many(
    jobs: Sequence[tuple[Curve, Buffer, Buffer, Buffer, Buffer, bool]],
) -> list[tuple[bytes, bool]]:
    """:func:`digest_and_verify` for each ``(curve, public, message, signature, content,
    key_checked)``, in order, the GIL released once for all: a thread checking a batch takes
    the GIL back once, not after every signature."""
    return _ec.digest_and_verify_many(
        [
            (engine_id(curve), public, message, signature, content, key_checked)
            for curve, public, message, signature, content, key_checked in jobs
        ]
    )


def digest_to_int(curve: Curve, digest: Buffer) -> int:
    """``e`` of the standard: the digest read little-endian, modulo q, and 1 when that is 0."""
    engine_id(curve)
    raw = memoryview(digest).tobytes()
    if len(raw) != curve.size:
        raise InvalidLength(
            f"Неверная длина (хэш-код): ожидается {curve.size} байт, получено {len(raw)}"
        )
    return int.from_bytes(raw, "little") % curve.q or 1


def check_public_key(curve: Curve, public: Buffer) -> None:
    """Raise :class:`InvalidPublicKey` unless ``public`` is a point of the q-order subgroup."""
    _ec.check_public(engine_id(curve), public)


def _sign_digest_with_k(curve: Curve, private: Buffer, digest: Buffer, k: Buffer) -> bytes:
    """Signature with a given nonce ``k`` (little-endian). For the standard's test vectors only:
    a repeated or predictable ``k`` reveals the private key."""
    return _ec.sign_with_k(engine_id(curve), private, digest, k)


def _hash(curve: Curve, message: Buffer) -> bytes:
    engine_id(curve)  # refuse a foreign curve before spending time on the message
    return streebog.new(curve.digest, message).digest()


class PrivateKey:
    """A private key held in memory, zeroised by :meth:`wipe`."""

    __slots__ = ("_curve", "_d")

    def __init__(self, curve: Curve, raw: Buffer) -> None:
        _ec.check_private(engine_id(curve), raw)
        self._curve: Final = curve
        self._d = bytearray(raw)

    @classmethod
    def generate(cls, curve: Curve) -> Self:
        return cls(curve, generate_private_key(curve))

    @classmethod
    def from_bytes(cls, curve: Curve, raw: Buffer) -> Self:
        return cls(curve, raw)

    @property
    def curve(self) -> Curve:
        return self._curve

    def public_key(self) -> PublicKey:
        return PublicKey(self._curve, public_key(self._curve, self._d))

    def sign(self, message: Buffer) -> bytes:
        return sign(self._curve, self._d, message)

    def sign_digest(self, digest: Buffer) -> bytes:
        return sign_digest(self._curve, self._d, digest)

    def to_bytes(self) -> bytes:
        return bytes(self._d)

    def wipe(self) -> None:
        """Overwrite the held scalar; the key is unusable afterwards."""
        for i in range(len(self._d)):
            self._d[i] = 0

    def __repr__(self) -> str:  # never the scalar
        return f"PrivateKey(curve={self._curve.name!r})"


class PublicKey:
    """A validated public key (a point of the curve's q-order subgroup)."""

    __slots__ = ("_curve", "_raw")

    def __init__(self, curve: Curve, raw: Buffer) -> None:
        data = memoryview(raw).tobytes()
        check_public_key(curve, data)
        self._curve: Final = curve
        self._raw: Final = data

    @classmethod
    def from_bytes(cls, curve: Curve, raw: Buffer) -> Self:
        return cls(curve, raw)

    @property
    def curve(self) -> Curve:
        return self._curve

    def to_bytes(self) -> bytes:
        return self._raw

    def verify(self, message: Buffer, signature: Buffer) -> None:
        verify(self._curve, self._raw, message, signature)

    def verify_digest(self, digest: Buffer, signature: Buffer) -> None:
        verify_digest(self._curve, self._raw, digest, signature)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._curve == other._curve and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash((self._curve.name, self._raw))

    def __repr__(self) -> str:
        return f"PublicKey(curve={self._curve.name!r}, x||y={self._raw.hex()})"
