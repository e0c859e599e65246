"""Umami's summary reports over medama_py's data: stats, series, session and event stats, active, date range.

For rows collected by Medama's tracker every page load is its own session and visit (nothing links page
loads), so visits = sessions = page views, `visitors` is the unique-visitor flag count Medama's API shows,
a bounce is a visit of at most 5 s (or of unknown length), and totaltime is the page's duration in whole seconds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from medama_py.stats.query import Params
from medama_py.stats.results import as_int
from medama_py.stats.summary import previous_period
from medama_py.umami.identity import (
    has_umami_hits,
    is_unfiltered,
    umami_hit_scope,
    umami_range,
    umami_view_key,
    umami_views_cte,
)
from medama_py.umami.series import bucket_key_sql, rebucket
from medama_py.umami.sql import EVENT_NAME, event_where, has_named_events, iso, view_where

if TYPE_CHECKING:
    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = [
    "BOUNCES",
    "TOTALTIME",
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
    visits = pageviews
    if has_umami_hits(cur, q):
        umami_views, umami_short, umami_visits, umami_bounces = _umami_visit_numbers(cur, q)
        visits += umami_visits - umami_views
        bounces += umami_bounces - umami_short
    return {"pageviews": pageviews, "visitors": visitors, "visits": visits, "bounces": bounces, "totaltime": totaltime}


def _umami_visit_numbers(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> tuple[int, int, int, int]:
    """Umami-collected page views: their number, Medama's bounces among them, their visits, Umami's bounces.

    The totals over every page view count each as a visit and a bounce by its duration; these numbers
    replace that, for the Umami-collected ones, by Umami's visits. Only they are matched with `views`
    (umami_view_key), so the cost follows their number more than the site's.
    """
    if is_unfiltered(q):
        found = _unfiltered_visit_numbers(cur, q)
        if found is not None:
            return found
    params = Params()
    sql = (
        f"WITH {umami_views_cte(q, params)}, per_visit AS (SELECT uv.visit_id, count(*) AS n, {BOUNCES} AS short"  # noqa: S608
        f" FROM uv JOIN views AS v ON {umami_view_key(cur, q)} WHERE {view_where(q, params)} GROUP BY uv.visit_id)"
        " SELECT sum(n), sum(short), count(*), count_if(n = 1) FROM per_visit"
    )
    row = cur.execute(sql, params.values).fetchone() or (0, 0, 0, 0)
    views, short, visits, bounces = (as_int(value or 0) for value in row)
    return views, short, visits, bounces


def _unfiltered_visit_numbers(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> tuple[int, int, int, int] | None:
    """The same numbers without a filter, in two cheaper queries, or None when times do not tell the rows apart.

    Visits come from umami_hits alone; Medama's bounces among the Umami page views from the page views whose
    time is one of theirs (a semi-join reads no bid). Each Umami page view has its own `views` row at its
    time, so as many such page views as Umami page views means they are exactly theirs (umami_view_key).
    """
    params = Params()
    times = f"SELECT uh.date_created FROM umami_hits AS uh WHERE {umami_range(q, params)} AND uh.event_type = 1"  # noqa: S608
    sql = f"SELECT count(*), {BOUNCES} FROM views AS v WHERE {view_where(q, params)} AND v.date_created IN ({times})"  # noqa: S608
    matched, short = (as_int(v or 0) for v in cur.execute(sql, params.values).fetchone() or (0, 0))
    params = Params()
    sql = (
        "SELECT coalesce(sum(n), 0), count(*), count_if(n = 1) FROM (SELECT uh.visit_id, count(*) AS n"  # noqa: S608
        f" FROM umami_hits AS uh WHERE {umami_range(q, params)} AND uh.event_type = 1 GROUP BY uh.visit_id)"
    )
    views, visits, bounces = (as_int(v or 0) for v in cur.execute(sql, params.values).fetchone() or (0, 0, 0))
    return (views, short, visits, bounces) if matched == views else None


def _previous(q: UmamiParams) -> UmamiParams:
    before = previous_period(q.filters)
    return q if before is None else replace(q, filters=before)


def website_stats(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, object]:
    """GET /websites/:id/stats: the five numbers, and the same for the previous range of equal length."""
    return {**_stats(cur, q), "comparison": _stats(cur, _previous(q))}


def pageview_series(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, list[dict[str, object]]]:
    """GET /websites/:id/pageviews: page views and sessions per `unit` bucket in `timezone`; empty buckets omitted.

    A Medama page view is a session of its own; Umami-collected page views count their distinct sessions.
    """
    params = Params()
    bucket = bucket_key_sql(q.unit, q.timezone, "v.date_created")
    sql = f"SELECT {bucket} AS x, count(*) FROM views AS v WHERE {view_where(q, params)} GROUP BY x"  # noqa: S608
    sums = rebucket(cur.execute(sql, params.values).fetchall(), q.unit, q.timezone)
    views = {str(key[0]): count for key, count in sums.items()}
    sessions = dict(views)
    if has_umami_hits(cur, q):
        for label, (umami_views, umami_sessions) in _umami_buckets(cur, q).items():
            sessions[label] = sessions.get(label, 0) - umami_views + umami_sessions
    return {
        "pageviews": [{"x": label, "y": count} for label, count in views.items()],
        "sessions": [{"x": label, "y": count} for label, count in sorted(sessions.items()) if count],
    }


def _umami_buckets(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, tuple[int, int]]:
    """Umami-collected page views and their distinct sessions per local bucket.

    Distinct counts cannot be summed over finer steps, so each session is first gathered per UTC quarter
    hour (a session's page views mostly share one), then quarter hours go to their local bucket: every time
    zone's offset is a whole number of quarter hours, so a quarter hour lies in one bucket. Converting the
    quarter hours instead of every hit halves the query. A `minute` unit buckets each hit.
    """
    params = Params()
    step = "uh.date_created" if q.unit == "minute" else "time_bucket(INTERVAL 15 MINUTE, uh.date_created)"
    # q.unit is one of UNITS (allow-listed by params.py), never free text.
    local = f"date_trunc('{q.unit}', timezone({params.bind(q.timezone)}, quarter))"
    sql = (
        f"SELECT strftime({local}, '%Y-%m-%d %H:%M:%S') AS x, sum(n), count(DISTINCT session_id)"  # noqa: S608
        f" FROM (SELECT {step} AS quarter, uh.session_id, count(*) AS n FROM umami_hits AS uh"
        f" WHERE {umami_hit_scope(q, params)} AND uh.event_type = 1 GROUP BY quarter, uh.session_id) GROUP BY x"
    )
    return {str(x): (as_int(n), as_int(d)) for x, n, d in cur.execute(sql, params.values).fetchall()}


def _event_numbers(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> dict[str, int]:
    """Custom events, the visits and visitors that had them, distinct names.

    A Medama event's visit is its page view (or its own batch without one) and its visitors are that page
    view's unique-visitor flags; an Umami-collected event counts its own visit and its distinct session.
    """
    params = Params()
    host = params.bind(q.filters.hostname)
    ids = "CAST(NULL AS VARCHAR) AS visit_id, CAST(NULL AS VARCHAR) AS session_id FROM ev"
    if has_umami_hits(cur, q):
        ids = (
            "uh.visit_id, uh.session_id FROM ev LEFT JOIN umami_hits AS uh"
            f" ON uh.batch_id = ev.batch_id AND uh.site = {host} AND uh.event_type = 2"
        )
    sql = (
        f"WITH ev AS (SELECT e.bid, e.batch_id, {EVENT_NAME} AS name FROM events AS e"  # noqa: S608
        f" WHERE {event_where(q, params)}), ids AS (SELECT ev.*, {ids})"
        " SELECT count(*),"
        " count(DISTINCT coalesce(visit_id, CASE WHEN bid <> '' THEN bid ELSE batch_id END)),"
        " count(DISTINCT name),"
        # The flag is tested before the ids: only flagged page views' bids are then read (~30% less CPU at 10M).
        f" count(DISTINCT session_id) + (SELECT count(*) FROM views AS v WHERE v.hostname = {host}"
        " AND v.is_unique_user AND v.bid IN (SELECT bid FROM ids WHERE bid <> '' AND session_id IS NULL))"
        " FROM ids"
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
    visits = pageviews
    if has_umami_hits(cur, q):
        visits, event_visitors = _umami_visits(cur, q, pageviews)
        visitors += event_visitors
    numbers = {
        "pageviews": pageviews,
        "visitors": visitors,
        "visits": visits,
        "countries": countries,
        "events": _event_count(cur, q),
    }
    return {name: {"value": value} for name, value in numbers.items()}


def _umami_visits(cur: duckdb.DuckDBPyConnection, q: UmamiParams, pageviews: int) -> tuple[int, int]:
    """Visits, and the visitors that sessions holding only custom events add.

    A Medama page view is a visit: the page views less the Umami-collected ones. Umami-collected hits count
    their distinct visit ids, custom events included. A session's first hit carries the new-visitor flag,
    so an event-only session adds a visitor.
    """
    params = Params()
    sql = (
        "SELECT count(DISTINCT uh.visit_id), coalesce(count_if(uh.is_new_visitor AND uh.event_type = 2), 0),"  # noqa: S608
        f" coalesce(count_if(uh.event_type = 1), 0) FROM umami_hits AS uh WHERE {umami_hit_scope(q, params)}"
    )
    visits, event_visitors, umami_views = (as_int(v) for v in cur.execute(sql, params.values).fetchone() or (0, 0, 0))
    return pageviews - umami_views + visits, event_visitors


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
