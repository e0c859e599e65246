"""Row lists of the Umami API: events, sessions, one session and its activity (docs/umami.md).

A Medama page view is one Umami event of type 1 and also its own session and visit, all named by its beacon
id (`bid`); each custom-event property row is one event of type 2, named by the property, belonging to the
session of the page view it was sent from. Lists are newest first, with a stable tie-break so that paging
never repeats or skips a row. The page is chosen first (a top-N over narrow columns), then only its rows
are joined to their details.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from medama_py.stats.query import Params
from medama_py.stats.results import as_int
from medama_py.umami.countries import code_for_country
from medama_py.umami.sql import EVENT_NAME, event_where, has_named_events, is_event_row, iso, view_where

if TYPE_CHECKING:
    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = ["event_list", "session_activity", "session_detail", "session_list"]

_VIEW_DETAILS = "v.pathname, v.referrer_host, v.country, v.ua_device_type, v.ua_os, v.ua_browser"


def _paged(q: UmamiParams, params: Params) -> str:
    return f"LIMIT {params.bind(q.page_size)} OFFSET {params.bind((q.page - 1) * q.page_size)}"


def _count(cur: duckdb.DuckDBPyConnection, sql: str, params: Params) -> int:
    row = cur.execute(sql, params.values).fetchone()
    return as_int(row[0] if row else 0)


def _event_item(website_id: str, hostname: str, row: tuple[object, ...]) -> dict[str, object]:
    kind, key, sub, bid, at, name, path, referrer, country, device, os, browser = row
    session = str(bid) if bid else str(key)
    return {
        "id": f"{key}:{sub}" if sub else str(key),
        "websiteId": website_id,
        "sessionId": session,
        "visitId": session,
        "createdAt": iso(at),
        "hostname": hostname,
        "urlPath": None if path is None else str(path),
        "urlQuery": None,
        "referrerPath": None,
        "referrerQuery": None,
        "referrerDomain": str(referrer) if referrer else None,
        "pageTitle": None,
        "eventType": as_int(kind),
        "eventName": None if name is None else str(name),
        "country": code_for_country(None if country is None else str(country)),
        "device": None if device is None else str(device).lower(),
        "os": None if os is None else str(os),
        "browser": None if browser is None else str(browser),
        "hasData": as_int(kind) == 2,
    }


def _list_where(q: UmamiParams, params: Params, *, named: bool) -> tuple[str, str]:
    """WHERE bodies of the page-view and custom-event sides of the list, with `search` on path or event name."""
    views, events = view_where(q, params), event_where(q, params, named=named)
    if q.search:
        term = params.bind(q.search)
        views += f" AND contains(lower(v.pathname), lower({term}))"
        events += f" AND contains(lower({EVENT_NAME}), lower({term}))"
    return views, events


# A custom event's page view is looked up no further back than this before the event (a bounded, time-ordered
# scan instead of one over every page view of the site); older pages leave urlPath and the like null.
_PAGE_LOOKBACK = timedelta(days=1)
_NEWEST = "ORDER BY ts DESC, kind DESC, k DESC, sub DESC"


def _cutoff(cur: duckdb.DuckDBPyConnection, sides: list[str], params: Params, newest: int) -> object:
    """The time of the `newest`-th newest row over the given FROM/WHERE sides (None when there are none).

    Only timestamps are ranked, which DuckDB does from the last row groups; the rows of the page are then
    read with `date_created >= cutoff`, a range the file's zone maps cut down to a few row groups.
    """
    top = params.bind(newest)
    ranked = " UNION ALL ".join(f"(SELECT ts FROM {side} ORDER BY ts DESC LIMIT {top})" for side in sides)  # noqa: S608
    sql = f"SELECT min(ts) FROM (SELECT ts FROM ({ranked}) ORDER BY ts DESC LIMIT {top})"  # noqa: S608
    row = cur.execute(sql, params.values).fetchone()
    return row[0] if row else None


def event_list(cur: duckdb.DuckDBPyConnection, q: UmamiParams, website_id: str) -> dict[str, object]:
    """Paged page views (type 1) and custom events (type 2), newest first.

    A lower bound of the page's times is found first (`_cutoff` over page views), then both sides are read
    from that time on and the page is cut from their union. Page views carry their details; custom events
    then meet their page view in a second, time-bounded query.
    """
    named = has_named_events(cur, q.filters.hostname)
    ranked = Params()
    views = _session_where(q, ranked)
    # The n-th newest page view bounds the page from below: the union has at least those n rows at or after it.
    # Ranking page views only is also what the time-ordered file serves fastest.
    side = f"(SELECT v.date_created AS ts FROM views AS v WHERE {views})"  # noqa: S608
    cutoff = _cutoff(cur, [side], ranked, q.page * q.page_size)
    params = Params()
    views, events = _list_where(q, params, named=named)
    if cutoff is not None:
        since = params.bind(cutoff)
        views += f" AND v.date_created >= {since}"
        events += f" AND e.date_created >= {since}"
    sql = (
        "SELECT * FROM (SELECT 1 AS kind, v.bid AS k, '' AS sub, v.bid, v.date_created AS ts, NULL AS name,"  # noqa: S608
        f" {_VIEW_DETAILS} FROM views AS v WHERE {views}"
        f" UNION ALL SELECT 2, e.batch_id, e.name, e.bid, e.date_created, {EVENT_NAME},"
        f" NULL, NULL, NULL, NULL, NULL, NULL FROM events AS e WHERE {events})"
        f" {_NEWEST} {_paged(q, params)}"
    )
    rows = _with_event_pages(cur, q.filters.hostname, cur.execute(sql, params.values).fetchall())
    data = [_event_item(website_id, q.filters.hostname, row) for row in rows]
    count_params = Params()
    views, events = _list_where(q, count_params, named=named)
    count_sql = (
        f"SELECT (SELECT count(*) FROM views AS v WHERE {views})"  # noqa: S608
        f" + (SELECT count(*) FROM events AS e WHERE {events})"
    )
    return {"data": data, "count": _count(cur, count_sql, count_params), "page": q.page, "pageSize": q.page_size}


def _with_event_pages(
    cur: duckdb.DuckDBPyConnection, hostname: str, rows: list[tuple[object, ...]]
) -> list[tuple[object, ...]]:
    """Fill the page-view details of the custom-event rows from their page views."""
    wanted = [row for row in rows if row[0] == 2 and row[3]]
    times = [row[4] for row in wanted if isinstance(row[4], datetime)]
    if not times:
        return rows
    found = cur.execute(
        f"SELECT v.bid, {_VIEW_DETAILS} FROM views AS v WHERE v.hostname = $h"  # noqa: S608
        " AND v.date_created >= $first AND v.date_created <= $last AND v.bid IN (SELECT unnest($bids::VARCHAR[]))",
        {"h": hostname, "first": min(times) - _PAGE_LOOKBACK, "last": max(times), "bids": [str(r[3]) for r in wanted]},
    ).fetchall()
    details = {str(bid): tuple(rest) for bid, *rest in found}
    return [(*row[:6], *details[str(row[3])]) if row[0] == 2 and str(row[3]) in details else row for row in rows]


_SESSION_COLUMNS = (
    "v.bid, v.hostname, v.ua_browser, v.ua_os, v.ua_device_type, v.language_dialect, v.country,"
    " v.date_created, v.duration_ms"
)


def _session_item(website_id: str, row: tuple[object, ...]) -> dict[str, object]:
    bid, hostname, browser, os, device, language, country, at, duration, events = row
    seconds = as_int(duration or 0) // 1000
    last = at + timedelta(milliseconds=as_int(duration)) if isinstance(at, datetime) and duration is not None else at
    return {
        "id": str(bid),
        "websiteId": website_id,
        "hostname": str(hostname),
        "browser": str(browser),
        "os": str(os),
        "device": str(device).lower(),
        "screen": None,
        "language": None if language is None else str(language),
        "country": code_for_country(None if country is None else str(country)),
        "region": None,
        "city": None,
        "subdivision1": None,
        "subdivision2": None,
        "firstAt": iso(at),
        "lastAt": iso(last),
        "visits": 1,
        "views": 1,
        "events": as_int(events or 0),
        "totaltime": seconds,
        "createdAt": iso(at),
        "visitId": str(bid),
    }


def _with_event_counts(page_sql: str, host: str) -> str:
    return (
        f"WITH page AS ({page_sql}),"  # noqa: S608
        f" counted AS (SELECT e.bid, count(*) AS n FROM events AS e WHERE e.group_name = {host}"
        f" AND e.bid IN (SELECT bid FROM page) AND {is_event_row(host)} GROUP BY e.bid)"
        " SELECT page.*, counted.n FROM page LEFT JOIN counted ON counted.bid = page.bid"
        " ORDER BY page.date_created DESC, page.bid DESC"
    )


def _session_where(q: UmamiParams, params: Params) -> str:
    where = view_where(q, params)
    if q.search:
        where += f" AND contains(lower(v.pathname), lower({params.bind(q.search)}))"
    return where


def session_list(cur: duckdb.DuckDBPyConnection, q: UmamiParams, website_id: str) -> dict[str, object]:
    """Paged sessions, newest first: each Medama page view with its custom-event count."""
    ranked = Params()
    side = f"(SELECT v.date_created AS ts FROM views AS v WHERE {_session_where(q, ranked)})"  # noqa: S608
    cutoff = _cutoff(cur, [side], ranked, q.page * q.page_size)
    rows: list[tuple[object, ...]] = []
    if cutoff is not None:
        params = Params()
        host = params.bind(q.filters.hostname)
        where = _session_where(q, params)
        page_sql = (
            f"SELECT {_SESSION_COLUMNS} FROM views AS v WHERE {where} AND v.date_created >= {params.bind(cutoff)}"  # noqa: S608
            f" ORDER BY v.date_created DESC, v.bid DESC {_paged(q, params)}"
        )
        rows = cur.execute(_with_event_counts(page_sql, host), params.values).fetchall()
    count_params = Params()
    count_where = _session_where(q, count_params)
    count = _count(cur, f"SELECT count(*) FROM views AS v WHERE {count_where}", count_params)  # noqa: S608
    return {
        "data": [_session_item(website_id, r) for r in rows],
        "count": count,
        "page": q.page,
        "pageSize": q.page_size,
    }


def session_detail(
    cur: duckdb.DuckDBPyConnection, hostname: str, session_id: str, website_id: str
) -> dict[str, object] | None:
    """One session (a Medama page view) by id, or None."""
    params = Params()
    host = params.bind(hostname)
    page_sql = (
        f"SELECT {_SESSION_COLUMNS} FROM views AS v"  # noqa: S608
        f" WHERE v.hostname = {host} AND v.bid = {params.bind(session_id)} LIMIT 1"
    )
    rows = cur.execute(_with_event_counts(page_sql, host), params.values).fetchall()
    return _session_item(website_id, rows[0]) if rows else None


def session_activity(
    cur: duckdb.DuckDBPyConnection, hostname: str, session_id: str, q: UmamiParams
) -> list[dict[str, object]]:
    """The session's page view and custom events, newest first."""
    params = Params()
    host, sid = params.bind(hostname), params.bind(session_id)
    bounds = ""
    if q.filters.start is not None and q.filters.end is not None:
        bounds = f" AND ts BETWEEN {params.bind(q.filters.start)} AND {params.bind(q.filters.end)}"
    sql = (
        "SELECT * FROM (SELECT v.date_created AS ts, v.pathname AS path, v.referrer_host AS ref, v.bid AS id,"  # noqa: S608
        f" 1 AS kind, NULL AS name FROM views AS v WHERE v.hostname = {host} AND v.bid = {sid}"
        f" UNION ALL SELECT e.date_created, NULL, NULL, e.batch_id || ':' || e.name, 2, {EVENT_NAME} FROM events AS e"
        f" WHERE e.group_name = {host} AND e.bid = {sid} AND {is_event_row(host)})"
        f" WHERE true{bounds} ORDER BY ts DESC, kind DESC, id DESC"
    )
    return [
        {
            "createdAt": iso(at),
            "urlPath": path,
            "urlQuery": None,
            "referrerDomain": ref or None,
            "eventId": str(event_id),
            "eventType": as_int(kind),
            "eventName": name,
            "visitId": session_id,
        }
        for at, path, ref, event_id, kind, name in cur.execute(sql, params.values).fetchall()
    ]
