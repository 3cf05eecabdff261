"""Before trusting a speed, check the implementations compute the same thing.

Digests must match byte for byte, and each of bankkeys and OpenSSL must accept the other's
signature made with the very keys the benchmark times. A failed check is reported next to the
figures, not hidden: a fast wrong answer is not a result.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from _gost_impls import Bankkeys, Gostcrypto, Implementation, Inputs, OpenSSL

CURVES = ("tc26-256-B", "tc26-512-A")


def cross_checks(impls: dict[str, Implementation], inputs: Inputs) -> dict[str, str]:
    """Each check's description mapped to "ok" or "FAILED: why"; skipped when a side is missing."""
    results: dict[str, str] = {}
    bankkeys, openssl, gostcrypto = (
        impls.get("bankkeys"),
        impls.get("openssl"),
        impls.get("gostcrypto"),
    )
    if not isinstance(openssl, OpenSSL):
        return results
    reference = openssl.ossl.hasher("md_gost12_256")
    if isinstance(bankkeys, Bankkeys) and "streebog" not in bankkeys.missing:
        bk = bankkeys
        results["Streebog-256 of the 1 MiB buffer: bankkeys = OpenSSL"] = _check(
            lambda: _same(bk.streebog256(inputs.buffer), reference(inputs.buffer))
        )
    if isinstance(bankkeys, Bankkeys) and "gost3410" not in bankkeys.missing:
        bk = bankkeys
        for curve in CURVES:
            results[f"{curve}: OpenSSL verifies bankkeys' signature"] = _check(
                partial(_openssl_accepts_bankkeys, bk, openssl, curve, inputs.message)
            )
            results[f"{curve}: bankkeys verifies OpenSSL's signature"] = _check(
                partial(_bankkeys_accepts_openssl, bk, openssl, curve, inputs.message)
            )
    if isinstance(gostcrypto, Gostcrypto):
        gc = gostcrypto
        results["Streebog-256 of the 1 KiB message: gostcrypto = OpenSSL"] = _check(
            lambda: _same(gc.streebog256(inputs.message), reference(inputs.message))
        )
    return results


def _check(test: Callable[[], None]) -> str:
    try:
        test()
    except Exception as exc:  # any failure, typed or not, is the check's result
        return f"FAILED: {type(exc).__name__}: {exc}"
    return "ok"


def _same(ours: bytes, theirs: bytes) -> None:
    if ours != theirs:
        raise AssertionError(f"{ours.hex()} != {theirs.hex()}")


def _openssl_accepts_bankkeys(bk: Bankkeys, openssl: OpenSSL, curve: str, message: bytes) -> None:
    key = bk.private_key(curve)
    signature = key.sign(message)
    template = openssl.private_key(curve)
    # Same curve, same SubjectPublicKeyInfo prefix: only the X||Y tail differs between two keys.
    spki = template.spki()[: -len(key.public_key().to_bytes())] + key.public_key().to_bytes()
    public = openssl.ossl.public_key_from_spki(template.key_type, spki)
    if not public.verifier()(message, signature):
        raise AssertionError("OpenSSL rejected the signature")


def _bankkeys_accepts_openssl(bk: Bankkeys, openssl: OpenSSL, curve: str, message: bytes) -> None:
    key = openssl.private_key(curve)
    signature = key.signer()(message)
    bk.public_key(curve, key.public_xy()).verify(message, signature)
