"""Snapshots of every endpoint over the seeded fixture, with filters added one at a time.

Refresh only for intended changes: `make snapshots`. Review the diff like code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.stats.harness import readable

if TYPE_CHECKING:
    import duckdb
    from syrupy.assertion import SnapshotAssertion

MARCH = "start=2024-03-01T00:00:00Z&end=2024-03-31T23:59:59Z"

# The progression: one period, then one filter per dimension, then every operator, then combinations.
FILTERS = {
    "all": "",
    "march": MARCH,
    "path_eq_any_case": "path[eq]=/ABOUT",
    "path_eq_literal_underscore": "path[eq]=/c_ntact",
    "path_eq_literal_percent": "path[eq]=/100%_off",
    "path_neq": "path[neq]=/",
    "path_contains": "path[contains]=post-1",
    "path_not_contains": "path[not_contains]=blog",
    "path_starts_with": "path[starts_with]=/blog/",
    "path_not_starts_with": "path[not_starts_with]=/blog",
    "path_ends_with": "path[ends_with]=ing",
    "path_not_ends_with": "path[not_ends_with]=t",
    "path_in": "path[in]=/,/pricing, /café",
    "path_not_in": "path[not_in]=/,/about",
    "referrer_group": "referrer[eq]=google",
    "referrer_host": "referrer[eq]=t.co",
    "referrer_direct": "referrer[eq]=",
    "referrer_neq_group": "referrer[neq]=google",
    "referrer_not_contains": "referrer[not_contains]=google",
    "referrer_in": "referrer[in]=,bing",
    "utm_source": "utm_source[eq]=newsletter",
    "utm_medium_empty": "utm_medium[eq]=",
    "utm_campaign_starts": "utm_campaign[starts_with]=BR",
    "browser_in": "browser[in]=chrome,firefox",
    "os_ends_with": "os[ends_with]=os",
    "device": "device[eq]=mobile",
    "country_not_in": "country[not_in]=United States,United Kingdom",
    "country_empty": "country[eq]=",
    "language_eq_base": "language[eq]=english",
    "language_eq_dialect": "language[eq]=british english",
    "language_neq": "language[neq]=english",
    "prop_name": "prop_name[eq]=plan",
    "prop_name_value": "prop_name[eq]=plan&prop_value[eq]=pro",
    "prop_value_neq": "prop_value[neq]=free",
    "two_operators_one_field": "path[starts_with]=/blog&path[not_ends_with]=1",
    "combined": f"{MARCH}&device[neq]=desktop&referrer[not_contains]=bing&language[contains]=english",
}

# Per endpoint: the full filter progression on /summary and /pages, a representative subset elsewhere.
SUBSET = ["all", "march", "path_eq_any_case", "referrer_group", "language_neq", "prop_name", "combined"]


def cases() -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for name, query in FILTERS.items():
        out.append(("summary", name, query))
        out.append(("pages", name, f"{query}&limit=8" if query else "limit=8"))
    for endpoint in ("time", "referrers", "sources", "mediums", "campaigns", "browsers", "os", "devices"):
        out.extend((endpoint, name, f"{FILTERS[name]}&limit=8") for name in SUBSET)
    for endpoint in ("countries", "languages", "properties"):
        out.extend((endpoint, name, f"{FILTERS[name]}&limit=8") for name in SUBSET)
    return out


EXTRA = [
    ("summary", "previous", f"{MARCH}&previous=true"),
    ("summary", "previous_without_period", "previous=true"),
    ("summary", "interval_minute", "start=2024-01-31T23:55:00Z&end=2024-02-01T00:05:00Z&interval=minute"),
    ("summary", "interval_hour", "start=2024-01-31T20:30:00Z&end=2024-02-01T03:30:00Z&interval=hour"),
    ("summary", "interval_day", "start=2024-01-28T06:00:00Z&end=2024-02-03T06:00:00Z&interval=day"),
    ("summary", "interval_week", "start=2024-01-20T00:00:00Z&end=2024-02-20T00:00:00Z&interval=week"),
    ("summary", "interval_month", "start=2024-01-15T00:00:00Z&end=2024-12-31T23:59:59Z&interval=month&previous=1"),
    ("summary", "interval_offset", "start=2024-01-31T22:00:00%2B05:30&end=2024-02-01T04:00:00-01:00&interval=hour"),
    ("summary", "interval_reversed", "start=2024-02-01T00:00:00Z&end=2024-01-01T00:00:00Z&interval=day"),
    ("summary", "other_site", "interval=month&start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z"),
    ("pages", "summary", "summary=true"),
    ("pages", "page_two", "limit=5&offset=5"),
    ("pages", "offset_only", "offset=30"),
    ("time", "summary", "summary=true"),
    ("time", "summary_march", f"summary=true&{MARCH}"),
    ("referrers", "ungrouped", "grouped=false"),
    ("referrers", "ungrouped_summary", "grouped=false&summary=true"),
    ("referrers", "grouped_summary", "summary=t"),
    ("sources", "summary", "summary=true"),
    ("browsers", "summary", "summary=true"),
    ("countries", "summary", "summary=true"),
    ("languages", "locale", "locale=true"),
    ("languages", "locale_summary", "locale=true&summary=true"),
    ("properties", "by_value", "prop_name[eq]=click"),
    ("properties", "by_value_period", f"prop_name[eq]=theme&{MARCH}"),
    ("properties", "value_filter_only", "prop_value[eq]=dark"),
    ("properties", "no_match", "prop_name[eq]=nothing"),
]


@pytest.mark.parametrize(("endpoint", "name", "query"), cases() + EXTRA, ids=lambda x: x if "=" not in x else "")
def test_endpoint(
    cur: duckdb.DuckDBPyConnection, snapshot: SnapshotAssertion, endpoint: str, name: str, query: str
) -> None:
    hostname = "docs.example.com" if name == "other_site" else "example.com"
    assert readable(cur, endpoint, query, hostname) == snapshot


@pytest.mark.parametrize("endpoint", ["summary", "pages", "time", "referrers", "properties"])
def test_unknown_site_has_no_rows(cur: duckdb.DuckDBPyConnection, snapshot: SnapshotAssertion, endpoint: str) -> None:
    assert readable(cur, endpoint, "", "empty.example.net") == snapshot
