"""Sessions and visits of Umami-collected hits (docs/umami.md, "Sessions and visits").

Medama's tracker links nothing across page loads, so a Medama page view is its own session and visit. A hit
collected through /umami/api/send carries the session and visit the collector gave it, in `umami_hits`
(from the signed visit token, or a keyed hash of the site's distinct id). Reads that count sessions or
visits split the rows by that table: Medama's by the old rule, Umami's by their ids.

Whether a site has Umami-collected rows at all is asked first (`has_umami_hits`); without any, every query
keeps its Medama-only form, which is what the 10M-row benchmarks measure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.query import Params
from medama_py.umami.sql import event_where, view_where

if TYPE_CHECKING:
    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = [
    "BY_ID",
    "BY_TIME",
    "PAGE_VIEW",
    "UMAMI_HIT_ID",
    "has_umami_hits",
    "is_unfiltered",
    "umami_hit_scope",
    "umami_range",
    "umami_view_key",
    "umami_views_cte",
]

PAGE_VIEW, CUSTOM_EVENT = 1, 2
# A Umami-collected hit's id over `umami_hits AS uh`: a page view's bid, a custom event's events batch id.
UMAMI_HIT_ID = f"CASE WHEN uh.event_type = {PAGE_VIEW} THEN uh.bid ELSE uh.batch_id END"


def has_umami_hits(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> bool:
    """Whether the site has any Umami-collected hit in the range (any at all when the range is open)."""
    params_sql = ["site = $h"]
    values: dict[str, object] = {"h": q.filters.hostname}
    if q.filters.start is not None:
        params_sql.append("date_created >= $s")
        values["s"] = q.filters.start
    if q.filters.end is not None:
        params_sql.append("date_created <= $e")
        values["e"] = q.filters.end
    sql = f"SELECT EXISTS (SELECT 1 FROM umami_hits WHERE {' AND '.join(params_sql)})"  # noqa: S608 (fixed text)
    row = cur.execute(sql, values).fetchone()
    return bool(row and row[0])


def umami_range(q: UmamiParams, params: Params, alias: str = "uh", site: str = "site") -> str:
    """The site and the range over `umami_hits AS <alias>` (or `views`, whose `site` column is `hostname`).

    `alias` and `site` are code-defined.
    """
    parts = [f"{alias}.{site} = {params.bind(q.filters.hostname)}"]
    if q.filters.start is not None:
        parts.append(f"{alias}.date_created >= {params.bind(q.filters.start)}")
    if q.filters.end is not None:
        parts.append(f"{alias}.date_created <= {params.bind(q.filters.end)}")
    return " AND ".join(parts)


def umami_views_cte(q: UmamiParams, params: Params) -> str:
    """A CTE `uv(bid, visit_id, session_id, date_created)`: the range's Umami-collected page views.

    Join it to `views AS v` on `umami_view_key`.
    """
    return (
        f"uv AS MATERIALIZED (SELECT uh.bid, uh.visit_id, uh.session_id, uh.date_created FROM umami_hits AS uh"  # noqa: S608
        f" WHERE {umami_range(q, params)} AND uh.event_type = {PAGE_VIEW})"
    )


BY_ID, BY_TIME = "v.bid = uv.bid", "v.date_created = uv.date_created"


def umami_view_key(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> str:
    """How `uv` (umami_views_cte) finds its `views` rows: by time when that is exact, else by id.

    An Umami-collected page view's `views` row has its bid and its time (the collector writes both, in one
    transaction, and retention and deletion remove both). Joining on the time reads no bid: ~4x cheaper over
    10M page views. Joined on the time with the site's page views of the range, each Umami page view meets
    its own row and any other page view of that very microsecond, Umami's or Medama's: as many joined rows
    as Umami page views means each met only its own. Otherwise the join is by id.
    """
    params = Params()
    sql = (
        f"WITH {umami_views_cte(q, params)} SELECT (SELECT count(*) FROM uv), (SELECT count(*) FROM uv"  # noqa: S608
        f" JOIN views AS v ON {BY_TIME} WHERE {umami_range(q, params, 'v', 'hostname')})"
    )
    row = cur.execute(sql, params.values).fetchone() or (0, -1)
    return BY_TIME if row[0] == row[1] else BY_ID


def is_unfiltered(q: UmamiParams) -> bool:
    """No filter and no search: the range alone selects the rows."""
    return not q.filters.conditions and not q.extra and not q.search


def umami_hit_scope(q: UmamiParams, params: Params, view_extra: str = "", event_extra: str = "") -> str:
    """The WHERE body over `umami_hits AS uh` selecting the hits the request's filters keep.

    A page view is kept when its `views` row passes view_where, a custom event when its `events` row passes
    event_where: the same rules as every other route, so filters mean the same here. `view_extra` and
    `event_extra` add conditions over `v` and `e` (code-built, values bound). Without any filter the range
    alone decides, and neither table is read: matching 1M Umami hits against 10M page views by id costs
    seconds, the range a scan of `umami_hits`.
    """
    if is_unfiltered(q) and not view_extra and not event_extra:
        return f"{umami_range(q, params)} AND uh.event_type IN ({PAGE_VIEW}, {CUSTOM_EVENT})"
    views = f"SELECT v.bid FROM views AS v WHERE {view_where(q, params)}{view_extra}"  # noqa: S608
    events = f"SELECT e.batch_id FROM events AS e WHERE {event_where(q, params)}{event_extra}"  # noqa: S608
    return (
        f"{umami_range(q, params)} AND ((uh.event_type = {PAGE_VIEW} AND uh.bid IN ({views}))"
        f" OR (uh.event_type = {CUSTOM_EVENT} AND uh.batch_id IN ({events})))"
    )
