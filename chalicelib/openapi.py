"""OpenAPI 3 document built from Chalice's route table and the routes' pydantic models."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice import Chalice

from chalicelib.http import Spec, resolve

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
    }},
}
BINARY = {"type": "string", "format": "binary"}
_ERROR_TEXT = {
    400: "Malformed request (JSON, query string or cursor)",
    401: "Missing or invalid bearer token",
    403: "The caller's role may not do this",
    404: "Unknown id",
    409: "Conflicting concurrent edit",
    413: "Body too large",
    415: "Body is not of the route's content type (application/json unless the route names another)",
    422: "Body fails validation",
}


_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 302: "Found: follow Location"}


class _Builder:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def ref(self, model_ref: str) -> dict[str, str]:
        model = resolve(model_ref)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def query_parameters(self, model_ref: str) -> list[dict[str, Any]]:
        schema = resolve(model_ref).model_json_schema()
        required = set(schema.get("required", []))
        return [{"name": name, "in": "query", "required": name in required, "schema": prop}
                for name, prop in schema["properties"].items()]

    def operation(self, spec: Spec, name: str, doc: str | None, path_params: list[str]) -> dict[str, Any]:
        op: dict[str, Any] = {"operationId": name, "summary": spec.summary, "tags": list(spec.tags)}
        if doc:
            op["description"] = doc.strip()
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path_params]
        if spec.query:
            params += self.query_parameters(spec.query)
        if params:
            op["parameters"] = params
        errors = set(spec.errors) | {401}  # a token that is present but bad is a 401 on every route
        if spec.body:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": self.ref(spec.body)}}}
            errors |= {400, 413, 415, 422}
        elif spec.content_types != ("application/json",):
            op["requestBody"] = {"required": True, "content": {t: {"schema": BINARY} for t in spec.content_types}}
            errors |= {400, 413, 415, 422}
        if spec.query:
            errors.add(400)
        if path_params:
            errors.add(404)
        if spec.roles is None:
            op["security"] = [{}, {"bearer": []}]
        else:
            op["security"] = [{"bearer": []}]
            op["x-roles"] = list(spec.roles)
            errors.add(403)
        ok: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
        if spec.status in (201, 302):
            ok["headers"] = {"Location": {"required": True, "schema": {"type": "string"},
                                          "description": "the new resource" if spec.status == 201 else "where to go"}}
        if spec.response:
            ok["content"] = {"application/json": {"schema": self.ref(spec.response)}}
            if spec.produces:  # the same answer in another format (e.g. ?format=xlsx)
                ok["content"][spec.produces] = {"schema": BINARY}
        elif spec.produces:
            ok["content"] = {spec.produces: {"schema": BINARY}}
        responses: dict[str, Any] = {str(spec.status): ok}
        for status, content_type in ([spec.alternative] if spec.alternative else []) + list(spec.alternatives):
            if status == spec.status and content_type:  # another type for the same status (csv or xlsx)
                ok.setdefault("content", {})[content_type] = {"schema": BINARY}
                continue
            responses[str(status)] = {"description": _STATUS_TEXT.get(status, "OK"),
                                      **({"content": {content_type: {"schema": {"type": "object"} if content_type
                                                                     == "application/json" else BINARY}}}
                                         if content_type else {})}
            if status == 302:
                responses[str(status)]["headers"] = {"Location": {"required": True, "schema": {"type": "string"},
                                                                  "description": "where to go"}}
        for code in sorted(errors):
            responses[str(code)] = {"description": _ERROR_TEXT.get(code, "Error"), "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        op["responses"] = responses
        return op


@lru_cache(maxsize=1)
def _document(app: Chalice) -> dict[str, Any]:
    builder = _Builder()
    paths: dict[str, Any] = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in methods.items():
            spec: Spec | None = getattr(entry.view_function, "kadr_spec", None)
            if spec is None:
                continue
            paths.setdefault(path, {})[method.lower()] = builder.operation(
                spec, entry.view_function.__name__, entry.view_function.__doc__, entry.view_args)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kadr API", "version": "1.0.0",
                 "description": "Pages CMS with exact view counts; errors are {\"error\": {code, message, details?}}."},
        "paths": paths,
        "components": {"schemas": builder.schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


def document(app: Chalice, base_url: str) -> dict[str, Any]:
    return {**_document(app), "servers": [{"url": base_url}]}


# The viewers' assets ship with the app (chalicelib/static, from npm: swagger-ui-dist 5.17.14,
# redoc 2.1.5, licenses beside them): nothing the app serves loads from a CDN. The pages name
# them relatively, so they resolve under API Gateway's stage path too. Two outside fetches are
# switched off: Swagger UI's validator badge (validatorUrl: null) and ReDoc's sidebar logo, whose
# cdn.redoc.ly URL in redoc.standalone.js is replaced by an empty inline SVG (the one local edit).
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}

SWAGGER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Kadr API</title>
<link rel="stylesheet" href="docs-assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs-assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", validatorUrl: null});</script>
</body></html>"""

REDOC_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Kadr API</title></head>
<body><redoc spec-url="openapi.json"></redoc>
<script src="docs-assets/redoc.standalone.js"></script>
</body></html>"""


def asset(name: str) -> tuple[str, str] | None:
    """A viewer asset's text and content type, or None for any other name (no path from input)."""
    from pathlib import Path

    if name not in ASSETS:
        return None
    return (Path(__file__).with_name("static") / name).read_text("utf-8"), ASSETS[name]
