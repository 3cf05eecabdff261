"""The software key container: a folder (copyable to a flash drive, seed 004) that behaves like a
token.

Layout: ``<folder>/container.json`` holds everything and is replaced atomically on every change;
``<folder>/.lock`` serialises writers. Secrets:

* A random 256-bit data key encrypts every private key (AES-256-GCM; the associated data binds
  the ciphertext to the container serial, key id, algorithm and public key, so blobs cannot be
  swapped between keys or containers).
* The data key is wrapped twice: under a key derived from the user PIN and under one derived from
  the admin PIN (Argon2id, RFC 9106; its parameters and salt are stored per PIN). The admin PIN can
  therefore set a new user PIN without knowing the old one, as a token's SO PIN does.
* A PIN is checked only by opening its wrapped data key: the GCM tag comparison is the
  (constant-time) PIN comparison; no PIN hash is stored.

Retry counters: the counter is decremented and written *before* the PIN is checked, and restored
after a correct PIN, so killing the process after a wrong guess does not save the try. What a
plain disk cannot give: someone who copies ``container.json`` before guessing and copies it back
afterwards resets the counter. Against offline guessing only the KDF cost and the PIN policy
protect the keys; this is why the default policy demands strong PINs. Use a hardware token where
that matters.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bankkeys.pki.errors import PkiError
from bankkeys.pki.keys import decode_public_key_info
from bankkeys.pki.signer import KeySpec
from bankkeys.tokens import softkeys
from bankkeys.tokens.atomic import atomic_write, exclusive_lock
from bankkeys.tokens.base import CertificateInfo, KeyInfo, PinState, TokenInfo
from bankkeys.tokens.errors import (
    CertificateMismatch,
    ContainerCorrupted,
    ContainerExists,
    DefaultPinRefused,
    KeyNotFound,
    NotLoggedIn,
    ObjectNotFound,
    PinBlocked,
    PinRole,
    TokenError,
    TokenNotFound,
    TokenRemoved,
    WrongPin,
)
from bankkeys.tokens.models import SOFTWARE_CONTAINER
from bankkeys.tokens.policy import (
    DEFAULT_ADMIN_PIN,
    DEFAULT_USER_PIN,
    RUTOKEN_ECP_3,
    PinPolicy,
)

FORMAT = "bankkeys-key-container"
VERSION = 1
STATE_FILE = "container.json"
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost; the default is RFC 9106's second recommended option (64 MiB, t=3, p=4)."""

    time_cost: int = 3
    memory_cost_kib: int = 64 * 1024
    parallelism: int = 4

    def __post_init__(self) -> None:
        # Upper bounds too: a crafted container must not make login allocate terabytes.
        if not (
            1 <= self.parallelism <= 64
            and 1 <= self.time_cost <= 64
            and 8 * self.parallelism <= self.memory_cost_kib <= 4 * 1024 * 1024
        ):
            raise ValueError("invalid Argon2id parameters")


@dataclass
class _PinSlot:
    salt: bytes
    kdf: KdfParams
    nonce: bytes
    wrapped_key: bytes
    tries_left: int
    is_default: bool


@dataclass
class _StoredKey:
    id: bytes
    label: str
    spec: KeySpec
    public: bytes
    nonce: bytes
    encrypted_private: bytes


@dataclass
class _StoredCert:
    id: bytes
    label: str
    der: bytes


@dataclass
class _State:
    serial: str
    label: str
    policy: PinPolicy
    user: _PinSlot
    admin: _PinSlot
    keys: list[_StoredKey] = field(default_factory=list)
    certificates: list[_StoredCert] = field(default_factory=list)

    def slot(self, role: PinRole) -> _PinSlot:
        return self.admin if role == "admin" else self.user

    def max_tries(self, role: PinRole) -> int:
        return self.policy.admin_max_tries if role == "admin" else self.policy.user_max_tries


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text, validate=True)


