"""Sessions of the Umami API: the paged list, one session, its activity (docs/umami.md, "Sessions and visits").

A Medama page view is a session of its own, named by its beacon id (`bid`), with its custom events. An
Umami-collected hit belongs to the session the collector gave it (`umami_hits.session_id`): such a session
gathers its page views and custom events in the range, over one or more visits. Lists are newest first by
the session's first hit in the range, ties by id, so paging never repeats or skips a row.

Medama's side of a page is bounded by a time cutoff (the n-th newest page view, as the events list does),
so it reads a few row groups even at 10M rows; Umami's sessions are grouped in full, which costs in
proportion to the site's Umami-collected hits in the range. A site without any keeps the Medama-only path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from medama_py.stats.query import Params
from medama_py.stats.results import as_int
from medama_py.umami.countries import code_for_country
from medama_py.umami.identity import UMAMI_HIT_ID, has_umami_hits, umami_hit_scope, umami_range
from medama_py.umami.lists import count_of, cutoff_time, paged, searched_view_where
from medama_py.umami.sql import EVENT_NAME, is_event_row, iso

if TYPE_CHECKING:
    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = ["session_activity", "session_detail", "session_list"]

_SESSION_COLUMNS = (
    "v.bid, v.hostname, v.ua_browser, v.ua_os, v.ua_device_type, v.language_dialect, v.country,"
    " v.date_created, v.duration_ms"
)
_NULL_GEO = {"region": None, "city": None, "subdivision1": None, "subdivision2": None}


def _session_item(website_id: str, row: tuple[object, ...]) -> dict[str, object]:
    """A Medama page view as a session: one visit, one view, its custom events."""
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
        **_NULL_GEO,
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


def _medama_sessions(
    cur: duckdb.DuckDBPyConnection, hostname: str, bids: list[str], since: object = None
) -> dict[str, dict[str, object]]:
    """The Medama sessions (page views, none older than `since`) with these ids, by id.

    `website_id` is filled in by the caller.
    """
    if not bids:
        return {}
    params = Params()
    host = params.bind(hostname)
    page_sql = (
        f"SELECT {_SESSION_COLUMNS} FROM views AS v WHERE v.hostname = {host}"  # noqa: S608
        f" AND v.bid IN (SELECT unnest({params.bind(bids)}::VARCHAR[]))"
    )
    if since is not None:
        page_sql += f" AND v.date_created >= {params.bind(since)}"
    rows = cur.execute(_with_event_counts(page_sql, host), params.values).fetchall()
    return {str(row[0]): _session_item("", row) for row in rows}


def _medama_session_list(cur: duckdb.DuckDBPyConnection, q: UmamiParams, website_id: str) -> dict[str, object]:
    """Paged sessions of a site without Umami-collected hits: each page view with its custom-event count."""
    ranked = Params()
    side = f"(SELECT v.date_created AS ts FROM views AS v WHERE {searched_view_where(q, ranked)})"  # noqa: S608
    cutoff = cutoff_time(cur, [side], ranked, q.page * q.page_size)
    rows: list[tuple[object, ...]] = []
    if cutoff is not None:
        params = Params()
        host = params.bind(q.filters.hostname)
        where = f"{searched_view_where(q, params)} AND v.date_created >= {params.bind(cutoff)}"
        page_sql = (
            f"SELECT {_SESSION_COLUMNS} FROM views AS v WHERE {where}"  # noqa: S608
            f" ORDER BY v.date_created DESC, v.bid DESC {paged(q, params)}"
        )
        rows = cur.execute(_with_event_counts(page_sql, host), params.values).fetchall()
    count_params = Params()
    count_where = searched_view_where(q, count_params)
    count = count_of(cur, f"SELECT count(*) FROM views AS v WHERE {count_where}", count_params)  # noqa: S608
    data = [_session_item(website_id, r) for r in rows]
    return {"data": data, "count": count, "page": q.page, "pageSize": q.page_size}


def _umami_scope(q: UmamiParams, params: Params) -> str:
    """The Umami-collected hits of the list: `search` matches a page view's path or a custom event's name."""
    if not q.search:
        return umami_hit_scope(q, params)
    term = params.bind(q.search)
    return umami_hit_scope(
        q,
        params,
        view_extra=f" AND contains(lower(v.pathname), lower({term}))",
        event_extra=f" AND contains(lower({EVENT_NAME}), lower({term}))",
    )


# DuckDB ranks the newest timestamps from the last row groups only up to ~12k rows (measured at 10M page views:
# 10-15 ms for 12,000, ~800 ms CPU for 15,000 and more, a full sort); larger bounds are found by counting.
_RANKED_AT_MOST = 10_000


def _medama_cutoff(cur: duckdb.DuckDBPyConnection, q: UmamiParams, wanted: int) -> object:
    """A time at or before the `wanted`-th newest Medama page view (None when there is no page view at all).

    The k-th newest page view of any kind (k ≤ _RANKED_AT_MOST) gives a first span; the span doubles until
    the page views from its start on, less every Umami page view of the range from then on, are at least
    `wanted`. Each step counts rows from a recent time, which the file's zone maps cut down to a few row
    groups; no page view is matched against the Umami ones by id.
    """
    params = Params()
    ranked = f"SELECT v.date_created AS ts FROM views AS v WHERE {searched_view_where(q, params)}"  # noqa: S608
    top = params.bind(min(wanted, _RANKED_AT_MOST))
    sql = f"SELECT max(ts), min(ts), count(*) FROM ({ranked} ORDER BY ts DESC LIMIT {top})"  # noqa: S608
    newest, cutoff, seen = cur.execute(sql, params.values).fetchone() or (None, None, 0)
    if (
        not isinstance(newest, datetime)
        or not isinstance(cutoff, datetime)
        or as_int(seen) < min(wanted, _RANKED_AT_MOST)
    ):
        return cutoff  # every page view is at or after it
    span = max(newest - cutoff, timedelta(seconds=1))
    earliest = q.filters.start
    while True:
        since = newest - span
        if earliest is not None and since <= earliest:
            return earliest
        if _medama_views_since(cur, q, since) >= wanted:
            return since
        span *= 2


def _medama_views_since(cur: duckdb.DuckDBPyConnection, q: UmamiParams, since: datetime) -> int:
    """The list's page views from `since` on, less the range's Umami page views from then on (a lower bound)."""
    params = Params()
    at = params.bind(since)
    return count_of(
        cur,
        f"SELECT (SELECT count(*) FROM views AS v WHERE {searched_view_where(q, params)} AND v.date_created >= {at})"  # noqa: S608
        f" - (SELECT count(*) FROM umami_hits AS uh WHERE {umami_range(q, params)} AND uh.event_type = 1"
        f" AND uh.date_created >= {at})",
        params,
    )


def _mixed_sides(q: UmamiParams, params: Params, cutoff: object) -> str:
    """`starts(id, first, umami)`: Medama page views from the cutoff on, and every Umami session's first hit."""
    medama = searched_view_where(q, params)
    if cutoff is None:
        medama += " AND false"
    else:
        since = params.bind(cutoff)
        umami_views = f"SELECT uh.bid FROM umami_hits AS uh WHERE {umami_range(q, params)} AND uh.event_type = 1"  # noqa: S608
        medama += f" AND v.date_created >= {since} AND v.bid NOT IN ({umami_views} AND uh.date_created >= {since})"
    return (
        "WITH starts AS (SELECT v.bid AS id, v.date_created AS first, false AS umami"  # noqa: S608
        f" FROM views AS v WHERE {medama} UNION ALL SELECT uh.session_id, min(uh.date_created), true"
        f" FROM umami_hits AS uh WHERE {_umami_scope(q, params)} GROUP BY uh.session_id)"
    )


