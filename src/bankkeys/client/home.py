"""The client's small config dir: ``$BANKKEYS_CLIENT_HOME`` or ``~/.config/bankkeys``.

``client.json`` holds the banks (URL, the pinned CA certificate, proxy) and, per profile, the
hints the bank cannot know: which token holds the key, a key generated but not yet sent, the old
token of a migration. Session tokens live in ``sessions/`` (mode 0600) and expire at the bank.
PINs and passwords are never written anywhere.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bankkeys.client.errors import BankNotConfigured, ConfigError
from bankkeys.tokens.atomic import atomic_write

HOME_ENV = "BANKKEYS_CLIENT_HOME"
CONFIG_FILE = "client.json"
VERSION = 1


def default_home() -> Path:
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "bankkeys"


def bank_id_for(url: str) -> str:
    """A stable short name for a bank: its host and port."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"Адрес банка должен быть вида https://bank.example.ru, получено «{url}»")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


@dataclass(frozen=True)
class BankEntry:
    url: str
    ca_der: bytes | None = None  # the pinned CA certificate (first use, or given)
    proxy: str | None = None  # HTTPS proxy (seed 004); None: the HTTPS_PROXY environment
    tls_ca_file: str | None = None  # a private CA for the bank's TLS certificate, if any


@dataclass(frozen=True)
class ProfileBinding:
    """What the client remembers about one profile (signer × bank). All of it is a hint that the
    bank's status and the token's contents confirm or override."""

    token_serial: str | None = None  # the token holding the current key
    target_serial: str | None = None  # the token chosen for the new key (migration: the new one)
    pending_key_id: str | None = None  # hex; generated on target_serial, not yet accepted
    pending_request: str | None = None  # base64 PKCS#10 of that key (public data, no secret)
    old_token_serial: str | None = None  # after a migration: destroy after the first payment


@dataclass(frozen=True)
class Session:
    access_token: str
    expires_at: datetime
    login: str


@dataclass
class ClientConfig:
    banks: dict[str, BankEntry] = field(default_factory=dict)
    current_bank: str | None = None
    containers: list[str] = field(default_factory=list)  # known key container folders
    container_roots: list[str] = field(default_factory=list)  # folders scanned for containers
    pkcs11_module: str | None = None
    profiles: dict[str, ProfileBinding] = field(default_factory=dict)


def profile_key(bank_id: str, signer_id: int) -> str:
    return f"{bank_id}/{signer_id}"


class ClientHome:
    """Reads and writes the config dir; every write replaces the file atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_home()

    # ----------------------------------------------------------------- config

    def load(self) -> ClientConfig:
        file = self.path / CONFIG_FILE
        if not file.is_file():
            return ClientConfig()
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
            if doc.get("version") != VERSION:
                raise ValueError("version")
            return ClientConfig(
                banks={
                    k: BankEntry(
                        url=str(v["url"]),
                        ca_der=base64.b64decode(v["ca_der"]) if v.get("ca_der") else None,
                        proxy=v.get("proxy"),
                        tls_ca_file=v.get("tls_ca_file"),
                    )
                    for k, v in doc.get("banks", {}).items()
                },
                current_bank=doc.get("current_bank"),
                containers=[str(p) for p in doc.get("containers", [])],
                container_roots=[str(p) for p in doc.get("container_roots", [])],
                pkcs11_module=doc.get("pkcs11_module"),
                profiles={
                    k: ProfileBinding(**{f: v.get(f) for f in ProfileBinding.__dataclass_fields__})
                    for k, v in doc.get("profiles", {}).items()
                },
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"Файл настроек повреждён: {file}") from exc

    def save(self, config: ClientConfig) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        doc: dict[str, Any] = {
            "version": VERSION,
            "current_bank": config.current_bank,
            "banks": {
                k: {
                    "url": b.url,
                    "ca_der": base64.b64encode(b.ca_der).decode() if b.ca_der else None,
                    "proxy": b.proxy,
                    "tls_ca_file": b.tls_ca_file,
                }
                for k, b in config.banks.items()
            },
            "containers": config.containers,
            "container_roots": config.container_roots,
            "pkcs11_module": config.pkcs11_module,
            "profiles": {k: asdict(p) for k, p in config.profiles.items()},
        }
        text = json.dumps(doc, ensure_ascii=False, indent=1)
        atomic_write(self.path / CONFIG_FILE, text.encode("utf-8"))

    def bank(self, bank_id: str | None = None) -> tuple[str, BankEntry]:
        config = self.load()
        chosen = bank_id or config.current_bank
        if chosen is None or chosen not in config.banks:
            raise BankNotConfigured()
        return chosen, config.banks[chosen]

    def set_bank(self, bank_id: str, entry: BankEntry, *, make_current: bool = True) -> None:
        config = self.load()
        config.banks[bank_id] = entry
        if make_current or config.current_bank is None:
            config.current_bank = bank_id
        self.save(config)

    def binding(self, bank_id: str, signer_id: int) -> ProfileBinding:
        return self.load().profiles.get(profile_key(bank_id, signer_id), ProfileBinding())

    def update_binding(self, bank_id: str, signer_id: int, **changes: Any) -> ProfileBinding:
        config = self.load()
        key = profile_key(bank_id, signer_id)
        updated = replace(config.profiles.get(key, ProfileBinding()), **changes)
        config.profiles[key] = updated
        self.save(config)
        return updated

    def add_container(self, folder: Path) -> None:
        config = self.load()
        text = str(Path(folder).resolve())
        if text not in config.containers:
            config.containers.append(text)
            self.save(config)

    # ----------------------------------------------------------------- sessions

    def _session_file(self, bank_id: str) -> Path:
        return self.path / "sessions" / (bank_id.replace(":", "_").replace("/", "_") + ".json")

    def save_session(self, bank_id: str, session: Session) -> None:
        folder = self.path / "sessions"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        doc = {
            "access_token": session.access_token,
            "expires_at": session.expires_at.isoformat(),
            "login": session.login,
        }
        atomic_write(self._session_file(bank_id), json.dumps(doc).encode())

    def load_session(self, bank_id: str) -> Session | None:
        file = self._session_file(bank_id)
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
            return Session(
                access_token=str(doc["access_token"]),
                expires_at=datetime.fromisoformat(doc["expires_at"]),
                login=str(doc["login"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def drop_session(self, bank_id: str) -> None:
        self._session_file(bank_id).unlink(missing_ok=True)
