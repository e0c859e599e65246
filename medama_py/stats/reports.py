"""One entry point per endpoint: decoded StatsParams → the report's result (used by the API, tests and bench)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from medama_py.stats import locale, pages, properties, referrers, summary, time, types, utm
from medama_py.stats.params import LANGUAGES, LIST, PROPERTIES, REFERRERS, SUMMARY

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import duckdb
    import msgspec

    from medama_py.stats.params import StatsParams
    from medama_py.stats.results import (
        StatsBrowsersItem,
        StatsCountriesItem,
        StatsDevicesItem,
        StatsLanguagesItem,
        StatsOSItem,
        StatsPagesItem,
        StatsPropertiesItem,
        StatsReferrersItem,
        StatsSummary,
        StatsTimeItem,
        StatsUTMCampaignsItem,
        StatsUTMMediumsItem,
        StatsUTMSourcesItem,
    )

    Cursor = duckdb.DuckDBPyConnection

__all__ = ["REPORTS", "Report"]


def run_summary(cur: Cursor, p: StatsParams) -> StatsSummary:
    return summary.get_summary(cur, p.filters, previous=p.previous, interval=p.interval)


def run_pages(cur: Cursor, p: StatsParams) -> list[StatsPagesItem]:
    return pages.get_pages(cur, p.filters, summary=p.summary, page=p.page)


def run_time(cur: Cursor, p: StatsParams) -> list[StatsTimeItem]:
    return time.get_time(cur, p.filters, summary=p.summary, page=p.page)


def run_referrers(cur: Cursor, p: StatsParams) -> list[StatsReferrersItem]:
    return referrers.get_referrers(cur, p.filters, summary=p.summary, grouped=p.grouped, page=p.page)


def run_sources(cur: Cursor, p: StatsParams) -> list[StatsUTMSourcesItem]:
    return utm.get_sources(cur, p.filters, summary=p.summary, page=p.page)


def run_mediums(cur: Cursor, p: StatsParams) -> list[StatsUTMMediumsItem]:
    return utm.get_mediums(cur, p.filters, summary=p.summary, page=p.page)


def run_campaigns(cur: Cursor, p: StatsParams) -> list[StatsUTMCampaignsItem]:
    return utm.get_campaigns(cur, p.filters, summary=p.summary, page=p.page)


def run_browsers(cur: Cursor, p: StatsParams) -> list[StatsBrowsersItem]:
    return types.get_browsers(cur, p.filters, summary=p.summary, page=p.page)


def run_os(cur: Cursor, p: StatsParams) -> list[StatsOSItem]:
    return types.get_os(cur, p.filters, summary=p.summary, page=p.page)


def run_devices(cur: Cursor, p: StatsParams) -> list[StatsDevicesItem]:
    return types.get_devices(cur, p.filters, summary=p.summary, page=p.page)


def run_countries(cur: Cursor, p: StatsParams) -> list[StatsCountriesItem]:
    return locale.get_countries(cur, p.filters, summary=p.summary, page=p.page)


def run_languages(cur: Cursor, p: StatsParams) -> list[StatsLanguagesItem]:
    return locale.get_languages(cur, p.filters, summary=p.summary, locale=p.locale, page=p.page)


def run_properties(cur: Cursor, p: StatsParams) -> list[StatsPropertiesItem]:
    return properties.get_properties(cur, p.filters, page=p.page)


@dataclass(frozen=True, slots=True)
class Report:
    """An endpoint's accepted scalar parameters and its runner."""

    accepts: frozenset[str]
    run: Callable[[Cursor, StatsParams], msgspec.Struct | Sequence[msgspec.Struct]]


# Keyed by the last path segment of /api/website/{hostname}/<name>.
REPORTS: Final[dict[str, Report]] = {
    "summary": Report(SUMMARY, run_summary),
    "pages": Report(LIST, run_pages),
    "time": Report(LIST, run_time),
    "referrers": Report(REFERRERS, run_referrers),
    "sources": Report(LIST, run_sources),
    "mediums": Report(LIST, run_mediums),
    "campaigns": Report(LIST, run_campaigns),
    "browsers": Report(LIST, run_browsers),
    "os": Report(LIST, run_os),
    "devices": Report(LIST, run_devices),
    "countries": Report(LIST, run_countries),
    "languages": Report(LANGUAGES, run_languages),
    "properties": Report(PROPERTIES, run_properties),
}
