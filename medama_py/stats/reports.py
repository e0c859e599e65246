"""The stats reports as one table: name → what its rows are grouped by → the Struct it answers with.

The API's handlers and openapi.yaml (api/stats.py), the tests and the benchmarks all read REPORTS, so an
endpoint's path, accepted parameters, SQL grouping and response type cannot drift apart. Nine reports are
dimensions: one label's SQL over `views AS v` (code-defined, never user input) grouped by
dimensions.get_dimension. The other four have queries of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from medama_py.stats import pages, properties, summary, time
from medama_py.stats.dimensions import get_dimension
from medama_py.stats.params import LANGUAGES, LIST, PROPERTIES, REFERRERS, SUMMARY
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

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import duckdb
    import msgspec

    from medama_py.stats.params import StatsParams
    from medama_py.storage.rollups import Rollups

    Answer = msgspec.Struct | Sequence[msgspec.Struct]
    Runner = Callable[[duckdb.DuckDBPyConnection, StatsParams], Answer]
    RollupRunner = Callable[[duckdb.DuckDBPyConnection, StatsParams, Rollups | None], Answer]
    # A list whose quantiles may hold durations: also told how many at most (stats/medians.py `listed_quantiles`).
    Lister = Callable[[duckdb.DuckDBPyConnection, StatsParams, Rollups | None, int | None], Answer]

__all__ = ["REPORTS", "Label", "Report"]


@dataclass(frozen=True, slots=True)
class Label:
    """A dimension's group label; when the boolean parameter `flag` is true, `flagged` replaces `sql`."""

    sql: str
    flag: str | None = None
    flagged: str = ""

    def for_params(self, params: StatsParams) -> str:
        return self.flagged if self.flag is not None and getattr(params, self.flag) else self.sql


@dataclass(frozen=True, slots=True)
class Report:
    """One endpoint, GET /api/website/{hostname}/<name>: its parameters, its grouping and its answer."""

    name: str
    operation_id: str  # the original's, kept for generated clients
    title: str
    description: str
    accepts: frozenset[str]  # scalar parameters besides start, end and the filters
    result: type[msgspec.Struct]  # the answer, or the type of each item when `many`
    many: bool = True
    label: Label | None = None
    runner: Runner | None = None
    rollup_runner: RollupRunner | None = None  # a runner that can read the hourly rollups
    lister: Lister | None = None  # /pages and /time: a rollup runner that is also given `held_max`

    def run(
        self,
        cur: duckdb.DuckDBPyConnection,
        params: StatsParams,
        rollups: Rollups | None = None,
        *,
        held_max: int | None = None,
    ) -> Answer:
        """The answer; with `rollups`, reports that can read them do (the numbers are the same).

        `held_max`: how many durations a report may hold at once for its quantiles (the server's is
        storage/limits.py `DuckDBLimits.held_durations`; None: stats/medians.py HELD_DURATIONS_MAX).
        """
        if self.lister is not None:
            return self.lister(cur, params, rollups, held_max)
        if self.rollup_runner is not None:
            return self.rollup_runner(cur, params, rollups)
        if self.runner is not None:
            return self.runner(cur, params)
        if self.label is None:
            raise TypeError(f"report {self.name!r} has neither a label nor a runner")
        label = self.label.for_params(params)
        return get_dimension(
            cur,
            params.filters,
            label,
            self.result,
            summary=params.summary,
            page=params.page,
            report=self.name,
            rollups=rollups,
        )


# Grouped referrers: the referrer group when the host has one, else the host. Stored '' groups stay '' (no
# back-fill of existing data), so those rows show their host; so do NULL groups. A plain CASE costs less
# than coalesce(nullif(...)) over millions of rows.
_REFERRER_GROUP = "CASE WHEN v.referrer_group <> '' THEN v.referrer_group ELSE coalesce(v.referrer_host, '') END"


def _dimension(name: str, operation_id: str, title: str, description: str, result: type[msgspec.Struct],
               label: Label, accepts: frozenset[str] = LIST) -> Report:  # fmt: skip
    return Report(name, operation_id, title, description, accepts, result, label=label)


_TABLE: Final = (
    Report("summary", "get-website-id-summary", "Get Stat Summary",
           "Visitors, page views, bounce rate and median duration; optionally the previous period and a series.",
           SUMMARY, StatsSummary, many=False, rollup_runner=summary.get_summary),
    Report("pages", "get-website-id-pages", "Get Page Stats", "Pages and their stats.",
           LIST, StatsPagesItem, lister=pages.get_pages),
    Report("time", "get-website-id-time", "Get Time Stats", "Pages and their time-on-page quartiles.",
           LIST, StatsTimeItem, lister=time.get_time),
    _dimension("referrers", "get-website-id-referrers", "Get Referrer Stats",
               "Referrers (grouped by default) and their stats.", StatsReferrersItem,
               Label("coalesce(v.referrer_host, '')", flag="grouped", flagged=_REFERRER_GROUP), REFERRERS),
    _dimension("sources", "get-website-id-sources", "Get UTM Source Stats", "UTM sources and their stats.",
               StatsUTMSourcesItem, Label("coalesce(v.utm_source, '')")),
    _dimension("mediums", "get-website-id-mediums", "Get UTM Medium Stats", "UTM mediums and their stats.",
               StatsUTMMediumsItem, Label("coalesce(v.utm_medium, '')")),
    _dimension("campaigns", "get-website-id-campaigns", "Get UTM Campaign Stats", "UTM campaigns and their stats.",
               StatsUTMCampaignsItem, Label("coalesce(v.utm_campaign, '')")),
    _dimension("browsers", "get-website-id-browsers", "Get Browser Stats", "Browsers and their stats.",
               StatsBrowsersItem, Label("coalesce(v.ua_browser, '')")),
    _dimension("os", "get-website-id-os", "Get OS Stats", "Operating systems and their stats.",
               StatsOSItem, Label("coalesce(v.ua_os, '')")),
    _dimension("devices", "get-website-id-device", "Get Device Stats", "Device types and their stats.",
               StatsDevicesItem, Label("coalesce(v.ua_device_type, '')")),
    _dimension("countries", "get-website-id-country", "Get Country Stats", "Countries and their stats.",
               StatsCountriesItem, Label("coalesce(v.country, '')")),
    _dimension("languages", "get-website-id-language", "Get Language Stats",
               "Languages (or dialects with locale=true) and their stats.", StatsLanguagesItem,
               Label("coalesce(v.language_base, '')", flag="locale", flagged="coalesce(v.language_dialect, '')"),
               LANGUAGES),
    Report("properties", "get-website-id-properties", "Get Property Stats",
           "Custom property names, or the values of one property when prop_name has a value.",
           PROPERTIES, StatsPropertiesItem, rollup_runner=properties.get_properties),
)  # fmt: skip

# Keyed by the last path segment of /api/website/{hostname}/<name>, in the contract's order.
REPORTS: Final[dict[str, Report]] = {report.name: report for report in _TABLE}
