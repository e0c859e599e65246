"""Response Structs of the stats endpoints, named after the contract's schemas (medama-openapi.yaml).

Optional keys default to UNSET and `omit_defaults` leaves them out of the JSON.
"""

from __future__ import annotations

import math

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "StatsBrowsersItem",
    "StatsCountriesItem",
    "StatsDevicesItem",
    "StatsIntervalItem",
    "StatsLanguagesItem",
    "StatsOSItem",
    "StatsPagesItem",
    "StatsPropertiesItem",
    "StatsReferrersItem",
    "StatsSummary",
    "StatsSummaryMetrics",
    "StatsTimeItem",
    "StatsUTMCampaignsItem",
    "StatsUTMMediumsItem",
    "StatsUTMSourcesItem",
    "as_int",
    "as_ratio",
    "as_text",
]


class _Result(msgspec.Struct, omit_defaults=True):
    pass


class StatsSummaryMetrics(_Result):
    visitors: int
    pageviews: int
    bounce_percentage: float
    duration: int


class StatsIntervalItem(_Result):
    date: str
    visitors: int
    pageviews: int
    bounce_percentage: float
    duration: int


class StatsSummary(_Result):
    current: StatsSummaryMetrics
    previous: StatsSummaryMetrics | UnsetType = UNSET
    interval: list[StatsIntervalItem] | UnsetType = UNSET


class StatsPagesItem(_Result):
    path: str
    visitors: int
    visitors_percentage: float
    pageviews: int | UnsetType = UNSET
    pageviews_percentage: float | UnsetType = UNSET
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsTimeItem(_Result):
    path: str
    duration: int
    duration_percentage: float
    duration_upper_quartile: int | UnsetType = UNSET
    duration_lower_quartile: int | UnsetType = UNSET
    visitors: int | UnsetType = UNSET


class StatsReferrersItem(_Result):
    referrer: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsUTMSourcesItem(_Result):
    source: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsUTMMediumsItem(_Result):
    medium: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsUTMCampaignsItem(_Result):
    campaign: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsBrowsersItem(_Result):
    browser: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsOSItem(_Result):
    os: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsDevicesItem(_Result):
    device: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsCountriesItem(_Result):
    country: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsLanguagesItem(_Result):
    language: str
    visitors: int
    visitors_percentage: float
    bounce_percentage: float | UnsetType = UNSET
    duration: int | UnsetType = UNSET


class StatsPropertiesItem(_Result, kw_only=True):
    # kw_only lets the always-present counts follow the optional labels (a 0 share must still print).
    name: str | UnsetType = UNSET
    value: str | UnsetType = UNSET
    events: int
    events_percentage: float


def as_int(value: object) -> int:
    """A count or rounded duration from a DuckDB row (BIGINT, HUGEINT or NULL → int)."""
    if value is None:
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def as_ratio(value: object) -> float:
    """A rounded fraction from DuckDB; whole values become ints so they print as `1`/`0` like the original.

    NaN (a 0/0 share, docs/stats.md#metrics) stays NaN, which msgspec writes as JSON null.
    """
    if value is None:
        return 0
    if not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    number = float(value)
    if math.isfinite(number) and number.is_integer():
        return int(number)
    return number


def as_text(value: object) -> str:
    """A label from DuckDB; NULL labels read as empty strings."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise TypeError(f"expected text, got {type(value).__name__}")
