"""GET /website/{hostname}/time: duration quartiles per path (stats.md 8.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.query import PAGE_VISITORS, QUARTILES, Query, rounded_duration, share, with_group_totals
from medama_py.stats.results import StatsTimeItem, as_int, as_ratio, as_text

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.params import StatsParams

__all__ = ["get_time"]


def get_time(cur: duckdb.DuckDBPyConnection, params: StatsParams) -> list[StatsTimeItem]:
    """Per path: median and quartile durations and the path's share of all time spent."""
    filters, summary, page = params.filters, params.summary, params.page
    query = Query()
    paths = (
        Query(params=query.params)
        .select(
            "v.pathname AS path",
            f"{PAGE_VISITORS} AS visitors",
            f"{QUARTILES} AS quartiles",
            "coalesce(sum(v.duration_ms), 0) AS total_duration",
        )
        .from_("views AS v")
        .where(filters.where(query.params))
        .group_by("v.pathname")
    )
    rounded = (
        Query(params=query.params)
        .select(
            "path",
            "visitors",
            f"{rounded_duration('quartiles[2]')} AS duration",
            f"{rounded_duration('quartiles[3]')} AS upper_quartile",
            f"{rounded_duration('quartiles[1]')} AS lower_quartile",
            "total_duration",
        )
        .from_("paths")
    )
    # Only paths with at least 3 unique-page visitors and a positive median count; the full list also
    # needs a positive lower quartile, so the two variants can list different paths (stats.md 9.7).
    kept = Query(params=query.params).select("*").from_("rounded").where("duration > 0", "visitors >= 3")
    if not summary:
        kept.where("lower_quartile > 0")
    query.with_("paths", paths.sql()).with_("rounded", rounded.sql())
    # The share's denominator is the kept paths' time, before pagination.
    with_group_totals(query, kept, "total_duration")
    query.select(
        "g.path",
        "g.duration",
        f"{share('g.total_duration', 't.total_total_duration')} AS duration_percentage",
        "g.upper_quartile",
        "g.lower_quartile",
        "g.visitors",
    )
    if summary:
        # Ordered by the rounded share first (stats.md 9.8).
        query.order_by("duration_percentage DESC", "duration DESC", "visitors DESC", "path ASC")
    else:
        query.order_by("visitors DESC", "duration DESC", "path ASC")
    rows = query.page(page).fetch(cur)
    if summary:
        return [StatsTimeItem(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in rows]
    return [
        StatsTimeItem(as_text(r[0]), as_int(r[1]), as_ratio(r[2]), as_int(r[3]), as_int(r[4]), as_int(r[5]))
        for r in rows
    ]
