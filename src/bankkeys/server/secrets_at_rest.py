"""Secrets kept in the database under a key that is not there: AES-256-GCM, the key in a file.

A stored value reads ``v1:<key id>:<nonce, base64>:<ciphertext and tag, base64>``. The key id
names one key of the key file, so the file may hold several (the first one encrypts, every one
decrypts) while a rotation re-encrypts the rows. The caller's associated data (the account's
login, say) binds a ciphertext to its row: copied onto another row, it does not decrypt.

The key file is text, one key a line: ``v1 <key id> <32 bytes, base64>``; ``#`` starts a comment.
It is written with mode 0600 and replaced atomically (a crash leaves the old file or the new one).
Decrypted key material is held in ``bytearray`` buffers and overwritten when done (best effort:
OpenSSL keeps its own copy of the AES key inside the cipher object).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "v1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
TAG_BYTES = 16
_KEY_ID = re.compile(r"[0-9a-f]{8,32}")
_HEADER = (
    "# bankkeys: AES-256-GCM keys of the secrets kept in the database (TOTP).\n"
    "# Back this file up apart from the database; without it the secrets are lost.\n"
    "# The first key encrypts; every key decrypts.\n"
)


class SecretKeyError(Exception):
    """The key file is missing, unreadable or malformed; the message names the file."""


class SealedSecretError(Exception):
    """A stored value does not decrypt: tampered, moved to another row, or another key."""


def zeroise(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))


@dataclass
class _Key:
    key_id: str
    aead: AESGCM


class KeyRing:
    """The keys of one key file; the first one seals."""

    def __init__(self, path: Path, keys: Sequence[tuple[str, bytearray]]) -> None:
        if not keys:
            raise SecretKeyError(f"Файл ключа {path}: нет ни одного ключа")
        self.path = path
        self._keys: dict[str, _Key] = {}
        for key_id, material in keys:
            if key_id in self._keys:
                raise SecretKeyError(f"Файл ключа {path}: ключ {key_id} указан дважды")
            self._keys[key_id] = _Key(key_id, AESGCM(material))
        self.current_id = keys[0][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def seal(self, plaintext: bytes | bytearray, associated: bytes) -> str:
        key = self._keys[self.current_id]
        nonce = secrets.token_bytes(NONCE_BYTES)  # random: 2^-32 collision bound at 2^32 seals
        sealed = key.aead.encrypt(nonce, bytes(plaintext), associated)
        return ":".join((FORMAT, key.key_id, _b64(nonce), _b64(sealed)))

    def open(self, stored: str, associated: bytes) -> bytearray:
        """The plaintext in a fresh buffer, which the caller zeroises."""
        key_id, nonce, sealed = parse_sealed(stored)
        key = self._keys.get(key_id)
        if key is None:
            raise SealedSecretError(
                f"секрет зашифрован ключом {key_id}, которого нет в файле {self.path}"
            )
        out = bytearray(len(sealed) - TAG_BYTES)
        try:
            key.aead.decrypt_into(nonce, sealed, associated, out)
        except InvalidTag:
            zeroise(out)
            raise SealedSecretError(
                f"секрет не расшифровывается ключом {key_id} из {self.path}: "
                "значение изменено, перенесено с другой записи или ключ не тот"
            ) from None
        return out


def is_sealed(value: str) -> bool:
    """Whether a stored value is in a sealed form (base32 and the like have no colon)."""
    return value.startswith(FORMAT + ":")


def key_id_of(stored: str) -> str:
    return parse_sealed(stored)[0]


def parse_sealed(stored: str) -> tuple[str, bytes, bytes]:
    parts = stored.split(":")
    if len(parts) != 4 or parts[0] != FORMAT:
        raise SealedSecretError("значение не в форме v1:<ключ>:<nonce>:<шифртекст>")
    try:
        nonce, sealed = _unb64(parts[2]), _unb64(parts[3])
    except ValueError:
        raise SealedSecretError("значение не в base64") from None
    if len(nonce) != NONCE_BYTES or len(sealed) < TAG_BYTES:
        raise SealedSecretError("значение короче возможного")
    return parts[1], nonce, sealed


def read_key_file(path: Path) -> KeyRing:
    keys = read_keys(path)
    try:
        return KeyRing(path, keys)
    finally:
        for _, material in keys:
            zeroise(material)


def read_keys(path: Path) -> list[tuple[str, bytearray]]:
    """The file's (key id, key) pairs in order; the caller zeroises the buffers."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise SecretKeyError(f"Файл ключа не найден: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"Файл ключа {path} не прочитан: {exc}") from None
    keys: list[tuple[str, bytearray]] = []
    try:
        for number, line in enumerate(text.splitlines(), 1):
            words = line.split("#", 1)[0].split()
            if words:
                keys.append(_parse_line(path, number, words))
    except SecretKeyError:
        for _, material in keys:
            zeroise(material)
        raise
    if not keys:
        raise SecretKeyError(f"Файл ключа {path}: нет ни одного ключа")
    return keys


def _parse_line(path: Path, number: int, words: list[str]) -> tuple[str, bytearray]:
    where = f"Файл ключа {path}, строка {number}"
    if len(words) != 3 or words[0] != FORMAT:
        raise SecretKeyError(f"{where}: ожидается «{FORMAT} <идентификатор> <ключ base64>»")
    if not _KEY_ID.fullmatch(words[1]):
        raise SecretKeyError(f"{where}: идентификатор ключа — 8–32 шестнадцатеричных цифры")
    try:
        material = bytearray(base64.b64decode(words[2], validate=True))
    except binascii.Error:
        raise SecretKeyError(f"{where}: ключ не в base64") from None
    if len(material) != KEY_BYTES:
        zeroise(material)
        raise SecretKeyError(f"{where}: ключ должен быть длиной {KEY_BYTES} байта")
    return words[1], material


def new_key() -> tuple[str, bytearray]:
    return secrets.token_hex(4), bytearray(secrets.token_bytes(KEY_BYTES))


def write_key_file(path: Path, keys: Sequence[tuple[str, bytearray]], *, exclusive: bool) -> None:
    """Write the keys (first: current) with mode 0600. ``exclusive``: only if there is no file
    yet (two first starts at once keep one key); else the file is replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = bytearray(_HEADER.encode("ascii"))
    try:
        for key_id, material in keys:
            body += f"{FORMAT} {key_id} ".encode("ascii")
            body += base64.b64encode(bytes(material)) + b"\n"
        target = path if exclusive else path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            fd = os.open(target, flags, 0o600)
        except FileExistsError:
            raise SecretKeyError(f"Файл ключа уже существует: {path}") from None
        with _removed_on_error(target):
            with os.fdopen(fd, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            if not exclusive:
                os.replace(target, path)
        _sync_dir(path.parent)
    finally:
        zeroise(body)


@contextlib.contextmanager
def _removed_on_error(path: Path) -> Iterator[None]:
    # Only a file this call created (O_EXCL) is removed: a half-written key is no key.
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None
