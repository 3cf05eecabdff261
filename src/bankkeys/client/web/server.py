"""``bankkeys client ui``: the local UI on 127.0.0.1 with a fresh launch secret."""

from __future__ import annotations

import socket
import webbrowser
from collections.abc import Callable

import uvicorn

from bankkeys.client.home import ClientHome
from bankkeys.client.service import ClientService
from bankkeys.client.web.app import create_app
from bankkeys.client.web.security import LaunchSecret

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def prepare(service: ClientService, port: int) -> tuple[LaunchSecret, str, uvicorn.Server]:
    """The app, its secret, the launch URL and an unstarted server (tests run it in a thread)."""
    port = port or free_port()
    secret = LaunchSecret(allowed_hosts={f"{HOST}:{port}", f"localhost:{port}"})
    app = create_app(service, secret)
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False)
    url = f"http://{HOST}:{port}/launch?key={secret.launch_key}"
    return secret, url, uvicorn.Server(config)


def serve(
    home: ClientHome, *, port: int = 0, open_browser: bool = True, echo: Callable[[str], None]
) -> None:
    _secret, url, server = prepare(ClientService(home), port)
    echo("Рабочее место клиента запущено. Откройте в браузере (ссылка действует до выхода):")
    echo(url)
    if open_browser:
        webbrowser.open(url)
    server.run()
