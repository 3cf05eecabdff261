"""The three GOST implementations under one face: each turns a figure into a timed workload.

Fairness: every implementation gets the same message and buffer, the same curves, and does the whole
job a caller would (signing and verification hash the message themselves). Keys, and for
verification the signature, are made before timing starts.
"""

from __future__ import annotations

import itertools
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, Protocol

from _openssl_gost import TC26_256_B, TC26_512_A, GostKeyType, OpenSSLGost, OpenSSLUnavailable

MESSAGE_SIZE = 1024
BUFFER_SIZE = 1 << 20
# gostcrypto hashes ~0.1-0.2 MB/s: one pass over 1 MiB would take longer than a measurement, so it
# hashes the same buffer incrementally in slices of this size (Streebog's cost is linear in length).
GOSTCRYPTO_SLICE = 16 << 10
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: Literal["ops/s", "MB/s"]
    operation: Literal["sign", "verify", "hash"]
    curve: str = ""  # bankkeys' canonical name of the parameter set


FIGURES = (
    Figure("sign_256", "sign/s    tc26-256-B", "ops/s", "sign", "tc26-256-B"),
    Figure("verify_256", "verify/s  tc26-256-B", "ops/s", "verify", "tc26-256-B"),
    Figure("sign_512", "sign/s    tc26-512-A", "ops/s", "sign", "tc26-512-A"),
    Figure("verify_512", "verify/s  tc26-512-A", "ops/s", "verify", "tc26-512-A"),
    Figure("streebog256", "Streebog-256 MB/s, 1 MiB", "MB/s", "hash"),
)


@dataclass(frozen=True)
class Inputs:
    message: bytes
    buffer: bytes

    @classmethod
    def random(cls) -> Inputs:
        return cls(secrets.token_bytes(MESSAGE_SIZE), secrets.token_bytes(BUFFER_SIZE))


@dataclass(frozen=True)
class Workload:
    """One operation to repeat, and how much of the figure's unit one call is worth."""

    run: Callable[[], object]
    work: float


class Unavailable(RuntimeError):
    """The implementation cannot run here; the message says why."""


class NotBuilt(Unavailable):
    """One part of an implementation is missing (bankkeys' EC core before it lands, say)."""


class Implementation(Protocol):
    name: str
    version: str

    def workload(self, figure: Figure, inputs: Inputs) -> Workload: ...


def _hash_workload(digest: Callable[[bytes], object], buffer: bytes) -> Workload:
    return Workload(lambda: digest(buffer), len(buffer) / 1e6)


def _checked(
    verify: Callable[[bytes, bytes], bool], message: bytes, sig: bytes
) -> Callable[[], None]:
    def run() -> None:
        if not verify(message, sig):
            raise RuntimeError("a valid signature failed to verify")

    return run


class Bankkeys:
    """bankkeys.gost: the C core through its public Python API."""

    name = "bankkeys"

    def __init__(self) -> None:
        import bankkeys

        self._streebog: Any = None
        self._gost3410: Any = None
        self._params: Any = None
        self.missing: dict[str, str] = {}  # part -> why it is not there
        try:
            from bankkeys.gost import streebog

            self._streebog = streebog
        except ImportError as exc:
            self.missing["streebog"] = f"not built ({exc})"
        try:
            from bankkeys.gost import gost3410, params

            self._gost3410, self._params = gost3410, params
        except ImportError as exc:
            self.missing["gost3410"] = f"not built ({exc})"
        if len(self.missing) == 2:
            raise Unavailable(self.missing["gost3410"])
        self.version = f"{bankkeys.__version__} (git {_git_revision()}; {_native_build_state()})"
        self._keys: dict[str, Any] = {}

    def _require(self, part: str) -> None:
        if part in self.missing:
            raise NotBuilt(self.missing[part])

    def private_key(self, curve_name: str) -> Any:
        self._require("gost3410")
        if curve_name not in self._keys:
            curve = self._params.get_curve(curve_name)
            self._keys[curve_name] = self._gost3410.PrivateKey.generate(curve)
        return self._keys[curve_name]

    def streebog256(self, data: bytes) -> bytes:
        self._require("streebog")
        return bytes(self._streebog.streebog256(data).digest())

    def public_key(self, curve_name: str, raw: bytes) -> Any:
        self._require("gost3410")
        return self._gost3410.PublicKey.from_bytes(self._params.get_curve(curve_name), raw)

    def workload(self, figure: Figure, inputs: Inputs) -> Workload:
        if figure.operation == "hash":
            self._require("streebog")
            return _hash_workload(self.streebog256, inputs.buffer)
        key = self.private_key(figure.curve)
        message = inputs.message
        if figure.operation == "sign":
            return Workload(lambda: key.sign(message), 1)
        public, sig = key.public_key(), key.sign(message)
        # verify() raises InvalidSignature on a bad signature: the loop cannot count failures.
        return Workload(lambda: public.verify(message, sig), 1)


