"""Stats: GET /api/website/{hostname}/<report> (stats.md, DECISIONS.md). Handlers hold no SQL.

Each handler decodes the query itself (parameters → 400 naming the culprit), then asks the one access check
whether the caller may read the website (api/access.py: 404 when missing or not readable), then runs the
report on a worker thread so the event loop and ingestion never wait for it. The order 401 (guard) → 400 →
404 is the contract's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

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

__all__ = ["StatsController", "route_handlers"]

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
