"""One-time activation codes for a signer's first key (the paper "Реквизиты").

Codes carry 80 random bits; the bank stores only an Argon2id hash with a per-code salt and compares
hashes with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hmac
import secrets

from argon2.low_level import Type, hash_secret_raw

# Crockford-like alphabet: no 0/O, 1/I/L confusion when typed from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_LEN = 4, 4


def generate_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(raw[i : i + GROUP_LEN] for i in range(0, len(raw), GROUP_LEN))


def normalise(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def hash_code(code: str, salt: bytes) -> bytes:
    return hash_secret_raw(
        normalise(code).encode("ascii", "replace"),
        salt,
        time_cost=2,
        memory_cost=19456,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def matches(code: str, salt: bytes, stored: bytes) -> bool:
    return hmac.compare_digest(hash_code(code, salt), stored)
