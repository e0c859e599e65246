"""openapi.yaml, generated from the application so that it always describes what medama_py serves.

Litestar infers most of the document from the handlers; the hooks below add what it cannot see: the error
envelope on every operation, the admin API's constraints, the tracker payloads read from a raw body and
the stats query parameters decoded by hand. The application serves the result at GET /openapi.yaml, and
`make openapi` (scripts/openapi.py) writes the committed copy, which a test compares with the application.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import msgspec
import yaml
from litestar import Response, Router, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from medama_py.api.accounts import document_accounts
from medama_py.api.deps import AnyRequest
from medama_py.api.umami_collect import document_umami_collect
from medama_py.api.umami_read import document_umami_api
from medama_py.errors import NotFound
from medama_py.ingest.hit import Hit
from medama_py.stats import reports
from medama_py.version import VERSION

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

__all__ = ["build_openapi", "openapi_config", "render_openapi_yaml", "route_handlers"]

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
    "403": "Forbidden: demo mode, or a viewer asking for more than reading its websites (docs/accounts.md)",
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
    if operation.get("security") and not path.startswith("/api/website/"):
        statuses.append("403")  # a viewer's request beyond its own account and stats
    if path.startswith("/api/share/"):
        statuses += ["401", "404", "429"]  # wrong password, unknown link, too many wrong passwords
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
    `sendBeacon` send (docs/compatibility.md#hit-bodies).
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


# ---- the stats query parameters, which the handlers decode themselves

_FILTER_DESCRIPTIONS = {
    "path": "Path of the page.",
    "referrer": "Referrer host or referrer group (either matches).",
    "utm_source": "UTM source of the page hit.",
    "utm_medium": "UTM medium of the page hit.",
    "utm_campaign": "UTM campaign of the page hit.",
    "browser": "Browser name.",
    "os": "Operating system name.",
    "device": "Device type.",
    "country": "Country name.",
    "language": "Language name or dialect (either matches).",
    "prop_name": "Name of a custom property of the page view's events.",
    "prop_value": "Value of a custom property of the page view's events.",
}
_OPERATOR_DESCRIPTIONS = {
    "eq": "Equal to (case-insensitive; % and _ are literal).",
    "neq": "Not equal to.",
    "contains": "Contains.",
    "not_contains": "Does not contain.",
    "starts_with": "Starts with.",
    "not_starts_with": "Does not start with.",
    "ends_with": "Ends with.",
    "not_ends_with": "Does not end with.",
    "in": "Equal to one of a comma-separated list.",
    "not_in": "Equal to none of a comma-separated list.",
}
_PERIOD = "Period {} (inclusive), an RFC 3339 date-time such as 2024-06-01T00:00:00Z; fractions are truncated."
_SCALARS: dict[str, dict[str, Any]] = {
    "start": {"description": _PERIOD.format("start"), "schema": {"type": "string", "format": "date-time"}},
    "end": {"description": _PERIOD.format("end"), "schema": {"type": "string", "format": "date-time"}},
    "previous": {
        "description": "Also return the previous period of the same length (needs start and end).",
        "schema": {"type": "boolean", "default": False},
    },
    "interval": {
        "description": "Return a zero-filled series of buckets of this size (needs start and end).",
        "schema": {"type": "string", "enum": ["minute", "hour", "day", "week", "month"]},
    },
    "summary": {"description": "Return the short item shape.", "schema": {"type": "boolean", "default": False}},
    "grouped": {
        "description": "Group referrer hosts by referrer group.",
        "schema": {"type": "boolean", "default": True},
    },
    "locale": {
        "description": "Return language dialects instead of base languages.",
        "schema": {"type": "boolean", "default": False},
    },
    "limit": {
        "description": "Return at most this many items.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 5000},
    },
    "offset": {"description": "Skip this many items.", "schema": {"type": "integer", "minimum": 0, "maximum": 5000}},
}


def _stats_parameters(report: str) -> list[dict[str, Any]]:
    accepts = reports.REPORTS[report].accepts
    names = ["start", "end", *(n for n in _SCALARS if n in accepts)]
    # Deep copies: shared dicts would come out of the YAML dump as anchors and aliases.
    params = [{"name": n, "in": "query", "required": False, **copy.deepcopy(_SCALARS[n])} for n in names]
    params.extend(
        {
            "name": field,
            "in": "query",
            "required": False,
            "description": text,
            "style": "deepObject",
            "explode": True,
            "allowReserved": True,
            "schema": {"$ref": "#/components/schemas/FilterString"},
        }
        for field, text in _FILTER_DESCRIPTIONS.items()
    )
    return params


def document_stats_parameters(document: dict[str, Any]) -> None:
    """openapi.yaml hook: add the stats query parameters (deepObject filters) the handlers decode themselves."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["FilterString"] = {
        "type": "object",
        "additionalProperties": False,  # an unknown operator is a 400, never silently ignored
        "properties": {op: {"type": "string", "description": text} for op, text in _OPERATOR_DESCRIPTIONS.items()},
    }
    # A dimension share is 0/0 = NaN, written as null, when the group's rows are all repeat visits and so
    # are all other rows (docs/stats.md#metrics); the other shares always have a positive denominator.
    for name, schema in schemas.items():
        share = schema.get("properties", {}).get("visitors_percentage")
        if share is not None and name.startswith("Stats") and name != "StatsPagesItem":
            share["type"] = ["number", "null"]
    prefix = "/api/website/{hostname}/"
    for path, item in document.get("paths", {}).items():
        report = path.removeprefix(prefix)
        if not path.startswith(prefix) or report not in reports.REPORTS or "get" not in item:
            continue
        operation = item["get"]
        kept = [p for p in operation.get("parameters", []) if p.get("in") != "query"]
        operation["parameters"] = kept + _stats_parameters(report)


