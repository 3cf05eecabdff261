"""schemathesis against the served OpenAPI schema, a bounded run: no 5xx, every response matches
the schema (status codes declared, bodies valid, content types as documented)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from server_support import RunningServer, db_kind, server, server_factory, templates

__all__ = ["db_kind", "server", "server_factory", "templates"]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_schemathesis_bounded_run(server: RunningServer) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
    token = server.sign_in("director")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    statuses: list[int] = []

    def exercise(operation: Any) -> None:
        name = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy(), authorised=st.booleans())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case, authorised: bool) -> None:
            headers = {"Authorization": f"Bearer {token}"} if authorised else {}
            response = case.call(base_url=server.url, headers=headers)
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except AssertionError as exc:  # schemathesis reports failed checks as AssertionError
            failures.append(f"{name}: {exc}"[:800])

    for operation in operations:
        if operation.path in ("/api/v1/auth/logout", "/api/v1/auth/password"):
            continue  # would end the session the run uses (tested in test_auth.py)
        exercise(operation)
    assert not failures, "\n\n".join(failures)
    # The run reached the handlers, not only the sign-in wall.
    assert len(statuses) > 3 * len(operations)
    assert {200, 401, 404, 422} <= set(statuses), sorted(set(statuses))