class OpenSSL:
    """OpenSSL 3 + gost-engine through ctypes (see _openssl_gost)."""

    name = "openssl"

    def __init__(self) -> None:
        try:
            self.ossl = OpenSSLGost()
        except OpenSSLUnavailable as exc:
            raise Unavailable(str(exc)) from exc
        engine_pkg = _dpkg_version("libengine-gost-openssl")
        self.version = f"{self.ossl.version}; {self.ossl.engine_name}" + (
            f" (libengine-gost-openssl {engine_pkg})" if engine_pkg else ""
        )
        self._keys: dict[str, Any] = {}

    def key_type(self, curve_name: str) -> GostKeyType:
        return {"tc26-256-B": TC26_256_B, "tc26-512-A": TC26_512_A}[curve_name]

    def private_key(self, curve_name: str) -> Any:
        if curve_name not in self._keys:
            self._keys[curve_name] = self.ossl.generate_key(self.key_type(curve_name))
        return self._keys[curve_name]

    def workload(self, figure: Figure, inputs: Inputs) -> Workload:
        if figure.operation == "hash":
            return _hash_workload(self.ossl.hasher("md_gost12_256"), inputs.buffer)
        key = self.private_key(figure.curve)
        message = inputs.message
        sign = key.signer()
        if figure.operation == "sign":
            return Workload(lambda: sign(message), 1)
        return Workload(_checked(key.verifier(), message, sign(message)), 1)


_GOSTCRYPTO_CURVES = {
    "tc26-256-B": "id-tc26-gost-3410-2012-256-paramSetB",
    "tc26-512-A": "id-tc26-gost-3410-12-512-paramSetA",
}


class Gostcrypto:
    """The pure-Python gostcrypto package (PyPI)."""

    name = "gostcrypto"

    def __init__(self) -> None:
        try:
            from gostcrypto import gosthash, gostsignature
        except ImportError as exc:
            raise Unavailable(f"gostcrypto not installed ({exc})") from exc
        self._hash: Any = gosthash
        self._sig: Any = gostsignature
        self.version = metadata.version("gostcrypto")

    def streebog256(self, data: bytes) -> bytes:
        return bytes(self._hash.new("streebog256", data=data).digest())

    def workload(self, figure: Figure, inputs: Inputs) -> Workload:
        if figure.operation == "hash":
            slices = itertools.cycle(
                [
                    inputs.buffer[i : i + GOSTCRYPTO_SLICE]
                    for i in range(0, len(inputs.buffer), GOSTCRYPTO_SLICE)
                ]
            )
            state = self._hash.new("streebog256")
            return Workload(lambda: state.update(next(slices)), GOSTCRYPTO_SLICE / 1e6)
        wide = figure.curve.startswith("tc26-512")
        size, hash_name = (64, "streebog512") if wide else (32, "streebog256")
        curve = self._sig.CURVES_R_1323565_1_024_2019[_GOSTCRYPTO_CURVES[figure.curve]]
        scheme = self._sig.new(self._sig.MODE_512 if wide else self._sig.MODE_256, curve)
        private = bytearray((1 + secrets.randbelow(curve["q"] - 1)).to_bytes(size, "big"))
        message = inputs.message

        def sign() -> bytearray:
            digest = self._hash.new(hash_name, data=message).digest()
            return scheme.sign(private, digest)  # type: ignore[no-any-return]

        if figure.operation == "sign":
            return Workload(sign, 1)
        public = scheme.public_key_generate(private)

        def verify(msg: bytes, sig: bytes) -> bool:
            digest = self._hash.new(hash_name, data=msg).digest()
            return bool(scheme.verify(public, digest, sig))

        return Workload(_checked(verify, message, bytes(sign())), 1)


IMPLEMENTATIONS: dict[str, Callable[[], Implementation]] = {
    "bankkeys": Bankkeys,
    "openssl": OpenSSL,
    "gostcrypto": Gostcrypto,
}


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _native_build_state() -> str:
    """When each loaded extension was built, flagged if one of its C sources is newer."""
    gost = REPO / "src" / "bankkeys" / "gost"
    states = []
    for ext in ("streebog", "ec"):
        built = sorted(gost.glob(f"_{ext}.*.so"))
        if not built:
            states.append(f"_{ext} not built")
            continue
        built_at = built[0].stat().st_mtime
        sources = [gost / "_c" / name for name in (f"{ext}.c", f"{ext}.h", f"py_{ext}.c")]
        stale = any(src.exists() and src.stat().st_mtime > built_at for src in sources)
        stamp = time.strftime("%H:%M:%S", time.localtime(built_at))
        states.append(f"_{ext} built {stamp}" + (", C sources edited since" if stale else ""))
    return ", ".join(states)


def _dpkg_version(package: str) -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", package],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()
