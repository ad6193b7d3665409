"""Test helpers: API responses against the OpenAPI schema, Server-Sent Events, free ports."""

import functools
import json
import socket

import jsonschema

from helpdesk.api.schema import TenantAwareSchemaGenerator


@functools.cache
def openapi_schema(urlconf: str | None = None) -> dict:
    schema = TenantAwareSchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    return json.loads(json.dumps(schema, default=str))


def assert_matches_schema(response, method: str, path: str, urlconf: str | None = None) -> None:
    """Validate `response` against the documented schema of `method path`.

    `path` is the template as in the schema, e.g. "/api/v1/workorders/{id}/".
    Every status code the server can send must be documented for the operation.
    """
    schema = openapi_schema(urlconf)
    operation = schema["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path} does not document {status}"
    documented = operation["responses"][status]
    if status == "204":
        assert not response.content
        return
    body_schema = documented["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator(
        {**body_schema, "components": schema["components"]},
        format_checker=jsonschema.FormatChecker(),
    )
    validator.validate(response.json())


def sse_events(body: str) -> list[tuple[str, dict]]:
    """(event name, JSON data) of each event of a Server-Sent Events body."""
    events = []
    for block in body.strip().split("\n\n"):
        name, data = block.split("\n", 1)
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
