"""Type stub of the native GOST R 34.10-2012 core (src/bankkeys/gost/_c/py_ec.c).

Curve ids are those of ``ec.h``; use :mod:`bankkeys.gost.gost3410` rather than this module.
"""

from collections.abc import Sequence
from typing import Final

from typing_extensions import Buffer

CURVE_COUNT: Final[int]

def info(curve: int, /) -> tuple[str, int, int, str, str, str, str, str, str]: ...
def generate(curve: int, /) -> bytes: ...
def check_private(curve: int, d: Buffer, /) -> None: ...
def check_public(curve: int, public: Buffer, /) -> None: ...
def public_key(curve: int, d: Buffer, /) -> bytes: ...
def sign(curve: int, d: Buffer, digest: Buffer, /) -> bytes: ...
def sign_with_k(curve: int, d: Buffer, digest: Buffer, k: Buffer, /) -> bytes: ...
def verify(
    curve: int, public: Buffer, digest: Buffer, signature: Buffer, key_checked: bool = False, /
) -> None: ...
def digest_and_verify(
    curve: int,
    public: Buffer,
    message: Buffer,
    signature: Buffer,
    content: Buffer,
    key_checked: bool = False,
    /,
) -> tuple[bytes, bool]: ...
def digest_and_verify_many(
    jobs: Sequence[
        tuple[int, Buffer, Buffer, Buffer, Buffer]
        | tuple[int, Buffer, Buffer, Buffer, Buffer, bool]
    ],
    /,
) -> list[tuple[bytes, bool]]: ...
def inverse(curve: int, mod_q: bool, variable_time: bool, a: Buffer, /) -> bytes: ...  # test hook
