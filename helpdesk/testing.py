"""Test helpers: validate real API responses against the generated OpenAPI schema."""

import functools
import json

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
