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
from medama_py.umami.identity import UMAMI_HIT_ID, has_umami_hits
from medama_py.umami.sql import EVENT_NAME, event_where, has_named_events, iso, view_where

if TYPE_CHECKING:
    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = ["count_of", "cutoff_time", "event_list", "paged", "searched_view_where"]

_VIEW_DETAILS = "v.pathname, v.referrer_host, v.country, v.ua_device_type, v.ua_os, v.ua_browser"


def paged(q: UmamiParams, params: Params) -> str:
    return f"LIMIT {params.bind(q.page_size)} OFFSET {params.bind((q.page - 1) * q.page_size)}"


def count_of(cur: duckdb.DuckDBPyConnection, sql: str, params: Params) -> int:
    row = cur.execute(sql, params.values).fetchone()
    return as_int(row[0] if row else 0)


def _event_item(
    website_id: str, hostname: str, row: tuple[object, ...], umami: dict[str, object] | None
) -> dict[str, object]:
    """One event; `umami` holds the Umami-collected hit's own ids and page fields (None for Medama's rows)."""
    kind, key, sub, bid, at, name, path, referrer, country, device, os, browser = row
    session = str(bid) if bid else str(key)
    item: dict[str, object] = {
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
    if umami is not None:
        item.update({field: value for field, value in umami.items() if value is not None or field not in _KEPT})
    return item


# Fields of an Umami-collected hit that replace the Medama row's, and the ones kept when the hit lacks them.
_UMAMI_EVENT_FIELDS = (
    "id", "sessionId", "visitId", "hostname", "urlPath", "urlQuery", "referrerPath", "referrerQuery",
    "referrerDomain", "pageTitle", "hasData",
)  # fmt: skip
_KEPT = frozenset({"hostname", "urlPath", "referrerDomain"})


def _umami_event_fields(
    cur: duckdb.DuckDBPyConnection, hostname: str, rows: list[tuple[object, ...]]
) -> dict[tuple[int, str], dict[str, object]]:
    """The Umami-collected hits among a page's rows, by (kind, key): their own ids, URL parts and title."""
    times = [row[4] for row in rows if isinstance(row[4], datetime)]
    if not times:
        return {}
    found = cur.execute(
        f"SELECT uh.event_type, {UMAMI_HIT_ID} AS k, k,"  # noqa: S608 (fixed text)
        " uh.session_id, uh.visit_id, uh.hostname, uh.url_path, uh.url_query, uh.referrer_path, uh.referrer_query,"
        " uh.referrer_domain, uh.page_title,"
        " uh.event_type = 2 AND uh.batch_id IN (SELECT d.event_id FROM umami_event_data AS d WHERE d.site = $h)"
        " FROM umami_hits AS uh WHERE uh.site = $h AND uh.date_created >= $first AND uh.date_created <= $last"
        " AND k IN (SELECT unnest($keys::VARCHAR[]))",
        {"h": hostname, "first": min(times), "last": max(times), "keys": [str(row[1]) for row in rows]},
    ).fetchall()
    return {(as_int(kind), str(key)): dict(zip(_UMAMI_EVENT_FIELDS, rest, strict=True)) for kind, key, *rest in found}


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


def cutoff_time(cur: duckdb.DuckDBPyConnection, sides: list[str], params: Params, newest: int) -> object:
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

    A lower bound of the page's times is found first (`cutoff_time` over page views), then both sides are read
    from that time on and the page is cut from their union. Page views carry their details; custom events
    then meet their page view in a second, time-bounded query, and Umami-collected hits their own session,
    visit, URL parts and title in a third (docs/umami.md, "Sessions and visits").
    """
    named = has_named_events(cur, q.filters.hostname)
    ranked = Params()
    views = searched_view_where(q, ranked)
    # The n-th newest page view bounds the page from below: the union has at least those n rows at or after it.
    # Ranking page views only is also what the time-ordered file serves fastest.
    side = f"(SELECT v.date_created AS ts FROM views AS v WHERE {views})"  # noqa: S608
    cutoff = cutoff_time(cur, [side], ranked, q.page * q.page_size)
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
        f" {_NEWEST} {paged(q, params)}"
    )
    rows = _with_event_pages(cur, q.filters.hostname, cur.execute(sql, params.values).fetchall())
    umami = _umami_event_fields(cur, q.filters.hostname, rows) if has_umami_hits(cur, q) else {}
    data = [_event_item(website_id, q.filters.hostname, row, umami.get((as_int(row[0]), str(row[1])))) for row in rows]
    count_params = Params()
    views, events = _list_where(q, count_params, named=named)
    count_sql = (
        f"SELECT (SELECT count(*) FROM views AS v WHERE {views})"  # noqa: S608
        f" + (SELECT count(*) FROM events AS e WHERE {events})"
    )
    return {"data": data, "count": count_of(cur, count_sql, count_params), "page": q.page, "pageSize": q.page_size}


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


def searched_view_where(q: UmamiParams, params: Params) -> str:
    """view_where, with `search` on the path."""
    where = view_where(q, params)
    if q.search:
        where += f" AND contains(lower(v.pathname), lower({params.bind(q.search)}))"
    return where
