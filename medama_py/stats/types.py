"""GET /website/{hostname}/{browsers,os,devices}: the parsed user-agent types (stats.md 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.dimensions import get_dimension
from medama_py.stats.query import ALL_ROWS
from medama_py.stats.results import StatsBrowsersItem, StatsDevicesItem, StatsOSItem

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Page

__all__ = ["get_browsers", "get_devices", "get_os"]


def get_browsers(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, summary: bool = False, page: Page = ALL_ROWS
) -> list[StatsBrowsersItem]:
    """Visitors per browser name."""
    return get_dimension(cur, filters, "coalesce(v.ua_browser, '')", StatsBrowsersItem, summary=summary, page=page)


def get_os(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, summary: bool = False, page: Page = ALL_ROWS
) -> list[StatsOSItem]:
    """Visitors per operating system."""
    return get_dimension(cur, filters, "coalesce(v.ua_os, '')", StatsOSItem, summary=summary, page=page)


def get_devices(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, summary: bool = False, page: Page = ALL_ROWS
) -> list[StatsDevicesItem]:
    """Visitors per device type."""
    return get_dimension(cur, filters, "coalesce(v.ua_device_type, '')", StatsDevicesItem, summary=summary, page=page)
