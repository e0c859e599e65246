"""Umami's summary reports over medama_py's data: stats, series, session and event stats, active, date range.

For rows collected by Medama's tracker every page load is its own session and visit (nothing links page
loads), so visits = sessions = page views, `visitors` is the unique-visitor flag count Medama's API shows,
a bounce is a visit of at most 5 s (or of unknown length), and totaltime is the page's duration in whole seconds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from medama_py.stats.query import Params
from medama_py.stats.results import as_int
from medama_py.stats.summary import previous_period
from medama_py.umami.series import bucket_key_sql, rebucket
from medama_py.umami.sql import EVENT_NAME, event_where, has_named_events, iso, view_where

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = [
    "BOUNCES",
    "TOTALTIME",
    "active_visitors",
    "date_range",
    "event_series",
    "event_stats",
    "pageview_series",
    "session_stats",
    "website_stats",
]

# A bounce: a visit (here one page view) that ended within 5 s or whose end is unknown, the upper bound of
# Medama's bounce band. Joining custom events to tell interactions apart cost 4x the stats query.
BOUNCES = "count_if(coalesce(v.duration_ms, 0) <= 5000)"
TOTALTIME = "coalesce(sum(v.duration_ms // 1000), 0)"
_STATS_COLUMNS = ("count(*)", "count_if(v.is_unique_user)", BOUNCES, TOTALTIME)


def _stats(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, int]:
    params = Params()
    sql = f"SELECT {', '.join(_STATS_COLUMNS)} FROM views AS v WHERE {view_where(q, params)}"  # noqa: S608
    row = cur.execute(sql, params.values).fetchone() or (0, 0, 0, 0)
    pageviews, visitors, bounces, totaltime = (as_int(value) for value in row)
    return {
        "pageviews": pageviews,
        "visitors": visitors,
        "visits": pageviews,
        "bounces": bounces,
        "totaltime": totaltime,
    }


def _previous(q: UmamiParams) -> UmamiParams:
    before = previous_period(q.filters)
    return q if before is None else replace(q, filters=before)


def website_stats(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, object]:
    """GET /websites/:id/stats: the five numbers, and the same for the previous range of equal length."""
    return {**_stats(cur, q), "comparison": _stats(cur, _previous(q))}


def pageview_series(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, list[dict[str, object]]]:
    """GET /websites/:id/pageviews: page views and sessions per `unit` bucket in `timezone`; empty buckets omitted."""
    params = Params()
    bucket = bucket_key_sql(q.unit, q.timezone, "v.date_created")
    sql = f"SELECT {bucket} AS x, count(*) FROM views AS v WHERE {view_where(q, params)} GROUP BY x"  # noqa: S608
    sums = rebucket(cur.execute(sql, params.values).fetchall(), q.unit, q.timezone)
    views: list[dict[str, object]] = [{"x": key[0], "y": count} for key, count in sums.items()]
    # Each Medama page load is its own session.
    return {"pageviews": views, "sessions": [dict(item) for item in views]}


def _event_numbers(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, int]:
    params = Params()
    sql = (
        f"WITH ev AS (SELECT e.bid, e.batch_id, {EVENT_NAME} AS name FROM events AS e"  # noqa: S608
        f" WHERE {event_where(q, params)})"
        " SELECT (SELECT count(*) FROM ev),"
        " (SELECT count(DISTINCT CASE WHEN ev.bid <> '' THEN ev.bid ELSE ev.batch_id END) FROM ev),"
        " (SELECT count(DISTINCT ev.name) FROM ev),"
        " (SELECT count_if(v.is_unique_user) FROM views AS v"
        f" WHERE v.hostname = {params.bind(q.filters.hostname)} AND v.bid IN (SELECT bid FROM ev WHERE bid <> ''))"
    )
    events, visits, unique, visitors = (as_int(v) for v in cur.execute(sql, params.values).fetchone() or (0, 0, 0, 0))
    return {"events": events, "visitors": visitors, "visits": visits, "uniqueEvents": unique}


def _event_count(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> int:
    params = Params()
    where = event_where(q, params, named=has_named_events(cur, q.filters.hostname))
    row = cur.execute(f"SELECT count(*) FROM events AS e WHERE {where}", params.values).fetchone()  # noqa: S608
    return as_int(row[0] if row else 0)


def event_stats(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, object]:
    """GET /websites/:id/events/stats: custom-event rows, the visits and visitors that had them, distinct names."""
    return {"data": {**_event_numbers(cur, q), "comparison": _event_numbers(cur, _previous(q))}}


def session_stats(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, dict[str, int]]:
    """GET /websites/:id/sessions/stats: page views only (not custom events), visitors, visits, countries, events."""
    params = Params()
    sql = (
        "SELECT count(*), count_if(v.is_unique_user), count(DISTINCT nullif(v.country, 'Unknown'))"  # noqa: S608
        f" FROM views AS v WHERE {view_where(q, params)}"
    )
    pageviews, visitors, countries = (as_int(v) for v in cur.execute(sql, params.values).fetchone() or (0, 0, 0))
    events = _event_count(cur, q)
    numbers = {
        "pageviews": pageviews,
        "visitors": visitors,
        "visits": pageviews,
        "countries": countries,
        "events": events,
    }
    return {name: {"value": value} for name, value in numbers.items()}


def active_visitors(cur: duckdb.DuckDBPyConnection, hostname: str, now: datetime) -> dict[str, int]:
    """GET /websites/:id/active: unique visitors of the last five minutes."""
    row = cur.execute(
        "SELECT count_if(is_unique_user) FROM views WHERE hostname = ? AND date_created >= ?",
        [hostname, now - timedelta(minutes=5)],
    ).fetchone()
    return {"visitors": as_int(row[0] if row else 0)}


def date_range(cur: duckdb.DuckDBPyConnection, hostname: str) -> dict[str, str | None]:
    """GET /websites/:id/daterange: the first and last stored hit (page view or custom event)."""
    row = cur.execute(
        "SELECT min(d), max(d) FROM (SELECT min(date_created) AS d FROM views WHERE hostname = $h"
        " UNION ALL SELECT max(date_created) FROM views WHERE hostname = $h"
        " UNION ALL SELECT min(date_created) FROM events WHERE group_name = $h"
        " UNION ALL SELECT max(date_created) FROM events WHERE group_name = $h)",
        {"h": hostname},
    ).fetchone()
    first, last = row if row else (None, None)
    return {"startDate": iso(first), "endDate": iso(last)}


def event_series(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> list[dict[str, object]]:
    """GET /websites/:id/events/series: custom events per name and `unit` bucket in `timezone`."""
    params = Params()
    bucket = bucket_key_sql(q.unit, q.timezone, "e.date_created")
    sql = (
        f"SELECT {bucket} AS t, {EVENT_NAME} AS x, count(*) AS y FROM events AS e"  # noqa: S608
        f" WHERE {event_where(q, params)} GROUP BY t, x"
    )
    sums = rebucket(cur.execute(sql, params.values).fetchall(), q.unit, q.timezone)
    return [{"x": str(key[1]), "t": key[0], "y": count} for key, count in sums.items()]
