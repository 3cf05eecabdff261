"""The ASGI factory for ``uvicorn --factory`` and for ``bankkeys serve --workers N``: settings
come from the environment (and ``BANKKEYS_CONFIG``), as in every worker process."""

from __future__ import annotations

from fastapi import FastAPI

from bankkeys.server.app import create_app, freeze_startup_objects
from bankkeys.server.config import load_settings
from bankkeys.server.context import build_context
from bankkeys.server.logs import configure


def create() -> FastAPI:
    settings = load_settings()
    configure(settings.log_level)
    # The parent process migrated and prepared the database before starting the workers.
    app = create_app(settings, context=build_context(settings, migrate=False))
    freeze_startup_objects()
    return app
