"""OpenAPI: every /api/v1/ operation documents the envelope and the error shape."""

from copy import deepcopy

from drf_spectacular.generators import SchemaGenerator

from helpdesk.tenancy import describing_schema

ERROR_RESPONSES = {
    "400": "Invalid input (error.fields names each bad field).",
    "401": "Not authenticated.",
    "403": "Permission denied.",
    "404": "Not found (also for another tenant's objects).",
    "405": "Method not allowed.",
    "406": "None of the accepted media types can be produced.",
    "413": "The request body is too large.",
    "415": "Unsupported media type of the request body.",
    "429": "Too many requests (Retry-After tells when to try again).",
    "500": "Internal server error.",
    "503": "The database or the cache is temporarily unavailable (Retry-After tells when "
    "to try again).",
}

META_SCHEMA = {
    "type": "object",
    "properties": {
        "pagination": {
            "type": "object",
            "required": ["page", "page_size", "count", "pages", "next", "previous"],
            "properties": {
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "count": {"type": "integer"},
                "pages": {"type": "integer"},
                "next": {"type": ["string", "null"]},
                "previous": {"type": ["string", "null"]},
            },
        }
    },
    "additionalProperties": True,
}

ERROR_ENVELOPE_SCHEMA = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"const": False},
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid", "not_found"]},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
        },
    },
}


def _success_envelope(data_schema: dict) -> dict:
    return {
        "type": "object",
        "required": ["success", "data", "meta"],
        "properties": {
            "success": {"const": True},
            "data": data_schema,
            "meta": {"$ref": "#/components/schemas/Meta"},
        },
    }


def _error_content() -> dict:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}


def envelope_postprocessing_hook(result: dict, generator, request, public) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Meta"] = deepcopy(META_SCHEMA)
    schemas["ErrorEnvelope"] = deepcopy(ERROR_ENVELOPE_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code == "204":
                    continue
                if int(code) >= 400:
                    response["content"] = _error_content()
                    continue
                content = response.setdefault("content", {})
                body = content.get("application/json")
                if body is None and not content:
                    content["application/json"] = {"schema": _success_envelope({"type": "null"})}
                elif body is not None:
                    body["schema"] = _success_envelope(body.get("schema", {}))
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code, {"description": description, "content": _error_content()}
                )
    return result


class TenantAwareSchemaGenerator(SchemaGenerator):
    def get_schema(self, request=None, public=False):
        with describing_schema():
            return super().get_schema(request=request, public=public)
