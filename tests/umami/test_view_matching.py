"""Umami-collected page views are found in `views` by their time when that is exact, by id otherwise: the
numbers are the same either way. Rows are written straight into a real DuckDB file (one Medama page view
at the very microsecond of an Umami one cannot be made over HTTP); every expected number is counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from medama_py.storage.analytics import AnalyticsStore
from medama_py.umami.identity import BY_ID, BY_TIME, umami_view_key
from medama_py.umami.metrics import expanded_metrics, metrics
from medama_py.umami.params import parse_umami_params
from medama_py.umami.queries import MetricQuery, RangeQuery
from medama_py.umami.reports import website_stats

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import duckdb

    from medama_py.umami.params import UmamiParams

SITE = "m.example"
T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
_VIEW = (
    "INSERT INTO views (bid, hostname, pathname, is_unique_user, is_unique_page, ua_browser, ua_os, ua_device_type,"
    " duration_ms, date_created) VALUES (?, ?, ?, ?, true, 'Chrome', 'Linux', 'Desktop', ?, ?)"
)
_HIT = (
    "INSERT INTO umami_hits (bid, site, session_id, visit_id, event_type, url_path, is_new_visitor, date_created)"
    " VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
)


# Where the third Umami page view and the first Medama one are, after T0: apart, or at one microsecond with
# the Medama view, or with the second Umami page view.
LAYOUTS = {
    "apart": (timedelta(seconds=100), timedelta(seconds=101)),
    "medama-same-microsecond": (timedelta(seconds=100), timedelta(seconds=100)),
    "umami-same-microsecond": (timedelta(seconds=10), timedelta(seconds=101)),
}


def _seed(cur: duckdb.DuckDBPyConnection, layout: str) -> None:
    """Umami visit V1: /a (10 s), /b; visit V2: /c alone (a bounce); Medama /x (60 s), /y (2 s)."""
    third_at, medama_at = LAYOUTS[layout]
    for bid, path, flag, duration, at, visit in (
        ("u1", "/a", True, 10_000, timedelta(0), "V1"),
        ("u2", "/b", False, None, timedelta(seconds=10), "V1"),
        ("u3", "/c", True, None, third_at, "V2"),
    ):
        cur.execute(_VIEW, [bid, SITE, path, flag, duration, T0 + at])
        cur.execute(_HIT, [bid, SITE, "S", visit, path, flag, T0 + at])
    cur.execute(_VIEW, ["m1", SITE, "/x", True, 60_000, T0 + medama_at])
    cur.execute(_VIEW, ["m2", SITE, "/y", False, 2_000, T0 + timedelta(seconds=200)])


@pytest.fixture(params=list(LAYOUTS))
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, bool]]:
    store = AnalyticsStore(str(tmp_path / "me_analytics.db"))
    store.open()
    try:
        store.write_sync(lambda cur: _seed(cur, request.param))
        yield store.cursor(), request.param != "apart"
    finally:
        store.close()


def _q(query: type[RangeQuery], **extra: str) -> UmamiParams:
    start = int((T0 - timedelta(hours=1)).timestamp() * 1000)
    items = [("startAt", str(start)), ("endAt", str(start + 7_200_000)), *extra.items()]
    return parse_umami_params(items, SITE, query)


def test_the_match_is_by_id_only_when_times_are_ambiguous(seeded: tuple[duckdb.DuckDBPyConnection, bool]) -> None:
    cur, collide = seeded
    assert umami_view_key(cur, _q(RangeQuery)) == (BY_ID if collide else BY_TIME)


def test_numbers_are_the_same_either_way(seeded: tuple[duckdb.DuckDBPyConnection, bool]) -> None:
    cur, _ = seeded
    stats = website_stats(cur, _q(RangeQuery))
    # 5 page views; flags u1 u3 m1; visits V1 V2 m1 m2; bounces V2 (one page view) and m2 (2 s); 10 + 60 + 2 s.
    assert {k: v for k, v in stats.items() if k != "comparison"} == {
        "pageviews": 5,
        "visitors": 3,
        "visits": 4,
        "bounces": 2,
        "totaltime": 72,
    }
    filtered = website_stats(cur, _q(RangeQuery, path="eq./c"))
    assert (filtered["pageviews"], filtered["visits"], filtered["bounces"]) == (1, 1, 1)
    entry = metrics(cur, _q(MetricQuery, type="entry"))
    assert [(m["x"], m["y"]) for m in entry] == [("/a", 1), ("/c", 1), ("/x", 1), ("/y", 0)]
    rows = expanded_metrics(cur, _q(MetricQuery, type="browser"))
    assert [(m["pageviews"], m["visitors"], m["visits"], m["bounces"], m["totaltime"]) for m in rows] == [
        (5, 3, 4, 2, 72)
    ]
