"""The FastAPI application: routers, error handlers, middleware, the background scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException as StarletteHTTPException

import bankkeys
from bankkeys.bank.documents import DocumentError
from bankkeys.bank.errors import BankError
from bankkeys.bank.workflow import utcnow
from bankkeys.server import errors, metrics, public
from bankkeys.server.api import payments as api_payments
from bankkeys.server.api import routes as api_routes
from bankkeys.server.auth import AuthError
from bankkeys.server.config import Settings
from bankkeys.server.context import ServerContext, build_context, handler_threads
from bankkeys.server.middleware import ObservabilityMiddleware, SecurityMiddleware
from bankkeys.server.scheduler import Scheduler

DESCRIPTION = """\
The bank's side of bankkeys: the client API (sign in with password and TOTP, profiles and their
derived statuses, re-key requests, printable documents, certificates), the public CA certificate
and CRL. Errors are `{"error": {"code", "message", "current_status"}}` with Russian messages.
See docs/api.md for the flow.
"""


def freeze_startup_objects() -> None:
    """For a serving process, once its app is built: what start-up made (modules, the app, ORM
    mappings: ~200k objects) lives as long as the process, so the garbage collector is told to
    leave it alone. Otherwise every full collection walks it — 70-80 ms with every request
    thread stopped, the tail of the latency."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    context: ServerContext | None = None,
    run_scheduler: bool = True,
) -> FastAPI:
    ctx = context or build_context(settings, clock=clock)
    # Ours replaces uvicorn's access log, which prints query strings (they may carry secrets).
    logging.getLogger("uvicorn.access").disabled = True
    scheduler = Scheduler(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threads = handler_threads(settings, ctx.db.dialect)
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        task = asyncio.create_task(scheduler.run_forever()) if run_scheduler else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            ctx.dispose()

    app = FastAPI(
        title="bankkeys bank API",
        version=bankkeys.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.ctx = ctx
    app.state.scheduler = scheduler
    db_registry = CollectorRegistry(auto_describe=False)
    db_registry.register(metrics.BankCollector(ctx.db, ctx.clock))

    app.add_exception_handler(BankError, errors.bank_error_handler)
    app.add_exception_handler(DocumentError, errors.bank_error_handler)
    app.add_exception_handler(AuthError, errors.bank_error_handler)
    app.add_exception_handler(errors.ApiError, errors.api_error_handler)
    app.add_exception_handler(RequestValidationError, errors.validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, errors.http_error_handler)

    app.include_router(api_routes.router)
    app.include_router(api_payments.router)
    app.include_router(public.router)
    from bankkeys.server.console import clients as console_clients
    from bankkeys.server.console import routes as console_routes

    app.include_router(console_routes.router)
    app.include_router(console_clients.router)
    console_routes.install_handlers(app)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(request: Request) -> Response:
        return Response(metrics.render(db_registry), media_type=metrics.CONTENT_TYPE)

    app.add_middleware(ObservabilityMiddleware)
    app.add_middleware(
        SecurityMiddleware,
        max_body_bytes=settings.max_body_bytes,
        hsts=settings.resolved_public_url.startswith("https://"),
    )
    return app
