"""The HTTP client of the bank's ``/api/v1``: one method per endpoint, typed answers, typed errors.

Network failures become :class:`BankUnreachable`; the bank's ``{"error": {...}}`` answers become
:class:`BankRefused` with the bank's Russian message. The proxy comes from the option or, as
httpx does, from ``HTTPS_PROXY``/``HTTP_PROXY`` (seed 004: "Работа через PROXY-сервер").
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bankkeys.client import models as m
from bankkeys.client.errors import BankRefused, BankUnreachable, NotSignedIn

API = "/api/v1"
T = TypeVar("T", bound=BaseModel)


class BankApi:
    def __init__(
        self,
        url: str,
        *,
        access_token: str | None = None,
        proxy: str | None = None,
        tls_ca_file: str | None = None,
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.access_token = access_token
        verify: Any = tls_ca_file if tls_ca_file else True
        self._http = httpx.Client(
            base_url=self.url,
            proxy=proxy,
            verify=verify,
            timeout=timeout,
            transport=transport,
            trust_env=proxy is None,
            headers={"User-Agent": "bankkeys-client"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BankApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- plumbing

    def _send(self, method: str, path: str, *, auth: bool = True, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if auth:
            if not self.access_token:
                raise NotSignedIn()
            headers["Authorization"] = f"Bearer {self.access_token}"
        try:
            response = self._http.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise BankUnreachable() from exc
        if response.status_code >= 400:
            raise _refusal(response)
        return response

    def call(
        self,
        method: Literal["GET", "POST"],
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A signed-in GET or POST (JSON body, query parameters) for callers that read the answer
        themselves (payments); refusals and network failures are the same typed errors."""
        return self._send(method, path, json=json, params=params)

    def _json(self, model: type[T], method: str, path: str, **kw: Any) -> T:
        response = self._send(method, path, **kw)
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise BankRefused(
                response.status_code, "BadAnswer", "Сервер банка прислал непонятный ответ"
            ) from exc

    def _list(self, model: type[T], path: str) -> list[T]:
        response = self._send("GET", path)
        try:
            return [model.model_validate(item) for item in response.json()]
        except (ValueError, ValidationError, TypeError) as exc:
            raise BankRefused(
                response.status_code, "BadAnswer", "Сервер банка прислал непонятный ответ"
            ) from exc

    # ----------------------------------------------------------------- sign-in

    def login(self, login: str, password: str) -> m.LoginChallenge:
        body = {"login": login, "password": password}
        return self._json(m.LoginChallenge, "POST", f"{API}/auth/login", json=body, auth=False)

    def second_factor(self, challenge: str, code: str) -> m.TokenResponse:
        body = {"challenge": challenge, "code": code}
        answer = self._json(
            m.TokenResponse, "POST", f"{API}/auth/second-factor", json=body, auth=False
        )
        self.access_token = answer.access_token
        return answer

    def logout(self) -> None:
        self._send("POST", f"{API}/auth/logout")

    # ----------------------------------------------------------------- profiles and requests

    def profiles(self) -> list[m.Profile]:
        return self._list(m.Profile, f"{API}/profiles")

    def profile(self, signer_id: int) -> m.Profile:
        return self._json(m.Profile, "GET", f"{API}/profiles/{signer_id}")

    def subject_template(self, signer_id: int) -> m.SubjectTemplate:
        return self._json(m.SubjectTemplate, "GET", f"{API}/profiles/{signer_id}/subject-template")

    def submit(
        self, signer_id: int, request_der: bytes, activation_code: str | None = None
    ) -> m.RekeyRequest:
        body: dict[str, Any] = {"request": base64.b64encode(request_der).decode("ascii")}
        if activation_code is not None:
            body["activation_code"] = activation_code
        return self._json(m.RekeyRequest, "POST", f"{API}/profiles/{signer_id}/requests", json=body)

    def requests(self) -> list[m.RekeyRequest]:
        return self._list(m.RekeyRequest, f"{API}/requests")

    def request(self, request_id: int) -> m.RekeyRequest:
        return self._json(m.RekeyRequest, "GET", f"{API}/requests/{request_id}")

    def document_pdf(self, request_id: int, kind: str) -> bytes:
        return self._send("GET", f"{API}/requests/{request_id}/documents/{kind}.pdf").content

    def mark_printed(self, request_id: int, kind: str, copies: int) -> m.RekeyRequest:
        return self._json(
            m.RekeyRequest,
            "POST",
            f"{API}/requests/{request_id}/documents/{kind}/printed",
            json={"copies": copies},
        )

    def sign_act(self, request_id: int, signature_der: bytes) -> m.RekeyRequest:
        body = {"signature": base64.b64encode(signature_der).decode("ascii")}
        return self._json(
            m.RekeyRequest,
            "POST",
            f"{API}/requests/{request_id}/documents/acceptance_act/signature",
            json=body,
        )

    def certificate(self, request_id: int) -> m.IssuedCertificate:
        return self._json(m.IssuedCertificate, "GET", f"{API}/requests/{request_id}/certificate")

    def confirm_installation(
        self, request_id: int, token_model: str | None = None, token_serial: str | None = None
    ) -> m.RekeyRequest:
        """Confirm the certificate is on the token; with the token's model and serial the bank
        can render the «Акт приема-передачи»."""
        body = (
            {"token_model": token_model, "token_serial": token_serial}
            if token_model is not None and token_serial is not None
            else None
        )
        return self._json(
            m.RekeyRequest,
            "POST",
            f"{API}/requests/{request_id}/confirm-installation",
            json=body,
        )

    def cancel(self, request_id: int) -> m.RekeyRequest:
        return self._json(m.RekeyRequest, "POST", f"{API}/requests/{request_id}/cancel")

    def ca_chain(self) -> m.Chain:
        return self._json(m.Chain, "GET", f"{API}/ca/chain", auth=False)


def _refusal(response: httpx.Response) -> BankRefused | NotSignedIn:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        current = error.get("current_status")
    except (ValueError, KeyError, TypeError):
        code, message, current = (
            "HttpError",
            f"Сервер банка ответил ошибкой {response.status_code}",
            None,
        )
    if response.status_code == 401 and code == "NotAuthenticated":
        return NotSignedIn(message)
    return BankRefused(response.status_code, code, message, current)
