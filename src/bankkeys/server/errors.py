"""Bank errors as HTTP answers: one table, so every route refuses the same way."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bankkeys.bank import errors as e
from bankkeys.bank.documents import DocumentError
from bankkeys.server.auth import AccountLocked, AuthError, PasswordRejected

_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (e.NotFound, 404),
    (e.NotAllowed, 403),
    (e.InvalidTransition, 409),
    (e.OpenRequestExists, 409),
    (e.KeyReused, 409),
    (e.RequestRefused, 422),
    (e.ValidationError, 422),
    (e.CaError, 503),
    (DocumentError, 422),
    (AccountLocked, 429),
    (PasswordRejected, 422),
    (AuthError, 401),
)


class ApiError(Exception):
    """A refusal raised by the server itself (not by the bank core)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


NOT_FOUND_MESSAGE = "Не найдено"


def status_of(exc: Exception) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def body(code: str, message: str, current: str | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "current_status": current}}


async def bank_error_handler(request: Request, exc: Exception) -> JSONResponse:
    current = exc.current if isinstance(exc, e.InvalidTransition) else None
    headers = {"WWW-Authenticate": "Bearer"} if status_of(exc) == 401 else None
    return JSONResponse(
        body(type(exc).__name__, str(exc), current), status_of(exc), headers=headers
    )


async def api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(body(exc.code, str(exc)), exc.status, headers=headers)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg', '')}")
    return JSONResponse(body("RequestInvalid", "Неверный запрос: " + "; ".join(parts)), 422)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    texts = {404: "Не найдено", 405: "Метод не поддерживается", 413: "Слишком большой запрос"}
    return JSONResponse(
        body(f"Http{exc.status_code}", texts.get(exc.status_code, str(exc.detail))),
        exc.status_code,
        headers=getattr(exc, "headers", None),
    )
