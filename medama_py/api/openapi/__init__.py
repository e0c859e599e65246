"""openapi.yaml, generated from the application so that it always describes what medama_py serves.

document.py builds and serves the document; hooks.py holds every addition Litestar cannot infer (the stats
query parameters in stats_parameters.py).
"""

from __future__ import annotations

from medama_py.api.openapi.document import build_openapi, openapi_config, render_openapi_yaml, route_handlers

__all__ = ["build_openapi", "openapi_config", "render_openapi_yaml", "route_handlers"]
