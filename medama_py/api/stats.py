"""Stats: GET /api/website/{hostname}/<report> (docs/stats.md). Handlers hold no SQL.

One handler per entry of the reports table (stats/reports.py). Each decodes the query itself (parameters →
400 naming the culprit), then asks the one access check whether the caller may read the website
(api/access.py: 404 when missing or not readable), then runs the report on a worker thread so the event
loop and ingestion never wait for it. The order 401 (guard) → 400 → 404 is the contract's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Router, get

from medama_py.api.access import require_website_read
from medama_py.api.deps import COOKIE_SECURITY, SERVICES, AnyRequest, ServicesDep, require_reader
from medama_py.api.websites import HostnamePath  # noqa: TC001 (Litestar reads handler annotations at runtime)
from medama_py.stats import reports
from medama_py.stats.params import parse_params

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler

    from medama_py.stats.reports import Report

__all__ = ["route_handlers"]


def _handler(report: Report) -> HTTPRouteHandler:
    """GET /api/website/{hostname}/<report.name>: decode (400), check access (404), run on a worker thread."""

    async def handler(hostname: HostnamePath, request: AnyRequest, services: ServicesDep) -> Any:
        params = parse_params(request.query_params.multi_items(), hostname, accepts=report.accepts)
        await require_website_read(request, services, hostname)
        store = services.analytics
        held_max = store.limits.held_durations
        return await store.read(lambda cur: report.run(cur, params, store.rollups, held_max=held_max))

    # Litestar reads the response type (its schema and encoder) from the return annotation.
    handler.__annotations__["return"] = list[report.result] if report.many else report.result  # type: ignore[name-defined]
    handler.__name__ = handler.__qualname__ = f"get_{report.name}"
    handler.__doc__ = report.description
    return get(f"/{report.name}", operation_id=report.operation_id, summary=report.title)(handler)


route_handlers = [
    Router(
        "/api/website/{hostname:str}",
        # Alphabetical, the order openapi.yaml has always listed them in.
        route_handlers=[_handler(reports.REPORTS[name]) for name in sorted(reports.REPORTS)],
        tags=["Stats"],
        # A session, an API key, or a shared page's token (docs/accounts.md).
        guards=[require_reader],
        security=[*COOKIE_SECURITY, {"ShareToken": []}],
        dependencies=SERVICES,
    )
]
