"""Filter layer: parameter decoding (400s that name the parameter), SQL shape, and each operator's rows."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medama_py.errors import BadRequest
from medama_py.stats.filters import FIELDS, OPERATORS, Condition, Filters
from medama_py.stats.params import LANGUAGES, LIST, PROPERTIES, REFERRERS, SUMMARY, StatsParams, parse_params
from medama_py.stats.query import Params, Query
from medama_py.storage.analytics_file import create_analytics_schema
from tests.stats.dataset import insert_views, make_view
from tests.support.examples import examples

if TYPE_CHECKING:
    from collections.abc import Iterator


def parse(query: str, accepts: frozenset[str] = LIST, hostname: str = "example.com") -> StatsParams:
    return parse_params(parse_qsl(query, keep_blank_values=True), hostname, accepts=accepts)


# ---- decoding ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "accepts", "named"),
    [
        ("start=2024-01-01", LIST, "'start'"),
        ("start=2024-01-01 00:00:00Z", LIST, "'start'"),
        ("start=2024-01-01T00:00:00", LIST, "'start'"),
        ("end=2024-02-30T00:00:00Z", LIST, "'end'"),
        ("end=2024-01-01T24:00:00Z", LIST, "'end'"),
        ("end=2024-01-01T00:00:00+24:00", LIST, "'end'"),
        ("start=2024-01-01T00:00:00Z&start=2024-01-02T00:00:00Z", LIST, "'start'"),
        ("summary=yes", LIST, "'summary'"),
        ("previous=2", SUMMARY, "'previous'"),
        ("interval=year&start=2024-01-01T00:00:00Z&end=2024-02-01T00:00:00Z", SUMMARY, "'interval'"),
        ("interval=day", SUMMARY, "'interval' needs both 'start' and 'end'"),
        ("interval=day&start=2024-01-01T00:00:00Z", SUMMARY, "'interval'"),
        ("interval=minute&start=2024-01-01T00:00:00Z&end=2024-12-01T00:00:00Z", SUMMARY, "'interval'"),
        ("grouped=nope", REFERRERS, "'grouped'"),
        ("locale=on", LANGUAGES, "'locale'"),
        ("limit=0", LIST, "'limit'"),
        ("limit=5001", LIST, "'limit'"),
        ("limit=1.5", LIST, "'limit'"),
        ("offset=-1", PROPERTIES, "'offset'"),
        ("offset=5001", PROPERTIES, "'offset'"),
        ("path=/", LIST, "'path' needs an operator"),
        ("path[like]=/", LIST, "unknown operator 'like'"),
        ("path[]=/", LIST, "unknown operator ''"),
        ("path[eq][x]=/", LIST, "malformed filter parameter 'path[eq][x]'"),
        ("path]=1", LIST, "malformed filter parameter 'path]'"),
        ("path[eq]x=1", LIST, "malformed filter parameter 'path[eq]x'"),
        ("&".join(["browser[eq]=a"] * 65), LIST, "at most 64"),
        ("path[in]=" + ",".join(["/"] * 201), LIST, "'path[in]'"),
        ("previous=1&start=0001-01-01T00:00:00Z&end=9999-01-01T00:00:00Z", SUMMARY, "'previous'"),
        ("start=9999-12-31T23:59:59-01:00", LIST, "'start'"),
    ],
)
def test_malformed_parameters_name_the_parameter(query: str, accepts: frozenset[str], named: str) -> None:
    with pytest.raises(BadRequest) as raised:
        parse(query, accepts)
    assert named in raised.value.detail


@pytest.mark.parametrize("hostname", ["", "bad_host", "a" * 254, "exa mple.com", "例え.jp"])
def test_malformed_hostname(hostname: str) -> None:
    with pytest.raises(BadRequest, match="'hostname'"):
        parse("", hostname=hostname)


def test_period_forms() -> None:
    p = parse("start=2024-06-01T08:10:00.9Z&end=2024-06-01t10:00:00.123456789%2B02:00")
    assert p.filters.start == datetime(2024, 6, 1, 8, 10, tzinfo=UTC)  # fraction truncated
    assert p.filters.end == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)  # offset honoured
    # An unencoded "+" arrives as a space; it is read as the offset sign.
    assert parse("start=2024-06-01T08:00:00+05:30").filters.start == datetime(2024, 6, 1, 2, 30, tzinfo=UTC)
    assert parse("start=2024-06-01T08:00:00-00:30").filters.start == datetime(2024, 6, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(("raw", "value"), [(r, True) for r in ("1", "t", "T", "TRUE", "true", "True")]
                         + [(r, False) for r in ("0", "f", "F", "FALSE", "false", "False")])  # fmt: skip
def test_go_boolean_spellings(raw: str, value: bool) -> None:
    assert parse(f"summary={raw}").summary is value
    assert parse(f"grouped={raw}", REFERRERS).grouped is value


def test_defaults_and_ignored_parameters() -> None:
    assert parse("limit=abc&summary=zz&grouped=zz", SUMMARY).interval is None  # not parameters of /summary
    p = parse("interval=nope&previous=zz&_=123&foo=bar")  # not parameters of the lists: ignored
    assert (p.summary, p.page.limit, p.page.offset, p.grouped, p.locale, p.previous, p.interval) == (
        False, None, 0, True, False, False, None
    )  # fmt: skip
    assert parse("limit=5000&offset=5000").page.limit == 5000


def test_conditions_are_canonical_and_all_kept() -> None:
    p = parse("language[neq]=x&path[not_ends_with]=/&path[starts_with]=/b&path[starts_with]=/c&country[in]=a, b ,")
    assert p.filters.conditions == (
        Condition("path", "starts_with", ("/b",)),
        Condition("path", "starts_with", ("/c",)),
        Condition("path", "not_ends_with", ("/",)),
        Condition("country", "in", ("a", "b", "")),
        Condition("language", "neq", ("x",)),
    )


def test_brackets_may_be_percent_encoded() -> None:
    assert parse("browser%5Beq%5D=Chrome").filters.conditions == (Condition("browser", "eq", ("Chrome",)),)


@settings(max_examples=examples(300), deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from([*FIELDS, "start", "end", "limit", "offset", "summary", "interval",
                                                  "previous", "x[eq]", "path[eq", "path]eq["]).map(str)
                                 | st.text(max_size=12), st.text(max_size=30)), max_size=6),
       accepts=st.sampled_from([SUMMARY, LIST, REFERRERS, LANGUAGES, PROPERTIES]))  # fmt: skip
def test_decoding_only_ever_raises_bad_request(items: list[tuple[str, str]], accepts: frozenset[str]) -> None:
    with contextlib.suppress(BadRequest):
        parse_params(items, "example.com", accepts=accepts)


# ---- SQL shape --------------------------------------------------------------------------------------------------


def test_values_are_bound_and_columns_come_from_the_allow_list() -> None:
    hostile = "x'); DROP TABLE views; --"
    filters = Filters(
        hostname=hostile,
        conditions=tuple(Condition(field, op, (hostile, "b")) for field in FIELDS for op in OPERATORS),
        start=datetime(2024, 1, 1, tzinfo=UTC),
    )
    params = Params()
    sql = filters.where(params)
    assert hostile not in sql
    assert hostile in params.values.values()
    identifiers = {c for columns in FIELDS.values() for c in columns} | {
        "v.hostname",
        "v.date_created",
        "e.bid",
        "v.bid",
    }
    for token in sql.replace("(", " ").replace(")", " ").replace(",", " ").split():
        if token.startswith(("v.", "e.")):
            assert token in identifiers


# ---- rows each operator keeps -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect()
    conn.execute("LOAD icu")
    conn.execute("SET TimeZone = 'UTC'")
    create_analytics_schema(conn)
    rows = [
        ("contact", "/contact", "", "", "English", "British English"),
        ("Contact", "/Contact", "www.google.com", "Google", "English", "American English"),
        ("pct", "/100%_off", "google.com", "", "English", "English"),
        ("blog", "/blog/post", "news.ycombinator.com", "Hacker News", "German", "German"),
        ("null", "/null", None, None, None, None),
        ("cafe", "/café", "bing.com", "Bing", "French", "Canadian French"),
    ]
    insert_views(
        conn,
        [
            make_view(bid=b, pathname=p, referrer_host=h, referrer_group=g, language_base=lb, language_dialect=ld)
            for b, p, h, g, lb, ld in rows
        ],
    )
    yield conn
    conn.close()


def kept(db: duckdb.DuckDBPyConnection, query: str) -> set[str]:
    filters = parse(query).filters
    q = Query().select("v.bid").from_("views AS v")
    return {str(r[0]) for r in q.where(filters.where(q.params)).fetch(db)}


ALL = {"contact", "Contact", "pct", "blog", "null", "cafe"}


@pytest.mark.parametrize(
    ("query", "bids"),
    [
        ("path[eq]=/CONTACT", {"contact", "Contact"}),
        ("path[eq]=/c_ntact", set()),  # _ is literal (docs/compatibility.md#stats)
        ("path[eq]=/100%25_off", {"pct"}),  # % is literal
        ("path[eq]=/100%25", set()),
        ("path[neq]=/contact", ALL - {"contact", "Contact"}),
        ("path[contains]=%25", {"pct"}),
        ("path[not_contains]=O", {"null", "cafe"}),
        ("path[starts_with]=/B", {"blog"}),
        ("path[not_starts_with]=/c", {"pct", "blog", "null"}),
        ("path[ends_with]=É", {"cafe"}),
        ("path[not_ends_with]=t", {"pct", "null", "cafe"}),
        ("path[in]=/contact, /BLOG/post,/nope", {"contact", "Contact", "blog"}),
        ("path[not_in]=/contact,/null", {"pct", "blog", "cafe"}),
        ("path[starts_with]=/c&path[not_ends_with]=é", {"contact", "Contact"}),  # every operator applies
        ("path[eq]=/contact&path[eq]=/blog/post", set()),
        # NULL never matches, not even a negative operator.
        ("referrer[neq]=google", {"contact", "pct", "blog", "cafe"}),
        ("language[not_in]=german", {"contact", "Contact", "pct", "cafe"}),
    ],
)
def test_operators(db: duckdb.DuckDBPyConnection, query: str, bids: set[str]) -> None:
    assert kept(db, query) == bids


@pytest.mark.parametrize(
    ("query", "bids"),
    [
        # Positive: either column matches (host or group).
        ("referrer[eq]=google", {"Contact"}),
        ("referrer[eq]=google.com", {"pct"}),
        ("referrer[contains]=google", {"Contact", "pct"}),
        ("referrer[in]=hacker news,bing.com", {"blog", "cafe"}),
        # Empty value: direct traffic; the group is not consulted.
        ("referrer[eq]=", {"contact"}),
        ("referrer[neq]=", {"Contact", "pct", "blog", "cafe"}),
        ("referrer[in]=,bing", {"contact", "cafe"}),
        # Negative: a match in either column drops the row (docs/compatibility.md#stats), an empty group never keeps it.
        ("referrer[neq]=google", {"contact", "pct", "blog", "cafe"}),
        ("referrer[neq]=google.com", {"contact", "Contact", "blog", "cafe"}),
        ("referrer[not_contains]=google", {"contact", "blog", "cafe"}),
        ("referrer[not_starts_with]=hacker", {"contact", "Contact", "pct", "cafe"}),
        ("referrer[not_ends_with]=news", {"contact", "Contact", "pct", "cafe"}),
        ("referrer[not_in]=google,bing.com", {"contact", "pct", "blog"}),
        ("language[eq]=english", {"contact", "Contact", "pct"}),
        ("language[eq]=british english", {"contact"}),
        ("language[neq]=english", {"blog", "cafe"}),
        ("language[neq]=british english", {"Contact", "pct", "blog", "cafe"}),
        ("language[not_contains]=french", {"contact", "Contact", "pct", "blog"}),
        ("language[not_starts_with]=canadian", {"contact", "Contact", "pct", "blog"}),
        ("language[not_ends_with]=english", {"blog", "cafe"}),
        ("language[not_in]=english,german", {"cafe"}),
    ],
)
def test_paired_columns(db: duckdb.DuckDBPyConnection, query: str, bids: set[str]) -> None:
    assert kept(db, query) == bids


def test_period_bounds_are_inclusive(db: duckdb.DuckDBPyConnection) -> None:
    noon = make_view().date_created
    at = noon.astimezone(timezone(timedelta(hours=2))).isoformat().replace("+", "%2B")
    assert kept(db, f"start={at}&end={at}") == ALL
    assert kept(db, "start=2024-06-01T12:00:01Z") == set()
