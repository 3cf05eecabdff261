"""``bankkeys demo``: the bank server and the client's local UI, side by side, on the embedded
defaults (SQLite under ``var/``), with demo data and demo tokens — a newcomer's first hour.

What it prepares (idempotent: a second start reuses everything under ``var/``):

- the bank: CA, organization, signers and staff (``bankkeys.server.bootstrap``);
- the client's workstation home ``var/demo/client-home``, connected to the bank (CA pinned);
- tokens: the director's key container (renewal window), an empty "flash drive" container with
  factory PINs for the accountant's first key, and, when SoftHSM2 is installed, a PKCS#11 slot
  with the Rutoken default PINs (12345678 / 87654321) standing in for a new smart key.

Both servers run in threads; the main thread waits for Ctrl-C (SIGINT) or SIGTERM and then stops
both, so the process ends without a traceback.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from bankkeys.client.home import ClientHome
from bankkeys.client.service import ClientService
from bankkeys.client.web.server import prepare as prepare_ui
from bankkeys.server import bootstrap
from bankkeys.server.config import Settings, check
from bankkeys.server.secrets_at_rest import SecretKeyError
from bankkeys.server.totp_at_rest import TotpSecretsError
from bankkeys.tokens import SoftwareContainer
from bankkeys.tokens.policy import DEFAULT_ADMIN_PIN, DEFAULT_USER_PIN

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
SOFTHSM_LABEL = "Смарт-ключ демо"  # at most 32 bytes of UTF-8
START_TIMEOUT = 30.0


class DemoError(Exception):
    """The demo could not start; the message says why, in Russian."""


@dataclass(frozen=True)
class DemoTokens:
    director: Path
    flash_drive: Path
    softhsm: str | None  # the SOFTHSM2_CONF file, when a SoftHSM2 slot was prepared


def demo_dir(settings: Settings) -> Path:
    return settings.var_dir / "demo"


def _flash_drive(settings: Settings) -> Path:
    folder = demo_dir(settings) / "flash-drive" / "KEYS.000"
    if not folder.is_dir():
        SoftwareContainer.create(folder, "Флешка (демо)").close()
    return folder


def _softhsm(settings: Settings) -> str | None:
    """A SoftHSM2 token with the factory PINs of a new Rutoken, if SoftHSM2 is installed."""
    if shutil.which("softhsm2-util") is None or not SOFTHSM_MODULE.exists():
        return None
    root = demo_dir(settings) / "softhsm"
    conf = root / "softhsm2.conf"
    tokens = root / "tokens"
    if not conf.is_file():
        tokens.mkdir(parents=True, exist_ok=True)
        conf.write_text(
            f"directories.tokendir = {tokens.resolve()}\n"
            "objectstore.backend = file\nlog.level = ERROR\n",
            encoding="utf-8",
        )
    os.environ["SOFTHSM2_CONF"] = str(conf.resolve())
    if not any(tokens.iterdir()):
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["softhsm2-util", "--init-token", "--free", "--label", SOFTHSM_LABEL,  # noqa: S607
             "--pin", DEFAULT_USER_PIN, "--so-pin", DEFAULT_ADMIN_PIN],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            return None
    return str(conf.resolve())


def prepare_tokens(settings: Settings) -> DemoTokens:
    return DemoTokens(
        director=demo_dir(settings) / "director-token",
        flash_drive=_flash_drive(settings),
        softhsm=_softhsm(settings),
    )


def prepare_client(home: ClientHome, bank_url: str, tokens: DemoTokens) -> None:
    """Connect the workstation to the bank (pinning its CA) and show it the demo tokens."""
    ClientService(home).connect(bank_url)
    for folder in (tokens.director, tokens.flash_drive):
        if folder.is_dir():
            home.add_container(folder)
    if tokens.softhsm is not None:
        config = home.load()
        if config.pkcs11_module != str(SOFTHSM_MODULE):
            config.pkcs11_module = str(SOFTHSM_MODULE)
            home.save(config)


def _thread(server: uvicorn.Server, name: str) -> threading.Thread:
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DemoError(f"{name}: сервер не запустился (порт занят?)")
        time.sleep(0.05)
    return thread


def guide(bank_url: str, ui_url: str, credentials: str, tokens: DemoTokens) -> str:
    """What to click: printed once both servers answer."""
    lines = [
        "",
        "bankkeys — демонстрация запущена",
        "",
        f"  1. Рабочее место клиента (откройте в браузере):  {ui_url}",
        f"  2. Консоль оператора банка:                      {bank_url}/console/",
        "",
        credentials.rstrip(),
        "",
        "  Ключевые носители демо-клиента (рабочее место их уже видит):",
        f"    {tokens.director}  — ключ директора (Петров П. П.)",
        f"    {tokens.flash_drive}  — пустая «флешка» для первого ключа бухгалтера:",
        f"        заводские ПИН-коды {DEFAULT_USER_PIN} / {DEFAULT_ADMIN_PIN}, "
        "система попросит сменить их",
    ]
    if tokens.softhsm is not None:
        lines += [
            f"    SoftHSM2 «{SOFTHSM_LABEL}» — смарт-ключ PKCS#11 с заводскими ПИН-кодами "
            f"{DEFAULT_USER_PIN} / {DEFAULT_ADMIN_PIN}",
        ]
    lines += [
        "",
        "  Одноразовый код (TOTP) для входа: приложение-аутентификатор с секретом выше, или",
        f"    .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{bootstrap.DEMO_TOTP_SEED}')"
        '.now())"',
        "",
        "  Путь за пять минут: рабочее место, director → «Создать запрос на генерацию» →",
        "  ПИН-код → «Принят банком»; консоль, operator → запрос → «Документы получены» →",
        "  «Одобрить»; снова рабочее место → «Получить сертификат».",
        "",
        "  Остановить: Ctrl-C",
        "",
    ]
    return "\n".join(lines)


def _say(text: str) -> None:
    # Flushed: written to a file, a pipe or a service's journal, stdout is block-buffered, and
    # the guide (the addresses to open) would wait there until the demo stops.
    print(text, flush=True)


def run(settings: Settings, *, ui_port: int = 0, echo: Callable[[str], None] = _say) -> None:
    """Start both servers, print the guide, wait for Ctrl-C, stop both."""
    from bankkeys.server.app import create_app
    from bankkeys.server.context import build_context
    from bankkeys.server.logs import configure

    say = echo
    problems = [p for p in check(settings) if "ПИН-код ключа УЦ" not in p]
    if problems:
        raise DemoError("; ".join(problems))
    configure(settings.log_level)
    tokens = prepare_tokens(settings)  # SOFTHSM2_CONF before anything loads the module
    try:
        ctx = build_context(settings)
    except (SecretKeyError, TotpSecretsError) as exc:  # the key file of the sealed TOTP secrets
        raise DemoError(f"ключ секретов TOTP: {exc}") from None
    credentials = bootstrap.prepare(ctx, demo=True) or ""
    bank_app = create_app(settings, context=ctx)
    bank = uvicorn.Server(
        uvicorn.Config(
            bank_app, host=settings.host, port=settings.port, log_config=None,
            access_log=False, server_header=False,
        )
    )  # fmt: skip
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    threads: list[tuple[uvicorn.Server, threading.Thread]] = []
    try:
        threads.append((bank, _thread(bank, "Сервер банка")))
        bank_url = settings.resolved_public_url
        home = ClientHome(demo_dir(settings) / "client-home")
        prepare_client(home, bank_url, tokens)
        _secret, ui_url, ui = prepare_ui(ClientService(home), ui_port)
        threads.append((ui, _thread(ui, "Рабочее место клиента")))
        say(guide(bank_url, ui_url, credentials, tokens))
        while not stop.wait(0.5):
            if any(not t.is_alive() for _, t in threads):
                raise DemoError("один из серверов остановился")
    finally:
        for server, _ in threads:
            server.should_exit = True
        for _, thread in threads:
            thread.join(timeout=10)
        ctx.dispose()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("Демонстрация остановлена.")
