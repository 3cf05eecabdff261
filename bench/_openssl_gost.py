"""OpenSSL 3 + gost-engine called in-process through ctypes: the benchmark's yardstick.

Bench-only code. Nothing is spawned per operation: libcrypto is loaded once, the ``gost`` engine is
found by id (libcrypto loads ``gost.so`` from its engines directory) and made the default for its
algorithms, which is what ``default_algorithms = ALL`` in an ``openssl.cnf`` does
(tests/conftest.py).
Doing it through the ENGINE API rather than ``OPENSSL_CONF`` matters in-process: Python's own
``_hashlib`` may already have initialised libcrypto with the system configuration.
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_P = ctypes.c_void_p
_INT = ctypes.c_int
_BUF = ctypes.c_char_p
_SIZE = ctypes.c_size_t
_ENGINE_METHOD_ALL = 0xFFFF


class OpenSSLUnavailable(RuntimeError):
    """libcrypto or the GOST engine cannot be used on this machine."""


@dataclass(frozen=True)
class GostKeyType:
    """How OpenSSL names one GOST R 34.10-2012 key type and its parameter set."""

    algorithm: str  # short name of the key algorithm (its NID is looked up)
    paramset: str  # value of gost-engine's "paramset" ctrl
    digest: str  # EVP digest the signature hashes with
    size: int  # bytes per coordinate
    paramset_der: bytes  # DER of the parameter-set OID, to prove the key really uses it


# DER of 1.2.643.7.1.2.1.1.2 (tc26-256-B) and 1.2.643.7.1.2.1.2.1 (tc26-512-A).
TC26_256_B = GostKeyType(
    "gost2012_256", "TCB", "md_gost12_256", 32, bytes.fromhex("06092a8503070102010102")
)
TC26_512_A = GostKeyType(
    "gost2012_512", "A", "md_gost12_512", 64, bytes.fromhex("06092a8503070102010201")
)


class OpenSSLGost:
    """libcrypto with gost-engine loaded; raises OpenSSLUnavailable when either is missing."""

    def __init__(self, libname: str = "libcrypto.so.3") -> None:
        try:
            self._lib = ctypes.CDLL(libname)
        except OSError as exc:
            raise OpenSSLUnavailable(f"cannot load {libname}: {exc}") from exc
        self._bind()
        engine = self._engine_by_id(b"gost")
        if not engine:
            raise OpenSSLUnavailable(
                "gost-engine not found (Debian: libengine-gost-openssl): " + self.last_error()
            )
        if (
            self._engine_init(engine) != 1
            or self._engine_set_default(engine, _ENGINE_METHOD_ALL) != 1
        ):
            raise OpenSSLUnavailable("gost-engine failed to initialise: " + self.last_error())
        self.engine_name: str = self._engine_get_name(engine).decode()
        self.version: str = self._openssl_version(0).decode()

    def _fn(self, name: str, restype: Any, *argtypes: Any) -> Callable[..., Any]:
        try:
            fn = getattr(self._lib, name)
        except AttributeError as exc:
            raise OpenSSLUnavailable(f"libcrypto lacks {name} (OpenSSL 3 needed)") from exc
        fn.restype = restype
        fn.argtypes = list(argtypes)
        return fn  # type: ignore[no-any-return]

    def _bind(self) -> None:
        f = self._fn
        self._openssl_version = f("OpenSSL_version", _BUF, _INT)
        self._err_get_error = f("ERR_get_error", ctypes.c_ulong)
        self._err_string = f("ERR_error_string_n", None, ctypes.c_ulong, _BUF, _SIZE)
        self._err_clear = f("ERR_clear_error", None)
        self._engine_by_id = f("ENGINE_by_id", _P, _BUF)
        self._engine_init = f("ENGINE_init", _INT, _P)
        self._engine_set_default = f("ENGINE_set_default", _INT, _P, ctypes.c_uint)
        self._engine_get_name = f("ENGINE_get_name", _BUF, _P)
        self._sn2nid = f("OBJ_sn2nid", _INT, _BUF)
        self._digest_by_name = f("EVP_get_digestbyname", _P, _BUF)
        self._evp_digest = f(
            "EVP_Digest", _INT, _BUF, _SIZE, _BUF, ctypes.POINTER(ctypes.c_uint), _P, _P
        )
        self._pkey_ctx_new_id = f("EVP_PKEY_CTX_new_id", _P, _INT, _P)
        self._pkey_ctx_free = f("EVP_PKEY_CTX_free", None, _P)
        self._keygen_init = f("EVP_PKEY_keygen_init", _INT, _P)
        self._ctrl_str = f("EVP_PKEY_CTX_ctrl_str", _INT, _P, _BUF, _BUF)
        self._keygen = f("EVP_PKEY_keygen", _INT, _P, ctypes.POINTER(_P))
        self._pkey_free = f("EVP_PKEY_free", None, _P)
        self._i2d_pubkey = f("i2d_PUBKEY", _INT, _P, ctypes.POINTER(ctypes.c_char_p))
        self._d2i_pubkey = f("d2i_PUBKEY", _P, _P, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long)
        self._md_ctx_new = f("EVP_MD_CTX_new", _P)
        self._md_ctx_free = f("EVP_MD_CTX_free", None, _P)
        self.sign_init = f("EVP_DigestSignInit", _INT, _P, _P, _P, _P, _P)
        self.sign_oneshot = f("EVP_DigestSign", _INT, _P, _BUF, ctypes.POINTER(_SIZE), _BUF, _SIZE)
        self.verify_init = f("EVP_DigestVerifyInit", _INT, _P, _P, _P, _P, _P)
        self.verify_oneshot = f("EVP_DigestVerify", _INT, _P, _BUF, _SIZE, _BUF, _SIZE)

    def last_error(self) -> str:
        """Text of the oldest queued OpenSSL error (and clear the queue)."""
        code = self._err_get_error()
        self._err_clear()
        if not code:
            return "no OpenSSL error queued"
        buf = ctypes.create_string_buffer(256)
        self._err_string(code, buf, len(buf))
        return buf.value.decode(errors="replace")

    def digest_method(self, name: str) -> int:
        md = self._digest_by_name(name.encode())
        if not md:
            raise OpenSSLUnavailable(f"OpenSSL has no digest {name} (gost-engine not active?)")
        return int(md)

    def hasher(self, name: str) -> Callable[[bytes], bytes]:
        """One-shot EVP_Digest, bound once so that the hot call is a single FFI hop."""
        md = self.digest_method(name)
        out = ctypes.create_string_buffer(64)
        out_len = ctypes.c_uint()
        evp_digest = self._evp_digest

        def digest(data: bytes) -> bytes:
            if evp_digest(data, len(data), out, ctypes.byref(out_len), md, None) != 1:
                raise RuntimeError("EVP_Digest failed: " + self.last_error())
            return out.raw[: out_len.value]

        return digest

    def generate_key(self, key_type: GostKeyType) -> OpenSSLKey:
        nid = self._sn2nid(key_type.algorithm.encode())
        ctx = self._pkey_ctx_new_id(nid, None) if nid else None
        if not ctx:
            raise OpenSSLUnavailable(f"OpenSSL cannot make {key_type.algorithm} keys")
        try:
            pkey = _P()
            if (
                self._keygen_init(ctx) != 1
                or self._ctrl_str(ctx, b"paramset", key_type.paramset.encode()) <= 0
                or self._keygen(ctx, ctypes.byref(pkey)) != 1
            ):
                raise OpenSSLUnavailable(
                    f"{key_type.algorithm} key generation failed: {self.last_error()}"
                )
        finally:
            self._pkey_ctx_free(ctx)
        key = OpenSSLKey(self, key_type, int(pkey.value or 0))
        if key_type.paramset_der not in key.spki():
            raise OpenSSLUnavailable(
                f"{key_type.algorithm} key came out with another parameter set than asked"
            )
        return key

    def public_key_from_spki(self, key_type: GostKeyType, der: bytes) -> OpenSSLKey:
        src = ctypes.c_char_p(der)
        pkey = self._d2i_pubkey(None, ctypes.byref(src), len(der))
        if not pkey:
            raise ValueError("OpenSSL rejected the public key: " + self.last_error())
        return OpenSSLKey(self, key_type, int(pkey))

    def spki_of(self, pkey: int) -> bytes:
        size = self._i2d_pubkey(pkey, None)
        if size <= 0:
            raise RuntimeError("i2d_PUBKEY failed: " + self.last_error())
        buf = ctypes.create_string_buffer(size)
        cursor = ctypes.c_char_p(ctypes.addressof(buf))
        self._i2d_pubkey(pkey, ctypes.byref(cursor))
        return buf.raw

    def new_md_ctx(self) -> int:
        ctx = self._md_ctx_new()
        if not ctx:
            raise MemoryError("EVP_MD_CTX_new failed")
        return int(ctx)

    def free(self, pkey: int, md_ctx: int) -> None:
        self._md_ctx_free(md_ctx)
        self._pkey_free(pkey)


class OpenSSLKey:
    """An EVP_PKEY (private or public) of one GOST key type, with one-shot sign/verify callables."""

    def __init__(self, ossl: OpenSSLGost, key_type: GostKeyType, pkey: int) -> None:
        self._ossl = ossl
        self.key_type = key_type
        self._pkey = pkey
        self._md = ossl.digest_method(key_type.digest)
        self._md_ctx = ossl.new_md_ctx()
        # Freed with the object; the benchmark makes a handful of keys, but leaks stay wrong.
        weakref.finalize(self, ossl.free, pkey, self._md_ctx)

    def spki(self) -> bytes:
        """SubjectPublicKeyInfo DER: its last 2*size bytes are X||Y little-endian (RFC 9215)."""
        return self._ossl.spki_of(self._pkey)

    def public_xy(self) -> bytes:
        return self.spki()[-2 * self.key_type.size :]

    def signer(self) -> Callable[[bytes], bytes]:
        """EVP_DigestSignInit + EVP_DigestSign over a reused EVP_MD_CTX: hashing included."""
        ossl, md_ctx, md = self._ossl, self._md_ctx, self._md
        init, sign_oneshot = ossl.sign_init, ossl.sign_oneshot
        sig = ctypes.create_string_buffer(2 * self.key_type.size)
        sig_len = _SIZE()
        sig_len_ref = ctypes.byref(sig_len)

        def sign(message: bytes) -> bytes:
            sig_len.value = len(sig)
            if init(md_ctx, None, md, None, self._pkey) != 1 or (
                sign_oneshot(md_ctx, sig, sig_len_ref, message, len(message)) != 1
            ):
                raise RuntimeError("OpenSSL signing failed: " + ossl.last_error())
            return sig.raw[: sig_len.value]

        return sign

    def verifier(self) -> Callable[[bytes, bytes], bool]:
        ossl, md_ctx, md = self._ossl, self._md_ctx, self._md
        init, verify_oneshot = ossl.verify_init, ossl.verify_oneshot

        def verify(message: bytes, signature: bytes) -> bool:
            if init(md_ctx, None, md, None, self._pkey) != 1:
                raise RuntimeError("EVP_DigestVerifyInit failed: " + ossl.last_error())
            ok = bool(verify_oneshot(md_ctx, signature, len(signature), message, len(message)) == 1)
            if not ok:
                ossl.last_error()  # a failed verification queues an error: drop it
            return ok

        return verify
