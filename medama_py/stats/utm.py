"""GET /website/{hostname}/{sources,mediums,campaigns} (stats.md 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.dimensions import get_dimension
from medama_py.stats.query import ALL_ROWS
from medama_py.stats.results import StatsUTMCampaignsItem, StatsUTMMediumsItem, StatsUTMSourcesItem

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Page

__all__ = ["get_campaigns", "get_mediums", "get_sources"]


def get_sources(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, summary: bool = False, page: Page = ALL_ROWS
) -> list[StatsUTMSourcesItem]:
    """Visitors per utm_source; '' (no UTM) is an ordinary group."""
    return get_dimension(cur, filters, "coalesce(v.utm_source, '')", StatsUTMSourcesItem, summary=summary, page=page)


def get_mediums(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, summary: bool = False, page: Page = ALL_ROWS
) -> list[StatsUTMMediumsItem]:
    """Visitors per utm_medium."""
    return get_dimension(cur, filters, "coalesce(v.utm_medium, '')", StatsUTMMediumsItem, summary=summary, page=page)


def get_campaigns(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, summary: bool = False, page: Page = ALL_ROWS
) -> list[StatsUTMCampaignsItem]:
    """Visitors per utm_campaign."""
    return get_dimension(
        cur, filters, "coalesce(v.utm_campaign, '')", StatsUTMCampaignsItem, summary=summary, page=page
    )
