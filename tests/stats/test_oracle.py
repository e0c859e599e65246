"""Every report equals a plain-Python model of the spec (oracle.py) on the fixture, filter by filter."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medama_py.stats.filters import FIELDS, OPERATORS
from tests.stats import oracle
from tests.stats.dataset import generate
from tests.stats.harness import ENDPOINTS, params, run
from tests.stats.test_snapshots import FILTERS
from tests.support.examples import examples

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from medama_py.stats.params import StatsParams
    from tests.stats.dataset import Event, View

VIEWS, EVENTS = generate()
EVENTS_BY_BID: dict[str, list[Event]] = defaultdict(list)
for _event in EVENTS:
    if _event.bid:
        EVENTS_BY_BID[_event.bid].append(_event)

LABELS: dict[str, tuple[str, Callable[[View, StatsParams], str]]] = {
    "referrers": (
        "referrer",
        lambda v, p: (v.referrer_group or v.referrer_host or "") if p.grouped else v.referrer_host or "",
    ),
    "sources": ("source", lambda v, p: v.utm_source or ""),
    "mediums": ("medium", lambda v, p: v.utm_medium or ""),
    "campaigns": ("campaign", lambda v, p: v.utm_campaign or ""),
    "browsers": ("browser", lambda v, p: v.ua_browser),
    "os": ("os", lambda v, p: v.ua_os),
    "devices": ("device", lambda v, p: v.ua_device_type),
    "countries": ("country", lambda v, p: v.country or ""),
    "languages": ("language", lambda v, p: (v.language_dialect if p.locale else v.language_base) or ""),
}


def _nan_to_none(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


def expected(endpoint: str, p: StatsParams, rows: list[View]) -> object:
    if endpoint == "summary":
        return _nan_to_none(oracle.summary(VIEWS, EVENTS_BY_BID, p))
    if endpoint == "pages":
        items = oracle.pages(rows, p.summary)
    elif endpoint == "time":
        items = oracle.time(rows, p.summary)
    elif endpoint == "properties":
        items = oracle.properties(VIEWS, EVENTS_BY_BID, p.filters)
    else:
        key, label = LABELS[endpoint]
        items = oracle.dimension(rows, lambda v: label(v, p), p.summary)
        items = [{key: i.pop("label"), **i} for i in items]
    stop = None if p.page.limit is None else p.page.offset + p.page.limit
    return _nan_to_none(items[p.page.offset : stop])


def check(cur: duckdb.DuckDBPyConnection, query: str, endpoints: tuple[str, ...] = ENDPOINTS) -> None:
    rows = oracle.select(VIEWS, EVENTS_BY_BID, params("pages", query).filters)
    for endpoint in endpoints:
        p = params(endpoint, query)
        assert run(cur, endpoint, query) == expected(endpoint, p, rows), (endpoint, query)


@pytest.mark.parametrize("query", FILTERS.values(), ids=FILTERS.keys())
def test_every_endpoint_matches_the_model(cur: duckdb.DuckDBPyConnection, query: str) -> None:
    check(cur, query)


@pytest.mark.parametrize(
    "query",
    [
        "summary=true",
        "summary=true&grouped=false&locale=true",
        "grouped=false&limit=3&offset=2",
        "limit=1",
        "offset=4",
        "summary=1&start=2024-06-01T00:00:00Z&end=2024-06-30T23:59:59Z&path[not_in]=/",
    ],
)
def test_variants_match_the_model(cur: duckdb.DuckDBPyConnection, query: str) -> None:
    check(cur, query)


@pytest.mark.parametrize(
    ("interval", "start", "end"),
    [
        ("minute", "2024-01-31T23:30:00Z", "2024-02-01T00:30:00Z"),
        ("hour", "2024-01-31T12:15:00Z", "2024-02-01T12:15:00Z"),
        ("day", "2024-01-15T08:00:00Z", "2024-03-15T08:00:00Z"),
        # Over 64 buckets: the series takes a quantile per bucket instead of binned medians (summary.py).
        ("day", "2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z"),
        ("week", "2024-01-03T00:00:00+02:00", "2024-06-01T00:00:00Z"),
        ("month", "2024-01-31T23:00:00-05:00", "2024-12-31T23:59:59Z"),
    ],
)
def test_series_match_the_model(cur: duckdb.DuckDBPyConnection, interval: str, start: str, end: str) -> None:
    query = f"start={start}&end={end}&interval={interval}&previous=true".replace("+", "%2B")
    check(cur, query, ("summary",))
    check(cur, query + "&browser[eq]=chrome&prop_name[eq]=plan", ("summary",))


VALUES = ["", "/", "/about", "google", "Google", "t.co", "chrome", "english", "British English", "o", "e", "/blog",
          "plan", "pro", "dark", "united", "Mobile", "newsletter", "%", "_", "é"]  # fmt: skip


@st.composite
def filter_queries(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        field, op = draw(st.sampled_from(list(FIELDS))), draw(st.sampled_from(OPERATORS))
        if op in ("in", "not_in"):
            value = ",".join(draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=3)))
        else:
            value = draw(st.sampled_from(VALUES))
        parts.append(f"{field}[{op}]={value.replace('%', '%25')}")
    if draw(st.booleans()):
        parts.append("start=2024-05-01T00:00:00Z&end=2024-09-30T23:59:59Z")
    return "&".join(parts)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=filter_queries(), endpoint=st.sampled_from(ENDPOINTS))
def test_random_filters_match_the_model(cur: duckdb.DuckDBPyConnection, query: str, endpoint: str) -> None:
    check(cur, query, (endpoint,))


def test_the_model_rounds_shares_as_duckdb_does(cur: duckdb.DuckDBPyConnection) -> None:
    """Every share p/q with q < 200 (ties such as 71/160 included) rounds to DuckDB's ROUND(x, 4)."""
    shares = [part / whole for whole in range(1, 200) for part in range(whole + 1)]
    rounded = cur.execute("SELECT round(x, 4) FROM unnest(?::DOUBLE[]) AS t(x)", [shares]).fetchall()
    assert [oracle.round4(share) for share in shares] == [value for (value,) in rounded]
