"""openapi.yaml, generated from the application so that it always describes what medama_py serves.

`python -m medama_py.openapi > openapi.yaml` (make openapi) writes the committed copy; a test checks that it
matches the application.
"""

from __future__ import annotations

import copy
import sys
from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from medama_py.api.stats import document_stats_parameters
from medama_py.api.umami_collect import document_umami_collect
from medama_py.ingest.hit import Hit

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["build_openapi", "render_openapi_yaml"]

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}
_STATUS_TEXT = {
    "400": "Bad request: malformed parameters or body",
    "401": "Unauthorised: missing or invalid session",
    "403": "Forbidden: demo mode",
    "404": "Not found",
    "409": "Conflict",
    "413": "Request body too large",
    "415": "Unsupported Content-Type",
    "429": "Too many requests",
    "500": "Internal error",
}


def _error_response(status: str) -> dict[str, Any]:
    return {
        "description": _STATUS_TEXT[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _errors_for(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["400", "500"]
    if operation.get("security"):
        statuses.append("401")
    if method in ("post", "patch", "put"):
        statuses += ["413", "415"]
    if method in ("post", "patch", "delete") and operation.get("security"):
        statuses += ["403", "409"]
    if "{hostname}" in path or path.startswith(("/api/user", "/api/event/hit")):
        statuses.append("404")
    if path == "/api/auth/login":
        statuses += ["401", "429"]
    return sorted(set(statuses))


def build_openapi(app: Litestar) -> dict[str, Any]:
    """The application's OpenAPI document with the error envelope, cookie security and extensions added."""
    document: dict[str, Any] = app.openapi_schema.to_schema()
    document.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in _errors_for(path, method, operation):
                operation["responses"][status] = _error_response(status)
    for hook in _HOOKS:
        hook(document)
    return document


def _array_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [part for part in [schema, *schema.get("oneOf", [])] if part.get("type") == "array"]


def document_admin_api(document: dict[str, Any]) -> None:
    """Say what the admin handlers really do where Litestar cannot infer it (Medama's contract).

    Tenant settings take unique features and unique IPv4 addresses; `summary` is a boolean (Go's ParseBool
    spellings); logout needs the cookie; login (200) and every 204 answer with an empty body, so they document
    no content.
    """
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("TenantSettingsGet", "TenantSettingsPatch"):
        properties = schemas.get(name, {}).get("properties", {})
        for array in _array_schemas(properties.get("script_type", {})):
            array["uniqueItems"] = True
        for array in _array_schemas(properties.get("blockedIPs", {})):
            array["uniqueItems"] = True
            array["items"] = {"type": "string", "format": "ipv4"}
    paths = document.get("paths", {})
    for parameter in paths.get("/api/websites", {}).get("get", {}).get("parameters", []):
        if parameter.get("name") == "summary":
            parameter["schema"] = {"type": "boolean", "default": False}
    for parameter in paths.get("/api/auth/logout", {}).get("post", {}).get("parameters", []):
        if parameter.get("name") == "_me_sess":  # logout without the cookie is a 400, as in Medama
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "minLength": 1}
    login = paths.get("/api/auth/login", {}).get("post", {}).get("responses", {}).get("200")
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict) and "204" in operation.get("responses", {}):
                operation["responses"]["204"].pop("content", None)
    if login is not None:
        login.pop("content", None)


def document_event_hit(document: dict[str, Any]) -> None:
    """The tracker payloads of POST /api/event/hit, read from the raw body, so Litestar cannot see them.

    The same schema is offered as `text/plain`, which is what `fetch(..., {mode: 'no-cors'})` and
    `sendBeacon` send (DECISIONS S2).
    """
    hit = document.get("paths", {}).get("/api/event/hit", {}).get("post")
    if hit is None:
        return
    (schema,), components = msgspec.json.schema_components([Hit], ref_template="#/components/schemas/{name}")
    for component in components.values():
        tag = component.get("properties", {}).get("e")
        if tag is not None:  # msgspec gives the tag an enum only; say it is a string, as the reference does
            tag["type"] = "string"
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    hit["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": schema}, "text/plain": {"schema": copy.deepcopy(schema)}},
    }


# Each feature documents here what Litestar cannot infer from its handlers.
_HOOKS: list[Any] = [document_admin_api, document_event_hit, document_stats_parameters, document_umami_collect]


def render_openapi_yaml(app: Litestar) -> str:
    """The document as YAML text, keys in document order."""
    text: str = yaml.safe_dump(build_openapi(app), sort_keys=False, allow_unicode=True, width=120)
    return text


def main() -> None:
    """Print openapi.yaml for the default configuration."""
    from medama_py.app import create_app
    from medama_py.config import Config

    sys.stdout.write(render_openapi_yaml(create_app(Config())))


if __name__ == "__main__":
    main()
