"""Server configuration: environment variables over an optional TOML file over defaults.

Every setting has an environment name ``BANKKEYS_<NAME>`` and a key ``<name>`` in the file named by
``BANKKEYS_CONFIG`` (or ``--config``). :func:`check` lists what is wrong before start-up, in
Russian, without printing secrets.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bankkeys.bank.policy import Policy, RenewalPathName
from bankkeys.server.secrets_at_rest import SecretKeyError, read_key_file

ENV_PREFIX = "BANKKEYS_"
ENV_CONFIG_FILE = "BANKKEYS_CONFIG"
SECRET_SETTINGS = frozenset({"ca_pin", "smtp_url"})


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    # where things are
    var_dir: Path = Path("var")
    database_url: str = ""  # empty: sqlite under var_dir
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""  # empty: http://host:port
    certfile: str = ""
    keyfile: str = ""
    # the CA key (software container under var_dir unless a PKCS#11 token is configured)
    ca_pin: str = ""
    ca_pin_file: str = ""  # empty: var_dir/ca-pin (created by the first start)
    # the AES-256-GCM key of the TOTP secrets in the database; kept out of it, backed up apart
    totp_key_file: str = ""  # empty: var_dir/totp-key (created by the first start)
    # e-mail
    smtp_url: str = ""  # smtp://user:password@host:port, smtps://…, smtp+starttls://…
    mail_from: str = "bankkeys@localhost"
    # the scheduler tick (renewal notices, expiry, CRL refresh) and the mail queue
    tick_interval: float = 60.0
    # sign-in
    token_ttl_minutes: int = 60
    session_ttl_minutes: int = 30
    challenge_ttl_seconds: int = 300
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    # argon2id cost of password hashes (RFC 9106 second recommendation by default)
    argon2_memory_kib: int = 65536
    argon2_time_cost: int = 3
    cookie_secure: bool | None = None  # None: Secure unless plain HTTP on a loopback address
    max_body_bytes: int = 2 * 1024 * 1024
    threads: int = 0  # request handler threads per process; 0: 4 on SQLite, 8 on PostgreSQL
    # policy
    renewal_window_days: int = 30
    request_ttl_days: int = 30
    validity_days: int = 365
    four_eyes: bool = False
    renewal_path: str = str(RenewalPathName.OLD_KEY)
    # the bank as printed in the documents
    bank_name: str = "АО «Демо Банк»"
    bank_inn: str = "7702070139"
    bank_bic: str = "044525000"
    bank_address: str = "г. Москва, ул. Банковская, д. 1"
    # first start: create the CA and demo data when the database is empty
    demo: bool = False
    log_level: str = "info"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'bankkeys.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "https" if self.certfile else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"{scheme}://{host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        url = urlsplit(self.resolved_public_url)
        return url.scheme == "https" or not _is_loopback(url.hostname or "")

    @property
    def resolved_ca_pin_file(self) -> Path:
        return Path(self.ca_pin_file) if self.ca_pin_file else self.var_dir / "ca-pin"

    @property
    def resolved_totp_key_file(self) -> Path:
        return Path(self.totp_key_file) if self.totp_key_file else self.var_dir / "totp-key"

    @property
    def ca_container(self) -> Path:
        return self.var_dir / "ca-key"

    @property
    def crl_url(self) -> str:
        return f"{self.resolved_public_url}/ca/crl.crl"

    @property
    def ca_url(self) -> str:
        return f"{self.resolved_public_url}/ca/ca.cer"

    def policy(self) -> Policy:
        return Policy(
            renewal_window=timedelta(days=self.renewal_window_days),
            request_ttl=timedelta(days=self.request_ttl_days),
            validity=timedelta(days=self.validity_days),
            four_eyes=self.four_eyes,
            renewal_path=RenewalPathName(self.renewal_path),
        )

    def redacted(self) -> dict[str, str]:
        """Every setting as text, secrets replaced: safe to log and print."""
        out: dict[str, str] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name in SECRET_SETTINGS and value:
                value = _redact_url(value) if f.name == "smtp_url" else "***"
            out[f.name] = str(value)
        return out


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    text = str(raw).strip() if not isinstance(raw, bool | int | float) else raw
    try:
        if kind in (bool, "bool", "bool | None"):
            if isinstance(text, bool):
                return text
            low = str(text).lower()
            if low in ("1", "true", "yes", "on", "да"):
                return True
            if low in ("0", "false", "no", "off", "нет"):
                return False
            if kind == "bool | None" and low in ("", "auto"):
                return None
            raise ValueError(text)
        if kind in (int, "int"):
            return int(text)
        if kind in (float, "float"):
            return float(text)
        if kind in (Path, "Path"):
            return Path(str(text))
        return str(text)
    except ValueError:
        raise ConfigError(f"{name}: неверное значение «{raw}»") from None


def load_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults, then the file, then the environment, then ``overrides`` (command-line)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_file or env.get(ENV_CONFIG_FILE)
    kinds = {f.name: f.type for f in fields(Settings) if f.name != "extra"}
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Файл настроек не найден: {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Файл настроек {path} не разобран: {exc}") from None
        unknown = sorted(set(data) - set(kinds))
        if unknown:
            raise ConfigError(f"Неизвестные настройки в {path}: {', '.join(unknown)}")
        for key, raw in data.items():
            values[key] = _coerce(key, raw, kinds[key])
    for key, kind in kinds.items():
        raw_env = env.get(ENV_PREFIX + key.upper())
        if raw_env is not None:
            values[key] = _coerce(ENV_PREFIX + key.upper(), raw_env, kind)
    for key, raw in overrides.items():
        if raw is not None:
            values[key] = raw
    return replace(Settings(), **values)


def check(settings: Settings) -> list[str]:
    """Problems that would stop or weaken the server, in Russian; empty when all is well."""
    problems: list[str] = []
    url = settings.resolved_database_url
    if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        problems.append(f"database_url: неподдерживаемая база данных «{url.split(':', 1)[0]}»")
    if not 0 < settings.port < 65536:
        problems.append(f"port: {settings.port} вне диапазона 1–65535")
    if bool(settings.certfile) != bool(settings.keyfile):
        problems.append("certfile и keyfile задаются вместе")
    for name in ("certfile", "keyfile"):
        value = getattr(settings, name)
        if value and not Path(value).is_file():
            problems.append(f"{name}: файл не найден ({value})")
    if settings.smtp_url:
        scheme = urlsplit(settings.smtp_url).scheme
        if scheme not in ("smtp", "smtps", "smtp+starttls"):
            problems.append("smtp_url: схема должна быть smtp, smtps или smtp+starttls")
        if not urlsplit(settings.smtp_url).hostname:
            problems.append("smtp_url: не указан сервер")
    if settings.tick_interval <= 0:
        problems.append("tick_interval: должен быть больше нуля")
    if settings.argon2_memory_kib < 1024 or settings.argon2_time_cost < 1:
        problems.append("argon2: память не меньше 1024 КиБ, число проходов не меньше 1")
    if settings.lockout_threshold < 1:
        problems.append("lockout_threshold: должен быть не меньше 1")
    if settings.max_body_bytes < 16 * 1024:
        problems.append("max_body_bytes: слишком мало (нужно не меньше 16 КиБ)")
    try:
        settings.policy()
    except ValueError as exc:
        problems.append(f"политика: {exc}")
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append("public_url: нужен адрес вида https://bank.example.ru")
    key_file = settings.resolved_totp_key_file
    if key_file.exists():
        try:
            read_key_file(key_file)
        except SecretKeyError as exc:
            problems.append(f"totp_key_file: {exc}")
    if not settings.demo and not (settings.ca_pin or settings.resolved_ca_pin_file.is_file()):
        problems.append(
            "ПИН-код ключа УЦ не задан (BANKKEYS_CA_PIN или ca_pin_file): "
            "выпуск сертификатов будет недоступен"
        )
    return problems
