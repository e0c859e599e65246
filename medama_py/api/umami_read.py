"""The Umami-compatible read routes under /umami/api (and /umami/v1): thin handlers, no SQL (docs/umami.md).

Each handler finds the website by its UUID (404 unless the caller owns it), decodes Umami's parameters
(400 naming the culprit) and runs the report on a worker thread, so the event loop and ingestion never wait.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from litestar import Controller, get
from litestar.params import PathParameter

from medama_py import sharing
from medama_py.api.access import caller_of, may_read_website, readable_websites
from medama_py.api.deps import AnyRequest, ServicesDep, UserIdDep, require_session
from medama_py.api.umami_auth import UMAMI_BEARER_SECURITY, iso_time
from medama_py.clock import unix
from medama_py.errors import BadRequest, NotFound, WebsiteNotFound
from medama_py.umami import eventdata, lists, metrics, reports
from medama_py.umami.params import parse_umami_params

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import duckdb

    from medama_py.model import Website
    from medama_py.services import Services
    from medama_py.umami.params import UmamiParams

__all__ = ["UmamiWebsiteController", "route_handlers"]

T = TypeVar("T")
WebsiteId = Annotated[str, PathParameter(description="The website's UUID", max_length=64)]
SessionId = Annotated[str, PathParameter(description="A session id from /sessions", max_length=200)]


async def find_website(connection: AnyRequest, services: Services, website_id: str) -> Website:
    """The website with this UUID if the caller may read it (the one read policy); 404 otherwise."""
    try:
        uuid.UUID(website_id)
    except ValueError:
        raise WebsiteNotFound from None
    website: Website = await services.meta.get_website_by_uuid(website_id)
    if not await may_read_website(services, caller_of(connection), website.hostname):
        raise WebsiteNotFound
    return website


async def _website_item(services: Services, website: Website) -> dict[str, Any]:
    share = await sharing.share_id(services.meta, website.hostname, unix(services.clock()))
    return {
        "id": website.uuid,
        "name": website.hostname,
        "domain": website.hostname,
        "shareId": share,
        "teamId": None,
        "userId": website.user_id,
        "createdBy": website.user_id,
        "createdAt": iso_time(website.date_created),
        "updatedAt": iso_time(website.date_updated),
        "resetAt": None,
        "deletedAt": None,
        # Umami Cloud's session replay does not exist here.
        "recorderEnabled": False,
        "replayConfig": None,
    }


async def _read(
    request: AnyRequest,
    services: Services,
    user_id: str,
    website_id: str,
    run: Callable[[duckdb.DuckDBPyConnection, UmamiParams, Website], T],
    *,
    range_required: bool = True,
    metric: bool = False,
) -> T:
    website = await find_website(request, services, website_id)
    q = parse_umami_params(
        request.query_params.multi_items(), website.hostname, range_required=range_required, metric=metric
    )
    result: T = await services.analytics.read(lambda cur: run(cur, q, website))
    return result


@get(
    "/websites",
    operation_id="umami-list-websites",
    tags=["Umami"],
    guards=[require_session],
    security=UMAMI_BEARER_SECURITY,
)
async def list_websites(request: AnyRequest, services: ServicesDep) -> dict[str, Any]:
    """The websites the caller may read (an admin: all; a viewer: its grants), paged: {data, count, page, pageSize}."""
    q = parse_umami_params(request.query_params.multi_items(), "", range_required=False)
    websites = await readable_websites(services, caller_of(request))
    if q.search:
        websites = [w for w in websites if q.search.lower() in w.hostname.lower()]
    first = (q.page - 1) * q.page_size
    page = websites[first : first + q.page_size]
    return {
        "data": [await _website_item(services, w) for w in page],
        "count": len(websites),
        "page": q.page,
        "pageSize": q.page_size,
    }


class UmamiWebsiteController(Controller):
    """Every read route about one website, by its UUID."""

    path = "/websites/{website_id:str}"
    tags = ["Umami"]  # noqa: RUF012  (Litestar reads these class attributes)
    guards = [require_session]  # noqa: RUF012
    security = UMAMI_BEARER_SECURITY

    @get("/", operation_id="umami-get-website")
    async def get_website(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, Any]:
        """One website (resetAt and deletedAt are always null here)."""
        return await _website_item(services, await find_website(request, services, website_id))

    @get("/stats", operation_id="umami-get-website-stats")
    async def stats(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, Any]:
        """pageviews, visitors, visits, bounces, totaltime, and the previous range's as `comparison`."""
        return await _read(request, services, user_id, website_id, lambda c, q, _: reports.website_stats(c, q))

    @get("/pageviews", operation_id="umami-get-website-pageviews")
    async def pageviews(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, Any]:
        """Page views and sessions per unit bucket in the time zone."""
        return await _read(request, services, user_id, website_id, lambda c, q, _: reports.pageview_series(c, q))

    @get("/metrics", operation_id="umami-get-website-metrics")
    async def metrics(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> list[dict[str, Any]]:
        """[{x, y}] for one dimension (`type`), y descending."""
        return await _read(request, services, user_id, website_id, lambda c, q, _: metrics.metrics(c, q), metric=True)

    @get("/metrics/expanded", operation_id="umami-get-website-metrics-expanded")
    async def expanded(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> list[dict[str, Any]]:
        """[{name, pageviews, visitors, visits, bounces, totaltime}] for one dimension."""
        return await _read(
            request, services, user_id, website_id, lambda c, q, _: metrics.expanded_metrics(c, q), metric=True
        )

    @get("/events", operation_id="umami-get-website-events")
    async def events(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, Any]:
        """Page views and custom events, newest first, paged."""
        return await _read(request, services, user_id, website_id, lambda c, q, w: lists.event_list(c, q, w.uuid))

    @get("/events/stats", operation_id="umami-get-website-event-stats")
    async def event_stats(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, Any]:
        """{data: {events, visitors, visits, uniqueEvents, comparison}}."""
        return await _read(request, services, user_id, website_id, lambda c, q, _: reports.event_stats(c, q))

    @get("/events/series", operation_id="umami-get-website-event-series")
    async def event_series(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> list[dict[str, Any]]:
        """[{x: event name, t: bucket, y}]."""
        return await _read(request, services, user_id, website_id, lambda c, q, _: reports.event_series(c, q))

    @get("/sessions", operation_id="umami-get-website-sessions")
    async def sessions(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, Any]:
        """Sessions, newest first, paged."""
        return await _read(request, services, user_id, website_id, lambda c, q, w: lists.session_list(c, q, w.uuid))

    @get("/sessions/stats", operation_id="umami-get-website-session-stats")
    async def session_stats(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, Any]:
        """{pageviews, visitors, visits, countries, events}, each {value}."""
        return await _read(request, services, user_id, website_id, lambda c, q, _: reports.session_stats(c, q))

    @get("/sessions/{session_id:str}", operation_id="umami-get-website-session")
    async def session(
        self,
        website_id: WebsiteId,
        session_id: SessionId,
        request: AnyRequest,
        services: ServicesDep,
        user_id: UserIdDep,
    ) -> dict[str, Any]:
        """One session."""
        website = await find_website(request, services, website_id)
        found = await services.analytics.read(
            lambda c: lists.session_detail(c, website.hostname, session_id, website.uuid)
        )
        if found is None:
            raise NotFound("session not found")
        return found

    @get("/sessions/{session_id:str}/activity", operation_id="umami-get-website-session-activity")
    async def activity(
        self,
        website_id: WebsiteId,
        session_id: SessionId,
        request: AnyRequest,
        services: ServicesDep,
        user_id: UserIdDep,
    ) -> list[dict[str, Any]]:
        """The session's page view and custom events."""
        return await _read(
            request,
            services,
            user_id,
            website_id,
            lambda c, q, w: lists.session_activity(c, w.hostname, session_id, q),
            range_required=False,
        )

    @get("/event-data/{report:str}", operation_id="umami-get-website-event-data")
    async def event_data(
        self, website_id: WebsiteId, report: str, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> Any:
        """events, fields, properties, values (needs event and propertyName) or stats, in Umami's shapes."""
        if report not in ("events", "fields", "properties", "values", "stats"):
            raise NotFound("unknown event-data report")
        event = request.query_params.get("event", "")
        prop = request.query_params.get("propertyName", "")
        if report == "values" and not (event and prop):
            raise BadRequest("query parameters 'event' and 'propertyName' are required")
        return await _read(
            request, services, user_id, website_id, lambda c, q, _: eventdata.event_data(c, q, report, event, prop)
        )

    @get("/active", operation_id="umami-get-website-active")
    async def active(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, int]:
        """{visitors}: unique visitors of the last five minutes."""
        website = await find_website(request, services, website_id)
        now: datetime = services.clock()
        return await services.analytics.read(lambda c: reports.active_visitors(c, website.hostname, now))

    @get("/daterange", operation_id="umami-get-website-daterange")
    async def daterange(
        self, website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
    ) -> dict[str, str | None]:
        """{startDate, endDate} of the stored data."""
        website = await find_website(request, services, website_id)
        return await services.analytics.read(lambda c: reports.date_range(c, website.hostname))


@get(
    "/realtime/{website_id:str}",
    operation_id="umami-get-realtime",
    tags=["Umami"],
    guards=[require_session],
    security=UMAMI_BEARER_SECURITY,
)
async def realtime(
    website_id: WebsiteId, request: AnyRequest, services: ServicesDep, user_id: UserIdDep
) -> dict[str, Any]:
    """The last 30 minutes: countries, urls, referrers, latest events, per-minute series, totals."""
    website = await find_website(request, services, website_id)
    now: datetime = services.clock()
    return await services.analytics.read(lambda c: eventdata.realtime(c, website.hostname, now))


route_handlers = [list_websites, UmamiWebsiteController, realtime]
