"""A :class:`~bankkeys.pki.signer.Signer` for a key held in memory (software keys, tests)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bankkeys.pki.algorithms import ECDSA_P256, P256, check_key_spec
from bankkeys.pki.errors import InvalidInput
from bankkeys.pki.keys import (
    decode_private_key,
    encode_private_key,
    encode_public_key_info,
    is_pem,
    pem_decode,
)
from bankkeys.pki.signer import KeySpec


class SoftwareSigner:
    """Signs with a key in process memory: GOST through :mod:`bankkeys.gost.gost3410`, ECDSA
    P-256 through ``cryptography``. :meth:`wipe` zeroises the held GOST scalar."""

    def __init__(self, spec: KeySpec, private: bytes) -> None:
        self._alg = check_key_spec(spec)
        self._spec = spec
        self._ecdsa: ec.EllipticCurvePrivateKey | None = None
        self._gost: bytearray | None = None
        if self._alg is ECDSA_P256:
            if len(private) != 32:
                raise InvalidInput("закрытый ключ ECDSA: ожидалось 32 байта")
            try:
                self._ecdsa = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
            except ValueError:
                raise InvalidInput("закрытый ключ ECDSA вне диапазона [1, n-1]") from None
            public = self._ecdsa.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        else:
            from bankkeys.gost import GostError, gost3410, params

            curve = params.get_curve(spec.curve)
            try:
                public = gost3410.public_key(curve, bytes(private))
            except GostError as exc:
                raise InvalidInput(f"закрытый ключ ГОСТ: {exc}") from None
            self._gost = bytearray(private)
        self._public = public
        self._spki = encode_public_key_info(spec, public)

    @classmethod
    def generate(cls, spec: KeySpec) -> SoftwareSigner:
        """A new random key pair of the given spec (OS CSPRNG)."""
        alg = check_key_spec(spec)
        if alg is ECDSA_P256:
            key = ec.generate_private_key(ec.SECP256R1())
            return cls(spec, key.private_numbers().private_value.to_bytes(32, "big"))
        from bankkeys.gost import gost3410, params

        return cls(spec, gost3410.generate_private_key(params.get_curve(spec.curve)))

    @classmethod
    def from_pkcs8(cls, data: bytes | str) -> SoftwareSigner:
        """Load an unencrypted PKCS#8 key, DER or ``PRIVATE KEY`` PEM (as from openssl genpkey)."""
        der = pem_decode(data, "PRIVATE KEY") if is_pem(data) else data
        if isinstance(der, str):
            raise InvalidInput("ожидался DER или PEM")
        spec, private = decode_private_key(der)
        return cls(spec, private)

    @property
    def key_spec(self) -> KeySpec:
        return self._spec

    @property
    def public_key_info(self) -> bytes:
        return self._spki

    @property
    def public_key(self) -> bytes:
        """Raw public key: GOST X||Y little-endian, ECDSA 04||X||Y."""
        return self._public

    def private_bytes(self) -> bytes:
        """The raw private scalar (GOST little-endian, ECDSA big-endian) — for export only."""
        if self._ecdsa is not None:
            return self._ecdsa.private_numbers().private_value.to_bytes(32, "big")
        if self._gost is None or not any(self._gost):
            raise InvalidInput("ключ уничтожен (wipe)")
        return bytes(self._gost)

    def to_pkcs8(self) -> bytes:
        """Unencrypted PKCS#8 DER in the form gost-engine reads."""
        return encode_private_key(self._spec, self.private_bytes())

    def sign(self, data: bytes) -> bytes:
        if self._ecdsa is not None:
            return self._ecdsa.sign(bytes(data), ec.ECDSA(hashes.SHA256()))
        from bankkeys.gost import gost3410, params

        curve = params.get_curve(self._spec.curve)
        return bytes(gost3410.sign(curve, self.private_bytes(), bytes(data)))

    def wipe(self) -> None:
        """Zeroise the held GOST scalar; the signer is unusable afterwards."""
        if self._gost is not None:
            for i in range(len(self._gost)):
                self._gost[i] = 0
        self._ecdsa = None

    def __repr__(self) -> str:  # never the key
        return f"SoftwareSigner({self._spec.family}, {self._spec.curve})"


__all__ = ["P256", "SoftwareSigner"]
