"""GET /website/{hostname}/pages (docs/stats.md#pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.medians import quantiles_of
from medama_py.stats.query import BOUNCE, DURATION, PAGE_VISITORS, PAGEVIEWS, Query, share, with_group_totals
from medama_py.stats.results import StatsPagesItem, as_int, as_ratio, as_text

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.params import StatsParams

__all__ = ["get_pages"]


def get_pages(cur: duckdb.DuckDBPyConnection, params: StatsParams) -> list[StatsPagesItem]:
    """Per path: unique-page visitors and, in full, page views, bounce rate and median duration."""
    filters, summary, page = params.filters, params.summary, params.page
    query = Query()
    paths = (
        Query(params=query.params)
        .select("v.pathname AS path", f"{PAGE_VISITORS} AS visitors", f"{PAGEVIEWS} AS pageviews")
        .from_("views AS v")
        .where(filters.where(query.params))
        .group_by("v.pathname")
    )
    # With a limit, only the listed paths' medians are computed, after paging (medians.quantiles_of).
    later = page.limit is not None
    if not summary:
        paths.select(f"{BOUNCE} AS bounce_percentage", f"{'NULL' if later else DURATION} AS duration")
    # The shares are summed over every path before dropping the zero-visitor ones: the page-view total
    # includes the views of paths that are then hidden.
    with_group_totals(query, paths, "visitors", "pageviews")
    query.select("g.path", "g.visitors", f"{share('g.visitors', 't.total_visitors')} AS visitors_percentage")
    if not summary:
        query.select("g.pageviews", f"{share('g.pageviews', 't.total_pageviews')} AS pageviews_percentage")
        query.select("g.bounce_percentage", "g.duration")
        query.order_by("visitors DESC", "pageviews DESC", "path ASC")
    else:
        query.order_by("visitors DESC", "path ASC")
    query.where("g.visitors > 0").page(page)
    rows = query.fetch(cur)
    if summary:
        return [StatsPagesItem(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in rows]
    medians = quantiles_of(cur, filters, "v.pathname", [as_text(r[0]) for r in rows], [0.5]) if later else {}
    return [
        StatsPagesItem(
            as_text(r[0]),
            as_int(r[1]),
            as_ratio(r[2]),
            as_int(r[3]),
            as_ratio(r[4]),
            as_ratio(r[5]),
            medians[as_text(r[0])][0] if later else as_int(r[6]),
        )
        for r in rows
    ]
