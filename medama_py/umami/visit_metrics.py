"""Metrics that depend on visits, for a site with Umami-collected hits (docs/umami.md, "Sessions and visits").

A Medama page view is a visit of its own, so it is its visit's entry and exit page, and a visit of one page.
An Umami-collected page view belongs to the visit the collector gave it (`umami_hits.visit_id`): only a
visit's first page view in the range is its entry, only its last its exit, and a visit is a bounce when it
has exactly one page view in the range. `visitors` stays the unique-visitor flag count, attributed to the
visit that holds the flag, so the entry (or exit) values' visitors add up to /stats' visitors.

Every row is still a `views` row read through the same filters as the other routes. The numbers are computed
the Medama way over all page views (one scan), then corrected for the Umami-collected ones, which are the
only rows matched with `umami_hits` by id: matching every page view costs several times more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.umami.identity import PAGE_VIEW, umami_range, umami_views_cte
from medama_py.umami.sql import view_where

if TYPE_CHECKING:
    from medama_py.stats.query import Params
    from medama_py.umami.params import UmamiParams

__all__ = ["by_label_sql", "by_visit_end_sql", "umami_only_sql"]

_BOUNCE = "coalesce(v.duration_ms, 0) <= 5000"  # Medama's bounce band's upper end (reports.BOUNCES per row)
_SECONDS = "coalesce(v.duration_ms // 1000, 0)::BIGINT"  # unsigned in views: negated below
_NUMBERS = "y, pageviews, visits, bounces, totaltime"


def _sides(q: UmamiParams, params: Params, label: str, flag: str, where_extra: str, key: str) -> str:
    """CTEs `every` and `umami`: every page view counted as a visit of its own, and the Umami-collected ones.

    `every(x, y, pageviews, visits, bounces, totaltime)` per value; `umami(x, flag, seen, bid, seconds,
    bounce, visit_id)` per page view. `label`, `flag`, `where_extra` and the join `key` (umami_view_key) are
    code-built SQL.
    """
    where = f"{view_where(q, params)}{where_extra}"
    return (
        f"WITH {umami_views_cte(q, params)}, every AS (SELECT {label} AS x, count_if({flag}) AS y,"  # noqa: S608
        f" count(*) AS pageviews, count(*) AS visits, count_if({_BOUNCE}) AS bounces, sum({_SECONDS}) AS totaltime"
        f" FROM views AS v WHERE {where} GROUP BY x),"
        f" umami AS MATERIALIZED (SELECT {label} AS x, {flag} AS flag, v.date_created AS seen, v.bid,"
        f" {_SECONDS} AS seconds, {_BOUNCE} AS bounce, uv.visit_id"
        f" FROM uv JOIN views AS v ON {key} WHERE {where})"
    )


def _summed(corrections: str) -> str:
    """The values' numbers: `every` corrected by `corrections` (values left without a page view are dropped)."""
    return (
        " SELECT x, sum(y) AS y, sum(pageviews) AS pageviews, sum(visits) AS visits, sum(bounces) AS bounces,"  # noqa: S608
        f" coalesce(sum(totaltime), 0) AS totaltime FROM (SELECT x, {_NUMBERS} FROM every UNION ALL {corrections})"
        " GROUP BY x HAVING sum(pageviews) > 0"
    )


def by_label_sql(q: UmamiParams, params: Params, label: str, flag: str, where_extra: str, key: str) -> str:
    """`x, y (visitors), pageviews, visits, bounces, totaltime` per value (grouped; no search, order or page).

    visits: a Medama page view counts one, an Umami visit one per value it viewed; bounces: Medama's duration
    rule, and an Umami visit whose only page view in the range has the value.
    """
    return (
        f"{_sides(q, params, label, flag, where_extra, key)},"  # noqa: S608
        " sizes AS (SELECT visit_id, count(*) AS n FROM umami GROUP BY visit_id)"
        + _summed(
            "SELECT x, 0, 0, count(DISTINCT umami.visit_id) - count(*),"
            " count_if(sizes.n = 1) - count_if(bounce), 0"
            " FROM umami JOIN sizes ON sizes.visit_id = umami.visit_id GROUP BY x"
        )
    )


def by_visit_end_sql(q: UmamiParams, params: Params, label: str, key: str, *, last: bool) -> str:
    """`x, y (visitors), pageviews, visits, bounces, totaltime` per entry (or, `last`, exit) value.

    Each Umami visit (its page views, flags, time, whether it bounced) counts under the value it began (ended)
    at instead of each page view under its own.
    """
    order = "seen DESC, bid DESC" if last else "seen, bid"
    return _sides(q, params, label, "v.is_unique_user", "", key) + _summed(
        "SELECT x, -(flag::INTEGER), -1, -1, -(bounce::INTEGER), -seconds FROM umami"  # noqa: S608
        f" UNION ALL SELECT first(x ORDER BY {order}), sum(flag::INTEGER), count(*), 1,"
        " (count(*) = 1)::INTEGER, sum(seconds) FROM umami GROUP BY visit_id"
    )


def umami_only_sql(q: UmamiParams, params: Params, column: str, flag: str, key: str) -> str:
    """`x, y (visitors), pageviews, visits, bounces, totaltime` per value of an Umami-only field, grouped.

    `column` (over `umami_hits AS uh`, e.g. the title) is a field only Umami-collected page views have. Each
    page view is read through its `views` row (`key`, umami_view_key) so the filters, the visitors flag
    and the time are those of every other route; a visit is a bounce when it has one page view in the range.
    """
    return (
        f"WITH uv AS MATERIALIZED (SELECT uh.bid, uh.date_created, uh.visit_id, {column} AS x"  # noqa: S608
        f" FROM umami_hits AS uh WHERE {umami_range(q, params)} AND uh.event_type = {PAGE_VIEW}),"
        f" pages AS MATERIALIZED (SELECT uv.x, uv.visit_id, {flag} AS flag, {_SECONDS} AS seconds"
        f" FROM uv JOIN views AS v ON {key} WHERE {view_where(q, params)}),"
        " sizes AS (SELECT visit_id, count(*) AS n FROM pages GROUP BY visit_id)"
        " SELECT x, count_if(flag) AS y, count(*) AS pageviews, count(DISTINCT pages.visit_id) AS visits,"
        " count_if(sizes.n = 1) AS bounces, coalesce(sum(seconds), 0) AS totaltime"
        " FROM pages JOIN sizes ON sizes.visit_id = pages.visit_id WHERE x IS NOT NULL GROUP BY x"
    )