def _hidden(_: ASGIConnection[Any, Any, Any, Any], __: BaseRouteHandler) -> None:
    raise NotFound("api path not found")


def openapi_config() -> OpenAPIConfig:
    """Litestar's OpenAPI settings: our title and version, cookie security, and no schema pages of its own."""
    return OpenAPIConfig(
        title="Medama Analytics API (medama_py)",
        version=VERSION,
        render_plugins=[],
        # The document is served as /openapi.yaml only; Litestar's own schema pages (which pull their UI
        # from CDNs) would otherwise answer under /api/_openapi, a path that must be "api path not found".
        openapi_router=Router("/api/_openapi", route_handlers=[], guards=[_hidden], include_in_schema=False),
        components=Components(
            security_schemes={
                "CookieAuth": SecurityScheme(type="apiKey", name="_me_sess", security_scheme_in="cookie"),
                # A shared page's token: reads one website's stats (docs/accounts.md).
                "ShareToken": SecurityScheme(type="apiKey", name="X-Share-Token", security_scheme_in="header"),
            }
        ),
    )


# Each hook documents what Litestar cannot infer from one group of handlers.
_HOOKS: list[Any] = [
    document_admin_api,
    document_event_hit,
    document_stats_parameters,
    document_umami_collect,
    document_umami_api,
    document_accounts,
]


def render_openapi_yaml(app: Litestar) -> str:
    """The document as YAML text, keys in document order."""
    text: str = yaml.safe_dump(build_openapi(app), sort_keys=False, allow_unicode=True, width=120)
    return text


@get("/openapi.yaml", include_in_schema=False, name="openapi-yaml")
async def get_openapi_yaml(request: AnyRequest) -> Response[str]:
    """The OpenAPI 3.1 document, rendered once per process."""
    cached: str | None = getattr(request.app.state, "openapi_yaml", None)
    if cached is None:
        cached = render_openapi_yaml(request.app)
        request.app.state.openapi_yaml = cached
    return Response(cached, media_type="application/yaml; charset=utf-8")


route_handlers = [get_openapi_yaml]
