"""Every way we compute a duration median or quartile equals DuckDB's `CAST(quantile_cont(x, q) AS INTEGER)`.

That cast rounds to the nearest integer with ties to even, so the multisets below are built to land exactly
on .5 as often as not. The ways: the binned two-pass medians of /summary (stats/medians.py), the SQL
`quantile_cont(...)::BIGINT` of the list reports and of long summary series, and the test oracle.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medama_py.stats import medians, summary
from medama_py.stats.medians import half_to_even
from tests.stats import oracle
from tests.stats.dataset import insert_views, make_view
from tests.stats.harness import run
from tests.support.examples import examples

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb

DAY = datetime(2024, 6, 1, tzinfo=UTC)
QUANTILES = (0.25, 0.5, 0.75)
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1
# Values that stress the bins: both edges of a 1024 ms bin, zero and the UINTEGER maximum.
DURATIONS = st.one_of(
    st.integers(0, 3000),
    st.sampled_from([0, 1023, 1024, 2047, 2048, UINT32_MAX]),
    st.integers(0, UINT32_MAX),
)
SMALL = st.integers(0, 20)  # few distinct values: repeats and .5 ties come often


@st.composite
def tied(draw: st.DrawFn, q: float, values: st.SearchStrategy[int] = DURATIONS) -> list[int]:
    """A shuffled multiset whose q-quantile interpolates to exactly k + 0.5.

    With n values the quantile sits at position (n − 1)·q = k + f. The sorted values at k and k + 1 are x and
    x + d, so the quantile is x + d·f; d is picked so that d·f ends in .5 (d odd for f = ½, d ≡ 2 mod 4 for
    f = ¼ or ¾). Everything below position k is ≤ x, everything above k + 1 is ≥ x + d.
    """
    n = draw(st.integers(2, 40).filter(lambda n: ((n - 1) * q) % 1))
    k = int((n - 1) * q)
    fraction = (n - 1) * q - k
    d = draw(st.integers(0, 2000)) * 2 + 1 if fraction == 0.5 else draw(st.integers(0, 1000)) * 4 + 2
    x = draw(values.filter(lambda v: v + d <= UINT32_MAX))
    below = draw(st.lists(st.integers(0, x), min_size=k, max_size=k))
    above = draw(st.lists(st.integers(x + d, min(x + d + 5000, UINT32_MAX)), min_size=n - k - 2, max_size=n - k - 2))
    return draw(st.permutations([*below, x, x + d, *above]))


def multisets(q: float) -> st.SearchStrategy[list[int]]:
    """Exact ties half of the time; otherwise free multisets, tie-prone or spread over the whole UINTEGER range."""
    free = st.lists(st.one_of(SMALL, DURATIONS), max_size=40)
    return st.one_of(tied(q), tied(q, SMALL), free, st.lists(SMALL, max_size=40))


def duckdb_cast(conn: duckdb.DuckDBPyConnection, q: float, where: str = "true") -> int:
    """The original's own expression over the stored durations; 0 when there are none (as it reports them).

    A quantile above INTEGER's range would fail the original's cast; BIGINT applies the same rounding there.
    """
    raw = conn.execute(f"SELECT quantile_cont(duration_ms, {q}) FROM views WHERE {where}").fetchone()  # noqa: S608
    assert raw is not None
    if raw[0] is None:
        return 0
    target = "INTEGER" if raw[0] <= INT32_MAX else "BIGINT"
    cast = conn.execute(f"SELECT CAST(quantile_cont(duration_ms, {q}) AS {target}) FROM views WHERE {where}")  # noqa: S608
    got = cast.fetchone()
    assert got is not None
    return int(got[0])


def _store(db: duckdb.DuckDBPyConnection, durations: Sequence[int | None], pathname: str = "/") -> None:
    db.execute("DELETE FROM views")
    views = [
        make_view(bid=f"b{i}", pathname=pathname, date_created=DAY + timedelta(minutes=i), duration_ms=d)
        for i, d in enumerate(durations)
    ]
    if views:
        insert_views(db, views)


SETTINGS = settings(
    max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("q", QUANTILES)
@SETTINGS
@given(data=st.data())
def test_tied_strategy_lands_on_half(db: duckdb.DuckDBPyConnection, q: float, data: st.DataObject) -> None:
    # The generator does what it promises, so the properties below really exercise ties.
    _store(db, data.draw(tied(q)))
    raw = db.execute(f"SELECT quantile_cont(duration_ms, {q}) FROM views").fetchone()  # noqa: S608
    assert raw is not None
    assert raw[0] % 1 == 0.5


@pytest.mark.parametrize("q", QUANTILES)
@SETTINGS
@given(data=st.data())
def test_oracle_rounds_as_duckdb(db: duckdb.DuckDBPyConnection, q: float, data: st.DataObject) -> None:
    durations = data.draw(multisets(q))
    _store(db, durations)
    assert oracle.quantile(durations, q) == duckdb_cast(db, q)


@SETTINGS
@given(durations=multisets(0.5), nulls=st.integers(0, 3))
def test_binned_summary_median(db: duckdb.DuckDBPyConnection, durations: list[int], nulls: int) -> None:
    _store(db, [*durations, *([None] * nulls)])
    assert run(db, "summary")["current"]["duration"] == duckdb_cast(db, 0.5)


@SETTINGS
@given(durations=multisets(0.5))
def test_sql_median_of_a_group(db: duckdb.DuckDBPyConnection, durations: list[int]) -> None:
    _store(db, durations, pathname="/p")
    expected = duckdb_cast(db, 0.5)
    assert [p["duration"] for p in run(db, "pages")] == ([expected] if durations else [])
    # The listed groups' medians are read after paging, from binned counts (medians.listed_quantiles).
    assert [p["duration"] for p in run(db, "pages", "limit=3")] == ([expected] if durations else [])
    assert [b["duration"] for b in run(db, "browsers")] == ([expected] if durations else [])


@pytest.mark.parametrize("q", QUANTILES)
@SETTINGS
@given(data=st.data())
def test_sql_quartiles_of_time(db: duckdb.DuckDBPyConnection, q: float, data: st.DataObject) -> None:
    durations = data.draw(multisets(q))
    _store(db, durations, pathname="/p")
    lower, median, upper = (duckdb_cast(db, x) for x in QUANTILES)
    listed = run(db, "time")
    if len(durations) >= 3 and median > 0 and lower > 0:
        assert [(t["duration_lower_quartile"], t["duration"], t["duration_upper_quartile"]) for t in listed] == [
            (lower, median, upper)
        ]
    else:
        assert listed == []


PATHS = ("/a", "/b", "/c's", "/d")  # a quote: the listed labels are bound, never written into the SQL


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(PATHS), st.booleans(), st.one_of(st.none(), SMALL, DURATIONS)), max_size=60
    ),
    limit=st.integers(1, 5),
)
def test_listed_quantiles_equal_every_groups(
    db: duckdb.DuckDBPyConnection, rows: list[tuple[str, bool, int | None]], limit: int
) -> None:
    # A limited page reads the quantiles of its listed paths only (medians.listed_quantiles, joined on their
    # index); without a limit, every path's.
    # Paths whose durations are all NULL, or all zero, and repeat visits (no unique-page visitor) included.
    db.execute("DELETE FROM views")
    views = [
        make_view(bid=f"b{i}", pathname=path, is_unique_page=unique, date_created=DAY + timedelta(minutes=i),
                  duration_ms=duration)
        for i, (path, unique, duration) in enumerate(rows)
    ]  # fmt: skip
    if views:
        insert_views(db, views)
    for endpoint in ("time", "pages"):
        for variant in ("", "&summary=true"):
            assert run(db, endpoint, f"limit={limit}{variant}") == run(db, endpoint, variant[1:])[:limit]


# Durations around the 8,192 ms bins the lists count in (storage/view_sums.py DAY_BIN_SHIFT), so a quantile's two
# neighbours often fall in different bins.
NEAR_BIN_EDGES = st.one_of(st.integers(8180, 8200), st.integers(16370, 16400), st.integers(0, 3))


@pytest.mark.parametrize("held_max", [0, medians.HELD_DURATIONS_MAX], ids=["binned", "held"])
@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(PATHS), st.one_of(st.none(), NEAR_BIN_EDGES, SMALL, DURATIONS)), max_size=80
    )
)
def test_every_listed_quantile_is_duckdbs(
    db: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch, held_max: int, rows: list[tuple[str, int | None]]
) -> None:
    # /pages' medians and /time's quartiles of several paths at once, against DuckDB's own quantile_cont of that
    # path alone: held by quantile_cont when few, counted in bins and read bin by bin when many (the size at which
    # the lists switch, set to 0 here, makes these few rows "many").
    monkeypatch.setattr(medians, "HELD_DURATIONS_MAX", held_max)
    db.execute("DELETE FROM views")
    views = [
        make_view(bid=f"b{i}", pathname=path, date_created=DAY + timedelta(minutes=i), duration_ms=duration)
        for i, (path, duration) in enumerate(rows)
    ]
    if views:
        insert_views(db, views)

    def expected(path: str, q: float) -> int:
        return duckdb_cast(db, q, f"pathname = '{path}'".replace("'s'", "''s'"))

    for page in run(db, "pages"):
        assert page["duration"] == expected(page["path"], 0.5)
    for item in run(db, "time"):
        quartiles = (item["duration_lower_quartile"], item["duration"], item["duration_upper_quartile"])
        assert quartiles == tuple(expected(item["path"], q) for q in QUANTILES)


@SETTINGS
@given(rows=st.lists(st.tuples(st.integers(0, 5), st.one_of(st.none(), SMALL, DURATIONS)), max_size=60))
def test_binned_series_medians(db: duckdb.DuckDBPyConnection, rows: list[tuple[int, int | None]]) -> None:
    db.execute("DELETE FROM views")
    views = [
        make_view(bid=f"b{i}", date_created=DAY + timedelta(hours=hour, minutes=i % 60), duration_ms=duration)
        for i, (hour, duration) in enumerate(rows)
    ]
    if views:
        insert_views(db, views)
    got = run(db, "summary", "start=2024-06-01T00:00:00Z&end=2024-06-01T05:59:59Z&interval=hour")
    assert got["current"]["duration"] == duckdb_cast(db, 0.5)
    per_hour = [duckdb_cast(db, 0.5, f"hour(date_created) = {h}") for h in range(6)]
    assert [item["duration"] for item in got["interval"]] == per_hour


@pytest.mark.parametrize(
    ("twice", "expected"), [(10001, 5000), (9999, 5000), (6001, 3000), (14845, 7422), (0, 0), (1, 0), (3, 2)]
)
def test_half_to_even(twice: int, expected: int) -> None:
    assert half_to_even(twice) == expected


@pytest.mark.parametrize(
    ("durations", "expected"),
    [([5000, 5001], 5000), ([1801, 4200], 3000), ([4998, 5001], 5000), ([1, 2], 2), ([2, 3], 2)],
)
def test_the_original_rounds_ties_to_even(db: duckdb.DuckDBPyConnection, durations: list[int], expected: int) -> None:
    _store(db, durations)
    assert duckdb_cast(db, 0.5) == expected
    assert run(db, "summary")["current"]["duration"] == expected
    assert run(db, "pages")[0]["duration"] == expected


@pytest.mark.parametrize(
    "query",
    [
        "start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z&interval=month&previous=true",
        "start=2024-01-01T00:00:00Z&end=2024-03-31T23:59:59Z&interval=day&browser[eq]=Chrome",
        "start=2024-01-31T12:15:00Z&end=2024-02-01T12:15:00Z&interval=hour&path[starts_with]=/blog",
    ],
)
def test_both_series_strategies_give_the_same_numbers(
    cur: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    monkeypatch.setattr(summary, "_BINNED_MAX_BUCKETS", 10_000)
    binned = run(cur, "summary", query)
    monkeypatch.setattr(summary, "_BINNED_MAX_BUCKETS", 0)
    by_quantile = run(cur, "summary", query)
    assert binned == by_quantile
    assert any(item["duration"] for item in binned["interval"])


# ---- a limited page reads its quantiles after paging; every page equals a slice of the whole list -------------

# Few paths and mostly unique-page views, so that /time keeps some (3 visitors and a positive median) and
# visitor counts and shares tie; durations near 0 decide whether a rounded quantile is positive.
PAGE_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["/a", "/b", "/B", "/é"]),
        st.one_of(st.none(), st.sampled_from([0, 0, 1, 2, 3]), SMALL, DURATIONS),
        st.sampled_from([True, True, True, False]),
    ),
    min_size=6,
    max_size=60,
)


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=PAGE_ROWS,
    endpoint=st.sampled_from(["time", "pages"]),
    summary=st.booleans(),
    limit=st.integers(1, 7),
    offset=st.integers(0, 6),
)
def test_a_limited_page_is_a_slice_of_the_whole_list(
    db: duckdb.DuckDBPyConnection,
    rows: list[tuple[str, int | None, bool]],
    endpoint: str,
    summary: bool,
    limit: int,
    offset: int,
) -> None:
    db.execute("DELETE FROM views")
    views = [
        make_view(bid=f"b{i}", pathname=path, duration_ms=duration, is_unique_page=unique, date_created=DAY)
        for i, (path, duration, unique) in enumerate(rows)
    ]
    if views:
        insert_views(db, views)
    flag = f"summary={str(summary).lower()}"
    whole = run(db, endpoint, flag)
    assert run(db, endpoint, f"{flag}&limit={limit}&offset={offset}") == whole[offset : offset + limit]


def test_which_paths_time_keeps_when_a_quantile_is_near_zero(db: duckdb.DuckDBPyConnection) -> None:
    # Kept paths need a median (and, in full, a lower quartile) that rounds above 0; 0.5 rounds to 0.
    paths: dict[str, list[int | None]] = {
        "/half": [None, 0, 1],  # median 0.5 → 0: never kept
        "/one": [None, 0, 2],  # median 1: kept in the summary; lower quartile 0.5 → 0: not in full
        "/lq": [0, 2, 5, 9],  # median 3.5 → 4; lower quartile 0 + 0.75 · 2 = 1.5 → 2: kept in both
        "/zeros": [0, 0, 0, 7],  # median 0: never
    }
    insert_views(
        db,
        [
            make_view(bid=f"{path}{i}", pathname=path, duration_ms=d, date_created=DAY)
            for path, durations in paths.items()
            for i, d in enumerate(durations)
        ],
    )
    for flag, kept in (("summary=true", {"/one", "/lq"}), ("summary=false", {"/lq"})):
        whole = run(db, "time", flag)
        assert {item["path"] for item in whole} == kept
        for limit in (1, 2, 5):
            assert run(db, "time", f"{flag}&limit={limit}") == whole[:limit]
