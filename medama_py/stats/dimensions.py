"""The dimension reports' query: group by one label; unique-user visitors and their share (docs/stats.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from medama_py.stats.query import ALL_ROWS, BOUNCE, DURATION, VISITORS, Query, share, with_group_totals
from medama_py.stats.results import as_int, as_ratio, as_text

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Page

__all__ = ["get_dimension"]


ItemT = TypeVar("ItemT")


def get_dimension(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    item: Callable[..., ItemT],
    *,
    summary: bool = False,
    page: Page = ALL_ROWS,
) -> list[ItemT]:
    """Group the filtered views by `label_sql` (code-defined SQL, never user input) into the endpoint's items.

    Every dimension item takes (label, visitors, visitors_percentage[, bounce_percentage, duration]) in order.
    """
    query = Query()
    groups = Query(params=query.params).select(f"{label_sql} AS label", f"{VISITORS} AS visitors")
    if not summary:
        groups.select(f"{BOUNCE} AS bounce_percentage", f"{DURATION} AS duration")
    # No HAVING: groups whose rows are all repeat visits stay, with 0 visitors.
    groups.from_("views AS v").where(filters.where(query.params)).group_by("label")
    # The denominator is every unique user of the filtered set, summed before LIMIT.
    with_group_totals(query, groups, "visitors")
    query.select("g.label", "g.visitors", f"{share('g.visitors', 't.total_visitors')} AS visitors_percentage")
    if not summary:
        query.select("g.bounce_percentage", "g.duration")
    # VARCHAR ordering in DuckDB is byte-wise, so "" sorts first and uppercase before lowercase.
    query.order_by("visitors DESC", "label ASC").page(page)
    rows = query.fetch(cur)
    if summary:
        return [item(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in rows]
    return [item(as_text(r[0]), as_int(r[1]), as_ratio(r[2]), as_ratio(r[3]), as_int(r[4])) for r in rows]
