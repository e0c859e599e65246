"""GET /website/{hostname}/{countries,languages} (stats.md 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.dimensions import get_dimension
from medama_py.stats.query import ALL_ROWS
from medama_py.stats.results import StatsCountriesItem, StatsLanguagesItem

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Page

__all__ = ["get_countries", "get_languages"]


def get_countries(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, summary: bool = False, page: Page = ALL_ROWS
) -> list[StatsCountriesItem]:
    """Visitors per country name."""
    return get_dimension(cur, filters, "coalesce(v.country, '')", StatsCountriesItem, summary=summary, page=page)


def get_languages(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    *,
    summary: bool = False,
    locale: bool = False,
    page: Page = ALL_ROWS,
) -> list[StatsLanguagesItem]:
    """Visitors per base language, or per dialect ("British English") when `locale` is true."""
    label = "coalesce(v.language_dialect, '')" if locale else "coalesce(v.language_base, '')"
    return get_dimension(cur, filters, label, StatsLanguagesItem, summary=summary, page=page)
