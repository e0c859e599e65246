"""GET /openapi.yaml: the contract of what this server serves, generated from the application."""

from __future__ import annotations

from litestar import Response, get

from medama_py.api.deps import AnyRequest
from medama_py.openapi import render_openapi_yaml

__all__ = ["route_handlers"]


@get("/openapi.yaml", include_in_schema=False, name="openapi-yaml")
async def get_openapi_yaml(request: AnyRequest) -> Response[str]:
    """The OpenAPI 3.1 document, rendered once per process."""
    cached: str | None = getattr(request.app.state, "openapi_yaml", None)
    if cached is None:
        cached = render_openapi_yaml(request.app)
        request.app.state.openapi_yaml = cached
    return Response(cached, media_type="application/yaml; charset=utf-8")


route_handlers = [get_openapi_yaml]
