"""Shared query of the dimension reports: group by one label, unique-user visitors and their share (stats.md 7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from msgspec import UNSET, UnsetType

from medama_py.stats.query import ALL_ROWS, BOUNCE, DURATION, VISITORS, Query, share
from medama_py.stats.results import as_int, as_ratio, as_text

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Page

__all__ = ["DimensionRow", "get_dimension"]


@dataclass(frozen=True, slots=True)
class DimensionRow:
    label: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


def get_dimension(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    *,
    summary: bool = False,
    page: Page = ALL_ROWS,
) -> list[DimensionRow]:
    """Group the filtered views by `label_sql` (code-defined SQL, never user input)."""
    query = Query().select(
        f"{label_sql} AS label",
        f"{VISITORS} AS visitors",
        # The denominator is every unique user of the filtered set: the window runs before LIMIT.
        f"{share(VISITORS, f'sum({VISITORS}) OVER ()')} AS visitors_percentage",
    )
    if not summary:
        query.select(f"{BOUNCE} AS bounce_percentage", f"{DURATION} AS duration")
    # No HAVING: groups whose rows are all repeat visits stay, with 0 visitors (stats.md 9.7).
    query.from_("views AS v").where(filters.where(query.params)).group_by("label")
    # VARCHAR ordering in DuckDB is byte-wise, so "" sorts first and uppercase before lowercase.
    query.order_by("visitors DESC", "label ASC").page(page)
    rows = query.fetch(cur)
    if summary:
        return [DimensionRow(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in rows]
    return [DimensionRow(as_text(r[0]), as_int(r[1]), as_ratio(r[2]), as_ratio(r[3]), as_int(r[4])) for r in rows]