def _mixed_session_list(cur: duckdb.DuckDBPyConnection, q: UmamiParams, website_id: str) -> dict[str, object]:
    """Paged sessions of a site with Umami-collected hits: Medama's page views and Umami's sessions, merged."""
    # Only the n newest Medama sessions can be on pages 1..page, so the n-th newest bounds Medama's side.
    cutoff = _medama_cutoff(cur, q, q.page * q.page_size)
    params = Params()
    order = f"ORDER BY first DESC, id DESC {paged(q, params)}"
    sql = f"{_mixed_sides(q, params, cutoff)} SELECT id, umami FROM starts {order}"  # noqa: S608
    page = [(str(sid), bool(umami)) for sid, umami in cur.execute(sql, params.values).fetchall()]
    found = _medama_sessions(cur, q.filters.hostname, [sid for sid, umami in page if not umami], cutoff)
    found |= _umami_sessions(cur, q, [sid for sid, umami in page if umami])
    data = [{**found[sid], "websiteId": website_id} for sid, _ in page if sid in found]
    counting = Params()
    scope = _umami_scope(q, counting)
    count_sql = (
        f"SELECT (SELECT count(*) FROM views AS v WHERE {searched_view_where(q, counting)})"  # noqa: S608
        f" - (SELECT count(*) FROM umami_hits AS uh WHERE {scope} AND uh.event_type = 1)"
        f" + (SELECT count(DISTINCT uh.session_id) FROM umami_hits AS uh WHERE {scope})"
    )
    return {"data": data, "count": count_of(cur, count_sql, counting), "page": q.page, "pageSize": q.page_size}


