"""GET /website/{hostname}/referrers (stats.md 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.dimensions import get_dimension
from medama_py.stats.query import ALL_ROWS
from medama_py.stats.results import StatsReferrersItem

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Page

__all__ = ["get_referrers"]

# Grouped: the referrer group when the host has one, else the host. Stored '' groups stay '' (no back-fill,
# stats.md 9.18), so those rows show their host; so do NULL groups. A plain CASE costs less than
# coalesce(nullif(...)) over millions of rows.
_GROUPED = "CASE WHEN v.referrer_group <> '' THEN v.referrer_group ELSE coalesce(v.referrer_host, '') END"
_HOST = "coalesce(v.referrer_host, '')"


def get_referrers(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    *,
    summary: bool = False,
    grouped: bool = True,
    page: Page = ALL_ROWS,
) -> list[StatsReferrersItem]:
    """Visitors per referrer group (or host when `grouped` is false)."""
    return get_dimension(cur, filters, _GROUPED if grouped else _HOST, StatsReferrersItem, summary=summary, page=page)
