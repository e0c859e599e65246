"""GET /website/{hostname}/pages (docs/stats.md#pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.grouped import rolled_counts
from medama_py.stats.medians import listed_medians
from medama_py.stats.query import BOUNCE, PAGE_VISITORS, PAGEVIEWS, Query, bounce, share, with_group_totals
from medama_py.stats.results import StatsPagesItem, as_int, as_ratio, as_text
from medama_py.storage.view_sums import DAY_BIN_SHIFT

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.params import StatsParams
    from medama_py.stats.query import Params
    from medama_py.storage.rollups import Rollups

__all__ = ["get_pages"]


def _paths(cur: duckdb.DuckDBPyConnection, params: StatsParams, bound: Params, rollups: Rollups | None) -> Query:
    """Per path (path, visitors, pageviews[, bounce_percentage]); the listed paths' medians are read after paging."""
    filters, summary = params.filters, params.summary
    metrics = ["page_visitors", "pageviews"] if summary else ["page_visitors", "pageviews", "timings"]
    counts = rolled_counts(cur, rollups, filters, "v.pathname", bound, metrics)
    if counts is not None:
        paths = Query(params=bound).select("c.label AS path", "c.page_visitors AS visitors")
        paths.select("c.pageviews AS pageviews").from_(f"({counts}) AS c")
        if not summary:
            paths.select(f"{bounce('c.timings')} AS bounce_percentage")
        return paths
    paths = Query(params=bound).select("v.pathname AS path", f"{PAGE_VISITORS} AS visitors")
    paths.select(f"{PAGEVIEWS} AS pageviews").from_("views AS v").where(filters.where(bound)).group_by("v.pathname")
    if not summary:
        paths.select(f"{BOUNCE} AS bounce_percentage")
    return paths


def get_pages(
    cur: duckdb.DuckDBPyConnection, params: StatsParams, rollups: Rollups | None = None, held_max: int | None = None
) -> list[StatsPagesItem]:
    """Per path: unique-page visitors and, in full, page views, bounce rate and median duration.

    `held_max`: how many durations the medians may hold at once (stats/medians.py `listed_quantiles`).

    With `rollups`, the counts of whole days come from the day rows (stats/grouped.py); the numbers are the same.
    """
    filters, summary, page = params.filters, params.summary, params.page
    query = Query()
    paths = _paths(cur, params, query.params, rollups)
    # The shares are summed over every path before dropping the zero-visitor ones: the page-view total
    # includes the views of paths that are then hidden.
    with_group_totals(query, paths, "visitors", "pageviews")
    query.select("g.path", "g.visitors", f"{share('g.visitors', 't.total_visitors')} AS visitors_percentage")
    if not summary:
        query.select("g.pageviews", f"{share('g.pageviews', 't.total_pageviews')} AS pageviews_percentage")
        query.select("g.bounce_percentage")
        query.order_by("visitors DESC", "pageviews DESC", "path ASC")
    else:
        query.order_by("visitors DESC", "path ASC")
    query.where("g.visitors > 0").page(page)
    rows = query.fetch(cur)
    if summary:
        return [StatsPagesItem(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in rows]
    # The medians of the listed paths only; their page views bound how many durations those hold.
    listed, views = [as_text(r[0]) for r in rows], sum(as_int(r[3]) for r in rows)
    medians = listed_medians(cur, filters, "v.pathname", listed, DAY_BIN_SHIFT, durations=views, held_max=held_max)
    return [
        StatsPagesItem(
            as_text(r[0]),
            as_int(r[1]),
            as_ratio(r[2]),
            as_int(r[3]),
            as_ratio(r[4]),
            as_ratio(r[5]),
            medians[as_text(r[0])],
        )
        for r in rows
    ]