def session_list(cur: duckdb.DuckDBPyConnection, q: UmamiParams, website_id: str) -> dict[str, object]:
    """GET /websites/:id/sessions: paged, newest first."""
    if has_umami_hits(cur, q):
        return _mixed_session_list(cur, q, website_id)
    return _medama_session_list(cur, q, website_id)


# A session's client is its first hit's: browser, OS, device and country come from the page view a hit is (or,
# for a custom event, happened on) through `bid` (umami_hits keeps only what `views` does not, docs/umami.md).
_UMAMI_SESSION_COLUMNS = (
    "uh.session_id, arg_min(coalesce(uh.hostname, uh.site), uh.date_created),"
    " arg_min(uh.screen, uh.date_created), arg_min(uh.language, uh.date_created),"
    " min(uh.date_created), max(uh.date_created),"
    " count(DISTINCT uh.visit_id), count_if(uh.event_type = 1), count_if(uh.event_type = 2),"
    " arg_max(uh.visit_id, uh.date_created)"
)
# How far before a session's first hit its page views are looked for: a custom event's page view is older.
_PAGE_LOOKBACK = timedelta(days=1)


def _umami_session_rows(
    cur: duckdb.DuckDBPyConnection, hostname: str, where: str, params: Params
) -> list[tuple[object, ...]]:
    """Umami sessions over the hits `where` keeps (a body over `umami_hits AS uh`), one row each.

    umami_hits keeps only what `views` does not: the client (browser, OS, device, country) of a session's
    first hit comes from the page view it is, or happened on, and the time from its page views' durations.
    Those are read in a second query over the page views between the sessions' first and last hits, a
    range the file's zone maps cut down, matched by id against these sessions' hits only.
    """
    sql = f"SELECT {_UMAMI_SESSION_COLUMNS} FROM umami_hits AS uh WHERE {where} GROUP BY uh.session_id"  # noqa: S608
    rows = cur.execute(sql, params.values).fetchall()
    if not rows:
        return rows
    firsts = [row[4] for row in rows if isinstance(row[4], datetime)]
    lasts = [row[5] for row in rows if isinstance(row[5], datetime)]
    params.values["first"] = min(firsts) - _PAGE_LOOKBACK
    params.values["last"] = max(lasts)
    params.values["host"] = hostname
    pages = cur.execute(
        "SELECT uh.session_id, uh.event_type, v.ua_browser, v.ua_os, v.ua_device_type, v.country,"  # noqa: S608
        " v.duration_ms FROM umami_hits AS uh JOIN views AS v ON v.bid = uh.bid"
        f" WHERE {where} AND uh.bid <> '' AND v.hostname = $host"
        " AND v.date_created >= $first AND v.date_created <= $last ORDER BY uh.date_created",
        params.values,
    ).fetchall()
    client: dict[str, tuple[object, ...]] = {}
    spent: dict[str, int] = {}
    for sid, kind, *agent, duration in pages:
        client.setdefault(str(sid), tuple(agent))  # the earliest hit's
        if kind == 1:
            spent[str(sid)] = spent.get(str(sid), 0) + as_int(duration or 0) // 1000
    unknown = (None, None, None, None)
    return [(*row, *client.get(str(row[0]), unknown), spent.get(str(row[0]), 0)) for row in rows]


