"""Stats: GET /api/website/{hostname}/<report> (stats.md, DECISIONS.md). Handlers hold no SQL.

Each handler decodes the query itself (parameters → 400 naming the culprit), then asks the one access check
whether the caller may read the website (api/access.py: 404 when missing or not readable), then runs the
report on a worker thread so the event loop and ingestion never wait for it. The order 401 (guard) → 400 →
404 is the contract's.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, TypeVar

from litestar import Controller, get

from medama_py.api.access import require_website_read
from medama_py.api.deps import COOKIE_SECURITY, SERVICES, AnyRequest, ServicesDep, require_session
from medama_py.api.websites import HostnamePath
from medama_py.stats import reports
from medama_py.stats.params import parse_params
from medama_py.stats.results import (
    StatsBrowsersItem,
    StatsCountriesItem,
    StatsDevicesItem,
    StatsLanguagesItem,
    StatsOSItem,
    StatsPagesItem,
    StatsPropertiesItem,
    StatsReferrersItem,
    StatsSummary,
    StatsTimeItem,
    StatsUTMCampaignsItem,
    StatsUTMMediumsItem,
    StatsUTMSourcesItem,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from medama_py.services import Services
    from medama_py.stats.params import StatsParams

__all__ = ["StatsController", "document_stats_parameters", "route_handlers"]

T = TypeVar("T")


async def _report(
    request: AnyRequest,
    services: Services,
    hostname: str,
    name: str,
    run: Callable[[duckdb.DuckDBPyConnection, StatsParams], T],
) -> T:
    params = parse_params(request.query_params.multi_items(), hostname, accepts=reports.REPORTS[name].accepts)
    await require_website_read(request, services, hostname)
    return await services.analytics.read(lambda cur: run(cur, params))


class StatsController(Controller):
    path = "/api/website/{hostname:str}"
    tags = ["Stats"]  # noqa: RUF012  (Litestar reads these class attributes)
    guards = [require_session]  # noqa: RUF012
    security = COOKIE_SECURITY
    dependencies = SERVICES

    @get("/summary", operation_id="get-website-id-summary", summary="Get Stat Summary")
    async def get_summary(self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep) -> StatsSummary:
        """Visitors, page views, bounce rate and median duration; optionally the previous period and a series."""
        return await _report(request, services, hostname, "summary", reports.run_summary)

    @get("/pages", operation_id="get-website-id-pages", summary="Get Page Stats")
    async def get_pages(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsPagesItem]:
        """Pages and their stats."""
        return await _report(request, services, hostname, "pages", reports.run_pages)

    @get("/time", operation_id="get-website-id-time", summary="Get Time Stats")
    async def get_time(self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep) -> list[StatsTimeItem]:
        """Pages and their time-on-page quartiles."""
        return await _report(request, services, hostname, "time", reports.run_time)

    @get("/referrers", operation_id="get-website-id-referrers", summary="Get Referrer Stats")
    async def get_referrers(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsReferrersItem]:
        """Referrers (grouped by default) and their stats."""
        return await _report(request, services, hostname, "referrers", reports.run_referrers)

    @get("/sources", operation_id="get-website-id-sources", summary="Get UTM Source Stats")
    async def get_sources(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsUTMSourcesItem]:
        """UTM sources and their stats."""
        return await _report(request, services, hostname, "sources", reports.run_sources)

    @get("/mediums", operation_id="get-website-id-mediums", summary="Get UTM Medium Stats")
    async def get_mediums(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsUTMMediumsItem]:
        """UTM mediums and their stats."""
        return await _report(request, services, hostname, "mediums", reports.run_mediums)

    @get("/campaigns", operation_id="get-website-id-campaigns", summary="Get UTM Campaign Stats")
    async def get_campaigns(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsUTMCampaignsItem]:
        """UTM campaigns and their stats."""
        return await _report(request, services, hostname, "campaigns", reports.run_campaigns)

    @get("/browsers", operation_id="get-website-id-browsers", summary="Get Browser Stats")
    async def get_browsers(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsBrowsersItem]:
        """Browsers and their stats."""
        return await _report(request, services, hostname, "browsers", reports.run_browsers)

    @get("/os", operation_id="get-website-id-os", summary="Get OS Stats")
    async def get_os(self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep) -> list[StatsOSItem]:
        """Operating systems and their stats."""
        return await _report(request, services, hostname, "os", reports.run_os)

    @get("/devices", operation_id="get-website-id-device", summary="Get Device Stats")
    async def get_devices(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsDevicesItem]:
        """Device types and their stats."""
        return await _report(request, services, hostname, "devices", reports.run_devices)

    @get("/countries", operation_id="get-website-id-country", summary="Get Country Stats")
    async def get_countries(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsCountriesItem]:
        """Countries and their stats."""
        return await _report(request, services, hostname, "countries", reports.run_countries)

    @get("/languages", operation_id="get-website-id-language", summary="Get Language Stats")
    async def get_languages(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsLanguagesItem]:
        """Languages (or dialects with locale=true) and their stats."""
        return await _report(request, services, hostname, "languages", reports.run_languages)

    @get("/properties", operation_id="get-website-id-properties", summary="Get Property Stats")
    async def get_properties(
        self, hostname: HostnamePath, request: AnyRequest, services: ServicesDep
    ) -> list[StatsPropertiesItem]:
        """Custom property names, or the values of one property when prop_name has a value."""
        return await _report(request, services, hostname, "properties", reports.run_properties)


route_handlers = [StatsController]


# ---- openapi.yaml: the query parameters, which the handlers decode themselves --------------------------------

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
    # are all other rows (stats.md 4); the other shares always have a positive denominator.
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
