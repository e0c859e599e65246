"""openapi.yaml: the application's OpenAPI document, served at GET /openapi.yaml.

Litestar infers most of the document from the handlers; `build_openapi` adds the error envelope to every
operation and then runs the hooks in medama_py/api/openapi/hooks.py, which say what Litestar cannot see.
`make openapi` (scripts/openapi.py) writes the committed copy, which a test compares with the application.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml
from litestar import Response, Router, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from medama_py.api.deps import AnyRequest
from medama_py.api.openapi.hooks import HOOKS
from medama_py.errors import NotFound
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
    "403": (
        "Forbidden: demo mode, a viewer asking for more than reading its websites (docs/accounts.md),"
        " or a cookie request another site made (docs/security.md)"
    ),
    "404": "Not found",
    "409": "Conflict",
    "413": "Request body too large",
    "415": "Unsupported Content-Type",
    "429": "Too many requests (Retry-After: the seconds left in the client's window)",
    "500": "Internal error",
    "503": "Too many password checks waiting: try again shortly (Retry-After)",
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
        statuses += ["401", "404", "429", "503"]  # wrong password, unknown link, too many wrong passwords
    if "{hostname}" in path or path.startswith(("/api/user", "/api/event/hit")):
        statuses.append("404")
    if path == "/api/auth/login":
        statuses += ["401", "403", "429", "503"]
    if path == "/api/auth/logout":
        statuses.append("403")  # made by another site (docs/security.md)
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
    for hook in HOOKS:
        hook(document)
    return document


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
