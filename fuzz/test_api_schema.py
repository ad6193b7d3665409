"""Schemathesis over the whole OpenAPI schema, as each role (run by .ci/run, not by
`make test`: `scripts/fuzz_api.sh`).

Every operation gets generated requests (valid and invalid bodies, parameters and
ids) sent through Django's WSGI application with a real token of a tenant admin, an
agent and a viewer. A 5xx, a response the schema does not describe, or an undocumented
status code fails the run. Examples are derived from a fixed seed, so a run is
repeatable, and FUZZ_EXAMPLES bounds how many each operation gets.
"""

import os
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ApiToken
from conftest import make_user
from helpdesk.roles import Role

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _connections_kept_between_requests():
    """As Django's test client does: the test's transaction must outlive each request,
    so requests do not close the database connection when they finish."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(tenant_a) -> dict[str, str]:
    keys = {}
    for role in (Role.TENANT_ADMIN, Role.AGENT, Role.VIEWER):
        user = make_user(tenant_a, role, f"fuzz-{role}")
        _token, keys[role] = ApiToken.issue(user=user, max_age=timedelta(days=1))
    return keys


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.AGENT, Role.VIEWER])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api(case, role, tokens):
    case.call_and_validate(headers={"Authorization": f"Token {tokens[role]}"}, checks=CHECKS)