def _dump_state(state: _State) -> bytes:
    def slot(s: _PinSlot) -> dict[str, Any]:
        return {
            "kdf": {"algorithm": "argon2id", "version": 19, **asdict(s.kdf), "salt": _b64(s.salt)},
            "aead": "AES-256-GCM",
            "nonce": _b64(s.nonce),
            "wrapped_key": _b64(s.wrapped_key),
            "tries_left": s.tries_left,
            "default": s.is_default,
        }

    doc = {
        "format": FORMAT,
        "version": VERSION,
        "serial": state.serial,
        "label": state.label,
        "policy": state.policy.to_dict(),
        "pins": {"user": slot(state.user), "admin": slot(state.admin)},
        "keys": [
            {
                "id": k.id.hex(),
                "label": k.label,
                "family": k.spec.family,
                "curve": k.spec.curve,
                "public": k.public.hex(),
                "aead": "AES-256-GCM",
                "nonce": _b64(k.nonce),
                "private": _b64(k.encrypted_private),
            }
            for k in state.keys
        ],
        "certificates": [
            {"id": c.id.hex(), "label": c.label, "der": _b64(c.der)} for c in state.certificates
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def _load_state(raw: bytes) -> _State:
    try:
        doc = json.loads(raw.decode("utf-8"))
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise ValueError("not a container of this version")

        def slot(d: dict[str, Any]) -> _PinSlot:
            kdf = d["kdf"]
            if kdf["algorithm"] != "argon2id" or d["aead"] != "AES-256-GCM":
                raise ValueError("unknown algorithm")
            return _PinSlot(
                salt=_unb64(kdf["salt"]),
                kdf=KdfParams(
                    time_cost=int(kdf["time_cost"]),
                    memory_cost_kib=int(kdf["memory_cost_kib"]),
                    parallelism=int(kdf["parallelism"]),
                ),
                nonce=_unb64(d["nonce"]),
                wrapped_key=_unb64(d["wrapped_key"]),
                tries_left=int(d["tries_left"]),
                is_default=bool(d["default"]),
            )

        return _State(
            serial=str(doc["serial"]),
            label=str(doc["label"]),
            policy=PinPolicy.from_dict(doc["policy"]),
            user=slot(doc["pins"]["user"]),
            admin=slot(doc["pins"]["admin"]),
            keys=[
                _StoredKey(
                    id=bytes.fromhex(k["id"]),
                    label=str(k["label"]),
                    spec=KeySpec(k["family"], str(k["curve"])),
                    public=bytes.fromhex(k["public"]),
                    nonce=_unb64(k["nonce"]),
                    encrypted_private=_unb64(k["private"]),
                )
                for k in doc["keys"]
            ],
            certificates=[
                _StoredCert(id=bytes.fromhex(c["id"]), label=str(c["label"]), der=_unb64(c["der"]))
                for c in doc["certificates"]
            ],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContainerCorrupted() from exc


def _kek(pin: str, salt: bytes, kdf: KdfParams) -> bytearray:
    # NFC: the same Cyrillic PIN typed on another system may arrive decomposed.
    return bytearray(
        hash_secret_raw(
            secret=unicodedata.normalize("NFC", pin).encode("utf-8"),
            salt=salt,
            time_cost=kdf.time_cost,
            memory_cost=kdf.memory_cost_kib,
            parallelism=kdf.parallelism,
            hash_len=32,
            type=Type.ID,
        )
    )


def _pin_aad(serial: str, role: PinRole) -> bytes:
    return f"{FORMAT}/{VERSION}/{serial}/pin/{role}".encode()


def _key_aad(serial: str, key: _StoredKey) -> bytes:
    head = f"{FORMAT}/{VERSION}/{serial}/key/{key.id.hex()}/{key.spec.family}/{key.spec.curve}/"
    return head.encode() + key.public


def _wrap(serial: str, role: PinRole, pin: str, data_key: bytearray, kdf: KdfParams) -> _PinSlot:
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    kek = _kek(pin, salt, kdf)
    try:
        wrapped = AESGCM(kek).encrypt(nonce, data_key, _pin_aad(serial, role))
    finally:
        softkeys.wipe(kek)
    return _PinSlot(salt, kdf, nonce, wrapped, tries_left=0, is_default=False)


def _unwrap(serial: str, role: PinRole, pin: str, slot: _PinSlot) -> bytearray | None:
    kek = _kek(pin, slot.salt, slot.kdf)
    try:
        return bytearray(AESGCM(kek).decrypt(slot.nonce, slot.wrapped_key, _pin_aad(serial, role)))
    except InvalidTag:
        return None
    finally:
        softkeys.wipe(kek)


class SoftwareContainer:
    """A key container folder with token semantics. Implements :class:`~bankkeys.tokens.Token`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._data_key: bytearray | None = None
        if not (self.folder / STATE_FILE).is_file():
            raise TokenNotFound(f"Ключевой контейнер не найден: {self.folder}")

    # ----------------------------------------------------------------- creation and state I/O

    @classmethod
    def create(
        cls,
        folder: Path,
        label: str,
        policy: PinPolicy = RUTOKEN_ECP_3,
        kdf: KdfParams | None = None,
    ) -> SoftwareContainer:
        """A fresh container with the factory PINs (12345678 / 87654321), which must be changed
        before any work, as on a new token."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state_path = folder / STATE_FILE
        kdf = kdf or KdfParams()
        serial = secrets.token_hex(8)
        data_key = bytearray(secrets.token_bytes(32))
        try:
            user = _wrap(serial, "user", DEFAULT_USER_PIN, data_key, kdf)
            admin = _wrap(serial, "admin", DEFAULT_ADMIN_PIN, data_key, kdf)
        finally:
            softkeys.wipe(data_key)
        user = replace(user, tries_left=policy.user_max_tries, is_default=True)
        admin = replace(admin, tries_left=policy.admin_max_tries, is_default=True)
        state = _State(serial=serial, label=label, policy=policy, user=user, admin=admin)
        with exclusive_lock(folder / LOCK_FILE):
            if state_path.exists():
                raise ContainerExists()
            atomic_write(state_path, _dump_state(state))
        return cls(folder)

    def _read(self) -> _State:
        try:
            raw = (self.folder / STATE_FILE).read_bytes()
        except FileNotFoundError as exc:
            raise TokenRemoved() from exc
        except OSError as exc:
            raise TokenRemoved() from exc
        return _load_state(raw)

    def _write(self, state: _State) -> None:
        try:
            atomic_write(self.folder / STATE_FILE, _dump_state(state))
        except OSError as exc:
            raise TokenRemoved() from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_State]:
        """Read, let the caller change, write back — under the folder lock. An exception in the
        caller's block writes nothing."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(exclusive_lock(self.folder / LOCK_FILE))
            except OSError as exc:
                raise TokenRemoved() from exc
            self._remove_stale_temporaries()
            state = self._read()
            yield state
            self._write(state)

    def _remove_stale_temporaries(self) -> None:
        """Temporaries of writers killed mid-write; safe to remove because writers hold the lock."""
        for stale in self.folder.glob(f".{STATE_FILE}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    # ----------------------------------------------------------------- PIN checks

    def _verify(self, role: PinRole, pin: str) -> bytearray:
        """Check a PIN with its retry counter; the try is spent before the check (module doc)."""
        with self._transaction() as state:
            slot = state.slot(role)
            if slot.tries_left <= 0:
                raise PinBlocked(role)
            slot.tries_left -= 1
        serial = state.serial
        data_key = _unwrap(serial, role, pin, slot)
        if data_key is None:
            if slot.tries_left <= 0:
                raise PinBlocked(role)
            raise WrongPin(role, slot.tries_left)
        with self._transaction() as state:
            state.slot(role).tries_left = state.max_tries(role)
        return data_key

    def _rewrap(
        self, role: PinRole, new_pin: str, data_key: bytearray, other_pin: str | None
    ) -> None:
        state = self._read()
        other: PinRole = "user" if role == "admin" else "admin"
        if state.policy.pins_differ and other_pin is None:
            # The other PIN is unknown here: it equals new_pin exactly when new_pin opens its slot.
            probe = _unwrap(state.serial, other, new_pin, state.slot(other))
            if probe is not None:
                softkeys.wipe(probe)
                state.policy.check(role, new_pin, new_pin)
        slot = state.slot(role)
        new_slot = _wrap(state.serial, role, new_pin, data_key, slot.kdf)
        with self._transaction() as fresh:
            fresh_slot = fresh.slot(role)
            fresh_slot.salt, fresh_slot.nonce = new_slot.salt, new_slot.nonce
            fresh_slot.wrapped_key = new_slot.wrapped_key
            fresh_slot.tries_left = fresh.max_tries(role)
            fresh_slot.is_default = False

    def _require_login(self) -> bytearray:
        if self._data_key is None:
            raise NotLoggedIn()
        return self._data_key

    def _require_work(self, state: _State) -> bytearray:
        data_key = self._require_login()
        if state.user.is_default:
            raise DefaultPinRefused("user")
        if state.admin.is_default:
            raise DefaultPinRefused("admin")
        return data_key

    # ----------------------------------------------------------------- Token protocol

    def info(self) -> TokenInfo:
        state = self._read()
        return TokenInfo(
            backend="software",
            model=SOFTWARE_CONTAINER,
            serial=state.serial,
            label=state.label,
            manufacturer="bankkeys",
            pins=PinState(
                user_tries_left=state.user.tries_left,
                admin_tries_left=state.admin.tries_left,
                user_pin_default=state.user.is_default,
                admin_pin_default=state.admin.is_default,
                user_blocked=state.user.tries_left <= 0,
                admin_blocked=state.admin.tries_left <= 0,
            ),
        )

    @property
    def policy(self) -> PinPolicy:
        return self._read().policy

    def login(self, user_pin: str) -> None:
        self.logout()
        self._data_key = self._verify("user", user_pin)

    def logout(self) -> None:
        if self._data_key is not None:
            softkeys.wipe(self._data_key)
            self._data_key = None

    def close(self) -> None:
        self.logout()

    def __enter__(self) -> SoftwareContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def key_pairs(self) -> list[KeyInfo]:
        return [
            KeyInfo(
                id=k.id, label=k.label, spec=k.spec, public_key_info=softkeys.spki(k.spec, k.public)
            )
            for k in self._read().keys
        ]

    def certificates(self) -> list[CertificateInfo]:
        return [CertificateInfo(c.id, c.label, c.der) for c in self._read().certificates]

    def generate_key(self, spec: KeySpec, label: str, key_id: bytes | None = None) -> KeyInfo:
        state = self._read()
        data_key = self._require_work(state)
        key_id = key_id or secrets.token_bytes(16)
        private, public = softkeys.generate(spec)
        try:
            stored = _StoredKey(key_id, label, spec, public, secrets.token_bytes(12), b"")
            stored.encrypted_private = AESGCM(data_key).encrypt(
                stored.nonce, private, _key_aad(state.serial, stored)
            )
        finally:
            softkeys.wipe(private)
        with self._transaction() as fresh:
            if any(k.id == key_id for k in fresh.keys):
                raise TokenError("На носителе уже есть ключ с таким идентификатором")
            fresh.keys.append(stored)
        return KeyInfo(key_id, label, spec, softkeys.spki(spec, public))

    def signer(self, key_id: bytes) -> ContainerSigner:
        state = self._read()
        self._require_work(state)
        for key in state.keys:
            if key.id == key_id:
                return ContainerSigner(self, key.id, key.spec, softkeys.spki(key.spec, key.public))
        raise KeyNotFound()

    def _sign_digest(self, key_id: bytes, message_digest: bytes) -> bytes:
        state = self._read()
        data_key = self._require_work(state)
        key = next((k for k in state.keys if k.id == key_id), None)
        if key is None:
            raise KeyNotFound()
        try:
            private = bytearray(
                AESGCM(data_key).decrypt(
                    key.nonce, key.encrypted_private, _key_aad(state.serial, key)
                )
            )
        except InvalidTag as exc:
            raise ContainerCorrupted() from exc
        try:
            return softkeys.sign_digest(key.spec, private, message_digest)
        finally:
            softkeys.wipe(private)

    def import_certificate(
        self, der: bytes, label: str | None = None, key_id: bytes | None = None
    ) -> CertificateInfo:
        state = self._read()
        self._require_work(state)
        try:
            cert = asn1_x509.Certificate.load(der)
            spki = cert["tbs_certificate"]["subject_public_key_info"].dump()
            subject = cert.subject.human_friendly
        except ValueError as exc:
            raise CertificateMismatch("Файл не является сертификатом X.509") from exc
        try:
            _, raw = decode_public_key_info(spki)
        except PkiError as exc:
            raise CertificateMismatch("Ключ в сертификате не поддерживается") from exc
        match = next((k for k in state.keys if k.public == raw), None)
        if match is None or (key_id is not None and match.id != key_id):
            raise CertificateMismatch()
        stored = _StoredCert(match.id, label or subject or match.label, bytes(der))
        with self._transaction() as fresh:
            fresh.certificates = [c for c in fresh.certificates if c.id != match.id]
            fresh.certificates.append(stored)
        return CertificateInfo(stored.id, stored.label, stored.der)

    def delete(self, object_id: bytes) -> None:
        self._require_work(self._read())
        with self._transaction() as state:
            before = len(state.keys) + len(state.certificates)
            state.keys = [k for k in state.keys if k.id != object_id]
            state.certificates = [c for c in state.certificates if c.id != object_id]
            if len(state.keys) + len(state.certificates) == before:
                raise ObjectNotFound()

    def change_user_pin(self, old_pin: str, new_pin: str) -> None:
        self._change_pin("user", old_pin, new_pin)

    def change_admin_pin(self, old_pin: str, new_pin: str) -> None:
        self._change_pin("admin", old_pin, new_pin)

    def _change_pin(self, role: PinRole, old_pin: str, new_pin: str) -> None:
        self.policy.check(role, new_pin, None)  # before a try is spent
        data_key = self._verify(role, old_pin)
        try:
            self._rewrap(role, new_pin, data_key, None)
        finally:
            softkeys.wipe(data_key)

    def unblock_user_pin(self, admin_pin: str, new_user_pin: str) -> None:
        self.policy.check("user", new_user_pin, admin_pin)  # before a try is spent
        data_key = self._verify("admin", admin_pin)
        try:
            self._rewrap("user", new_user_pin, data_key, admin_pin)
        finally:
            softkeys.wipe(data_key)


class ContainerSigner:
    """A :class:`~bankkeys.pki.signer.Signer` for one key in a software container."""

    def __init__(
        self, container: SoftwareContainer, key_id: bytes, spec: KeySpec, public_key_info: bytes
    ) -> None:
        self._container = container
        self._key_id = key_id
        self._spec = spec
        self._spki = public_key_info

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def key_spec(self) -> KeySpec:
        return self._spec

    @property
    def public_key_info(self) -> bytes:
        return self._spki

    def sign(self, data: bytes) -> bytes:
        return self.sign_digest(softkeys.digest(self._spec, data))

    def sign_digest(self, digest: bytes) -> bytes:
        return self._container._sign_digest(self._key_id, digest)
