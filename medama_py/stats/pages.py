"""GET /website/{hostname}/pages (stats.md 8.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.query import ALL_ROWS, BOUNCE, DURATION, PAGE_VISITORS, PAGEVIEWS, Query, share
from medama_py.stats.results import StatsPagesItem, as_int, as_ratio, as_text

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Page

__all__ = ["get_pages"]


def get_pages(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, summary: bool = False, page: Page = ALL_ROWS
) -> list[StatsPagesItem]:
    """Per path: unique-page visitors and, in full, page views, bounce rate and median duration."""
    query = Query()
    # The shares are computed over every path before dropping the zero-visitor ones: the page-view
    # total includes the views of paths that are then hidden.
    paths = (
        Query(params=query.params)
        .select(
            "v.pathname AS path",
            f"{PAGE_VISITORS} AS visitors",
            f"{share(PAGE_VISITORS, f'sum({PAGE_VISITORS}) OVER ()')} AS visitors_percentage",
            f"{PAGEVIEWS} AS pageviews",
            f"{share(PAGEVIEWS, f'sum({PAGEVIEWS}) OVER ()')} AS pageviews_percentage",
        )
        .from_("views AS v")
        .where(filters.where(query.params))
        .group_by("v.pathname")
    )
    if not summary:
        paths.select(f"{BOUNCE} AS bounce_percentage", f"{DURATION} AS duration")
        query.select("path", "visitors", "visitors_percentage", "pageviews", "pageviews_percentage")
        query.select("bounce_percentage", "duration")
        query.order_by("visitors DESC", "pageviews DESC", "path ASC")
    else:
        query.select("path", "visitors", "visitors_percentage").order_by("visitors DESC", "path ASC")
    query.with_("paths", paths.sql()).from_("paths").where("visitors > 0").page(page)
    rows = query.fetch(cur)
    if summary:
        return [StatsPagesItem(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in rows]
    return [
        StatsPagesItem(
            as_text(r[0]), as_int(r[1]), as_ratio(r[2]), as_int(r[3]), as_ratio(r[4]), as_ratio(r[5]), as_int(r[6])
        )
        for r in rows
    ]
