"""The binned exact medians (stats/medians.py) equal round(quantile_cont(duration_ms, 0.5)), whatever the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medama_py.stats import summary
from tests.stats.dataset import insert_views, make_view
from tests.stats.harness import run

if TYPE_CHECKING:
    import duckdb

DAY = datetime(2024, 6, 1, tzinfo=UTC)
# Values that stress the bins: both edges of a 1024 ms bin, zero and the UINTEGER maximum.
DURATIONS = st.one_of(
    st.none(),
    st.integers(0, 3000),
    st.sampled_from([0, 1023, 1024, 2047, 2048, 4_294_967_295]),
    st.integers(0, 4_294_967_295),
)


def _reference(conn: duckdb.DuckDBPyConnection, hours: int) -> tuple[int, dict[int, int]]:
    """round(quantile_cont) of the whole day and of each hour that has rows, straight from DuckDB."""
    whole = conn.execute("SELECT coalesce(round(quantile_cont(duration_ms, 0.5))::BIGINT, 0) FROM views").fetchone()
    per_hour = conn.execute(
        "SELECT hour(date_created), coalesce(round(quantile_cont(duration_ms, 0.5))::BIGINT, 0) FROM views GROUP BY 1"
    ).fetchall()
    assert whole is not None
    return whole[0], {h: m for h, m in per_hour if h < hours}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 5), DURATIONS), max_size=60))
def test_medians_equal_quantile_cont(db: duckdb.DuckDBPyConnection, rows: list[tuple[int, int | None]]) -> None:
    db.execute("DELETE FROM views")
    views = [
        make_view(bid=f"b{i}", date_created=DAY + timedelta(hours=hour, minutes=i % 60), duration_ms=duration)
        for i, (hour, duration) in enumerate(rows)
    ]
    if views:
        insert_views(db, views)
    whole, per_hour = _reference(db, 6)
    got = run(db, "summary", "start=2024-06-01T00:00:00Z&end=2024-06-01T05:59:59Z&interval=hour")
    assert got["current"]["duration"] == whole
    assert [item["duration"] for item in got["interval"]] == [per_hour.get(h, 0) for h in range(6)]
    assert run(db, "summary")["current"]["duration"] == whole


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