def _umami_session_item(site_hostname: str, row: tuple[object, ...]) -> dict[str, object]:
    """An Umami session: its first hit's client, its hits' span, visits, page views, custom events, time."""
    sid, hostname, screen, language, first, last, *counts, visit, browser, os, device, country, seconds = row
    visits, views, events = (as_int(n) for n in counts)
    return {
        "id": str(sid),
        "websiteId": "",
        "hostname": str(hostname or site_hostname),
        "browser": str(browser or "Unknown"),
        "os": str(os or "Unknown"),
        "device": str(device or "Unknown").lower(),
        "screen": None if screen is None else str(screen),
        "language": None if language is None else str(language),
        "country": code_for_country(None if country is None else str(country)),
        **_NULL_GEO,
        "firstAt": iso(first),
        "lastAt": iso(last),
        "visits": visits,
        "views": views,
        "events": events,
        "totaltime": as_int(seconds),
        "createdAt": iso(first),
        "visitId": str(visit),
    }


def _umami_sessions(cur: duckdb.DuckDBPyConnection, q: UmamiParams, ids: list[str]) -> dict[str, dict[str, object]]:
    """The Umami sessions with these ids, counting their hits the list's range and filters keep."""
    if not ids:
        return {}
    params = Params()
    where = f"{_umami_scope(q, params)} AND uh.session_id IN (SELECT unnest({params.bind(ids)}::VARCHAR[]))"
    rows = _umami_session_rows(cur, q.filters.hostname, where, params)
    return {str(row[0]): _umami_session_item(q.filters.hostname, row) for row in rows}


def session_detail(
    cur: duckdb.DuckDBPyConnection, hostname: str, session_id: str, website_id: str
) -> dict[str, object] | None:
    """One session by id (an Umami session over all its hits, else a Medama page view), or None."""
    params = Params()
    where = f"uh.site = {params.bind(hostname)} AND uh.session_id = {params.bind(session_id)}"
    rows = _umami_session_rows(cur, hostname, where, params)
    found = (
        _umami_session_item(hostname, rows[0])
        if rows
        else _medama_sessions(cur, hostname, [session_id]).get(session_id)
    )
    return None if found is None else {**found, "websiteId": website_id}


def session_activity(
    cur: duckdb.DuckDBPyConnection, hostname: str, session_id: str, q: UmamiParams
) -> list[dict[str, object]]:
    """The session's page views and custom events, newest first."""
    found = _umami_activity(cur, hostname, session_id, q)
    return found if found else _medama_activity(cur, hostname, session_id, q)


def _bounds(q: UmamiParams, params: Params, column: str) -> str:
    if q.filters.start is None or q.filters.end is None:
        return ""
    return f" AND {column} BETWEEN {params.bind(q.filters.start)} AND {params.bind(q.filters.end)}"


def _umami_activity(
    cur: duckdb.DuckDBPyConnection, hostname: str, session_id: str, q: UmamiParams
) -> list[dict[str, object]]:
    params = Params()
    sql = (
        f"SELECT uh.date_created, uh.url_path, uh.url_query, uh.referrer_domain, {UMAMI_HIT_ID}, uh.event_type,"  # noqa: S608
        f" uh.event_name, uh.visit_id FROM umami_hits AS uh WHERE uh.site = {params.bind(hostname)}"
        f" AND uh.session_id = {params.bind(session_id)}{_bounds(q, params, 'uh.date_created')}"
        f" ORDER BY uh.date_created DESC, uh.event_type DESC, {UMAMI_HIT_ID} DESC"
    )
    names = ("createdAt", "urlPath", "urlQuery", "referrerDomain", "eventId", "eventType", "eventName", "visitId")
    rows = cur.execute(sql, params.values).fetchall()
    return [{**dict(zip(names, row, strict=True)), "createdAt": iso(row[0])} for row in rows]


def _medama_activity(
    cur: duckdb.DuckDBPyConnection, hostname: str, session_id: str, q: UmamiParams
) -> list[dict[str, object]]:
    params = Params()
    host, sid = params.bind(hostname), params.bind(session_id)
    sql = (
        "SELECT * FROM (SELECT v.date_created AS ts, v.pathname AS path, v.referrer_host AS ref, v.bid AS id,"  # noqa: S608
        f" 1 AS kind, NULL AS name FROM views AS v WHERE v.hostname = {host} AND v.bid = {sid}"
        f" UNION ALL SELECT e.date_created, NULL, NULL, e.batch_id || ':' || e.name, 2, {EVENT_NAME} FROM events AS e"
        f" WHERE e.group_name = {host} AND e.bid = {sid} AND {is_event_row(host)})"
        f" WHERE true{_bounds(q, params, 'ts')} ORDER BY ts DESC, kind DESC, id DESC"
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
