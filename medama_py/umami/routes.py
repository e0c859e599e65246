"""The Umami read routes as one table: path → query Struct → the function that answers → the answer's Struct.

The HTTP handlers (api/umami_read.py, one per entry), openapi.yaml (its query parameters and response
schemas, api/openapi/hooks.py) and the tests all read ROUTES, so a route's path, what it accepts, what
computes it and what it answers cannot drift apart. Paths are relative to /umami/api (and /umami/v1).
Every function runs on a worker thread with a DuckDB cursor; its answer is converted to the route's Struct
there, so a field of the wrong type fails in our tests rather than in a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import msgspec

from medama_py.errors import NotFound
from medama_py.umami import answers, eventdata, lists, live, metrics, reports, sessions
from medama_py.umami.queries import (
    ActivityQuery,
    EventDataQuery,
    EventValuesQuery,
    ListQuery,
    MetricQuery,
    NoQuery,
    RangeQuery,
    SeriesQuery,
    WebsiteListQuery,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = ["QUERIES", "ROUTES", "ReadContext", "UmamiRoute"]


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What a read needs besides its parameters: the website (UUID and hostname), the clock, the path's session."""

    website_id: str
    hostname: str
    now: datetime
    session_id: str = ""


if TYPE_CHECKING:
    Runner = Callable[[duckdb.DuckDBPyConnection, UmamiParams, ReadContext], object]


@dataclass(frozen=True, slots=True)
class UmamiRoute:
    """GET /umami/api<path>: its operation, its query parameters, what computes it and what it answers."""

    path: str  # with {website_id} and {session_id} path parameters
    operation_id: str
    summary: str
    query: type[NoQuery]
    run: Runner
    answer: Any  # a Struct, or list[Struct]

    def read(self, cur: duckdb.DuckDBPyConnection, q: UmamiParams, context: ReadContext) -> Any:
        """The answer, as the route's Struct."""
        return msgspec.convert(self.run(cur, q, context), self.answer)


def _session(cur: duckdb.DuckDBPyConnection, _: UmamiParams, x: ReadContext) -> object:
    found = sessions.session_detail(cur, x.hostname, x.session_id, x.website_id)
    if found is None:
        raise NotFound("session not found")
    return found


def _event_data(report: str) -> Runner:
    return lambda cur, q, _: eventdata.event_data(cur, q, report, q.event, q.property_name)


_SITE = "/websites/{website_id}"
_TABLE: Final = (
    UmamiRoute(f"{_SITE}/stats", "umami-get-website-stats",
               "Page views, visitors, visits, bounces, total time, and the previous range's as comparison",
               RangeQuery, lambda cur, q, _: reports.website_stats(cur, q), answers.UmamiStats),
    UmamiRoute(f"{_SITE}/pageviews", "umami-get-website-pageviews",
               "Page views and sessions per unit bucket in the time zone (empty buckets omitted)",
               SeriesQuery, lambda cur, q, _: reports.pageview_series(cur, q), answers.UmamiPageviews),
    UmamiRoute(f"{_SITE}/metrics", "umami-get-website-metrics", "One dimension's values and visitors, y descending",
               MetricQuery, lambda cur, q, _: metrics.metrics(cur, q), list[answers.UmamiMetric]),
    UmamiRoute(f"{_SITE}/metrics/expanded", "umami-get-website-metrics-expanded",
               "One dimension's values with page views, visitors, visits, bounces and total time",
               MetricQuery, lambda cur, q, _: metrics.expanded_metrics(cur, q), list[answers.UmamiMetricExpanded]),
    UmamiRoute(f"{_SITE}/events", "umami-get-website-events", "Page views and custom events, newest first, paged",
               ListQuery, lambda cur, q, x: lists.event_list(cur, q, x.website_id), answers.UmamiEventPage),
    UmamiRoute(f"{_SITE}/events/stats", "umami-get-website-event-stats",
               "Custom events, the visitors and visits that had them, distinct names",
               RangeQuery, lambda cur, q, _: reports.event_stats(cur, q), answers.UmamiEventStatsAnswer),
    UmamiRoute(f"{_SITE}/events/series", "umami-get-website-event-series",
               "Custom events per name and unit bucket", SeriesQuery,
               lambda cur, q, _: reports.event_series(cur, q), list[answers.UmamiEventSeriesPoint]),
    UmamiRoute(f"{_SITE}/sessions", "umami-get-website-sessions", "Sessions, newest first, paged",
               ListQuery, lambda cur, q, x: sessions.session_list(cur, q, x.website_id), answers.UmamiSessionPage),
    UmamiRoute(f"{_SITE}/sessions/stats", "umami-get-website-session-stats",
               "Page views, visitors, visits, countries and custom events, each as {value}",
               RangeQuery, lambda cur, q, _: reports.session_stats(cur, q), answers.UmamiSessionStats),
    UmamiRoute(f"{_SITE}/sessions/{{session_id}}", "umami-get-website-session", "One session",
               NoQuery, _session, answers.UmamiSession),
    UmamiRoute(f"{_SITE}/sessions/{{session_id}}/activity", "umami-get-website-session-activity",
               "The session's page views and custom events, newest first", ActivityQuery,
               lambda cur, q, x: sessions.session_activity(cur, x.hostname, x.session_id, q),
               list[answers.UmamiActivity]),
    UmamiRoute(f"{_SITE}/event-data/events", "umami-get-website-event-data-events",
               "Event names with their properties and data types", EventDataQuery, _event_data("events"),
               list[answers.UmamiEventDataEvent]),
    UmamiRoute(f"{_SITE}/event-data/fields", "umami-get-website-event-data-fields",
               "Properties with their values", EventDataQuery, _event_data("fields"),
               list[answers.UmamiEventDataField]),
    UmamiRoute(f"{_SITE}/event-data/properties", "umami-get-website-event-data-properties",
               "Event names with their property names", EventDataQuery, _event_data("properties"),
               list[answers.UmamiEventDataProperty]),
    UmamiRoute(f"{_SITE}/event-data/values", "umami-get-website-event-data-values",
               "The values of one property of one event", EventValuesQuery, _event_data("values"),
               list[answers.UmamiEventDataValue]),
    UmamiRoute(f"{_SITE}/event-data/stats", "umami-get-website-event-data-stats",
               "Events with data, distinct properties, data values", EventDataQuery, _event_data("stats"),
               answers.UmamiEventDataStats),
    UmamiRoute(f"{_SITE}/active", "umami-get-website-active", "Unique visitors of the last five minutes",
               NoQuery, lambda cur, _, x: live.active_visitors(cur, x.hostname, x.now), answers.UmamiActive),
    UmamiRoute(f"{_SITE}/daterange", "umami-get-website-daterange", "The first and last stored hit",
               NoQuery, lambda cur, _, x: reports.date_range(cur, x.hostname), answers.UmamiDateRange),
    UmamiRoute("/realtime/{website_id}", "umami-get-realtime",
               "The last 30 minutes: countries, pages, referrers, latest events, per-minute series, totals",
               NoQuery, lambda cur, _, x: live.realtime(cur, x.hostname, x.now), answers.UmamiRealtime),
)  # fmt: skip

ROUTES: Final[dict[str, UmamiRoute]] = {route.path: route for route in _TABLE}
# The query Struct of every Umami read path, including the two website routes that read the meta database.
QUERIES: Final[dict[str, type[NoQuery]]] = {
    "/websites": WebsiteListQuery,
    _SITE: NoQuery,
    **{path: route.query for path, route in ROUTES.items()},
}
