"""Small hand-made datasets where the right answer can be worked out on paper, one per metric and rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.stats.dataset import Event, insert_events, insert_views, make_view
from tests.stats.harness import run

if TYPE_CHECKING:
    import duckdb

    from tests.stats.dataset import View

NOON = datetime(2024, 6, 1, 12, tzinfo=UTC)


def timed(*durations: int | None, unique: bool = True, **overrides: object) -> list[View]:
    return [
        make_view(bid=f"t{i}-{overrides.get('pathname', '/')}", duration_ms=d, is_unique_user=unique, **overrides)
        for i, d in enumerate(durations)
    ]


def test_six_views_bounce_and_median(db: duckdb.DuckDBPyConnection) -> None:
    # D = 6 timed unique views; B = 3 in 100..5000 (100, 3000, 5000; 50 is too short, 5001 too long).
    insert_views(db, timed(50, 100, 3000, 5000, 5001, 12000))
    assert run(db, "summary") == {
        "current": {"visitors": 6, "pageviews": 6, "bounce_percentage": 0.5, "duration": 4000}
    }


def test_bounce_needs_more_than_five_timed_unique_views(db: duckdb.DuckDBPyConnection) -> None:
    # Five timed unique views: no bounce rate. Untimed and repeat views never count towards D.
    insert_views(db, timed(200, 300, 400, 500, 600) + timed(None) + timed(700, unique=False))
    assert run(db, "summary")["current"]["bounce_percentage"] == 0
    insert_views(db, [make_view(bid="sixth", duration_ms=10_000)])
    # Now D = 6, B = 5 → 0.8333.
    assert run(db, "summary")["current"]["bounce_percentage"] == 0.8333


def test_median_is_interpolated_and_rounded_ties_to_even(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, timed(1, 4998, 5001, 9000))  # (4998 + 5001) / 2 = 4999.5 → 5000
    assert run(db, "summary")["current"]["duration"] == 5000
    insert_views(db, timed(5000, 5002, pathname="/x"))  # now 1, 4998, 5000, 5001, 5002, 9000: 5000.5 → 5000
    assert run(db, "summary")["current"]["duration"] == 5000


def test_median_counts_repeat_views_and_ignores_missing_durations(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, timed(10, None, None) + timed(20, 31, unique=False))  # median of 10, 20, 31
    assert run(db, "summary")["current"] == {"visitors": 3, "pageviews": 5, "bounce_percentage": 0, "duration": 20}


def test_no_rows_is_all_zeros(db: duckdb.DuckDBPyConnection) -> None:
    assert run(db, "summary") == {"current": {"visitors": 0, "pageviews": 0, "bounce_percentage": 0, "duration": 0}}
    for endpoint in ("pages", "time", "referrers", "browsers", "properties"):
        assert run(db, endpoint) == []


def test_visitors_are_flag_counts_not_distinct(db: duckdb.DuckDBPyConnection) -> None:
    # The same bid twice, both flagged: two visitors (the tracker's flag is trusted, never DISTINCT).
    insert_views(db, [make_view(bid="same"), make_view(bid="same"), make_view(bid="x", is_unique_user=False)])
    assert run(db, "summary")["current"]["visitors"] == 2


def test_share_is_rounded_half_away_from_zero(db: duckdb.DuckDBPyConnection) -> None:
    # 1/32 = 0.03125 exactly: DuckDB ROUND gives 0.0313 where Python's round() gives 0.0312.
    insert_views(db, [make_view(bid="one", ua_browser="Opera")] + [make_view(bid=f"c{i}") for i in range(31)])
    browsers = run(db, "browsers", "summary=true")
    assert browsers == [
        {"browser": "Chrome", "visitors": 31, "visitors_percentage": 0.9688},
        {"browser": "Opera", "visitors": 1, "visitors_percentage": 0.0313},
    ]


def test_dimension_keeps_zero_visitor_groups_and_zero_total_is_null(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, [make_view(bid="r1", is_unique_user=False, ua_os="Linux")])
    assert run(db, "os", "summary=true") == [{"os": "Linux", "visitors": 0, "visitors_percentage": None}]
    insert_views(db, [make_view(bid="u1", ua_os="Windows")])
    assert run(db, "os") == [
        {"os": "Windows", "visitors": 1, "visitors_percentage": 1, "bounce_percentage": 0, "duration": 0},
        {"os": "Linux", "visitors": 0, "visitors_percentage": 0, "bounce_percentage": 0, "duration": 0},
    ]


def test_labels_sort_by_visitors_then_bytes(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, [make_view(bid=c or "empty", utm_source=c) for c in ("b", "B", "", "a")])
    assert [i["source"] for i in run(db, "sources")] == ["", "B", "a", "b"]


def test_referrer_group_or_host(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(
        db,
        [
            make_view(bid="g1", referrer_host="www.google.com", referrer_group="Google"),
            make_view(bid="g2", referrer_host="google.de", referrer_group="Google"),
            make_view(bid="h1", referrer_host="blog.example", referrer_group=""),
            make_view(bid="n1", referrer_host="old.example", referrer_group=None),  # a row from before groups
            make_view(bid="d1"),
        ],
    )
    assert run(db, "referrers", "summary=true") == [
        {"referrer": "Google", "visitors": 2, "visitors_percentage": 0.4},
        {"referrer": "", "visitors": 1, "visitors_percentage": 0.2},
        {"referrer": "blog.example", "visitors": 1, "visitors_percentage": 0.2},
        {"referrer": "old.example", "visitors": 1, "visitors_percentage": 0.2},
    ]
    assert [i["referrer"] for i in run(db, "referrers", "grouped=false")] == [
        "", "blog.example", "google.de", "old.example", "www.google.com"
    ]  # fmt: skip


def test_pages_use_unique_page_and_hide_zero_visitor_paths(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(
        db,
        [
            make_view(bid="a1", pathname="/a"),
            make_view(bid="a2", pathname="/a", is_unique_user=False),
            make_view(bid="a3", pathname="/a", is_unique_user=False, is_unique_page=False),
            make_view(bid="b1", pathname="/b", is_unique_user=False),
            make_view(bid="z1", pathname="/z", is_unique_page=False),  # no unique-page view: hidden
            make_view(bid="z2", pathname="/z", is_unique_page=False),
        ],
    )
    # visitors share: over 3 unique-page rows; page views share: over all 6 rows, hidden path included.
    assert run(db, "pages") == [
        {"path": "/a", "visitors": 2, "visitors_percentage": 0.6667, "pageviews": 3, "pageviews_percentage": 0.5,
         "bounce_percentage": 0, "duration": 0},
        {"path": "/b", "visitors": 1, "visitors_percentage": 0.3333, "pageviews": 1, "pageviews_percentage": 0.1667,
         "bounce_percentage": 0, "duration": 0},
    ]  # fmt: skip
    assert run(db, "pages", "summary=true&limit=1&offset=1") == [
        {"path": "/b", "visitors": 1, "visitors_percentage": 0.3333}
    ]


def test_time_quartiles_and_which_paths_are_kept(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(
        db,
        timed(10, 20, 30, 40, pathname="/q")  # median 25, quartiles 17.5 → 18 and 32.5 → 32 (ties to even)
        + timed(0, 0, 10, 20, pathname="/zero-lq")  # median 5, lower quartile 0: summary only
        + timed(1000, 2000, pathname="/two")  # only two unique-page visitors: never
        + timed(0, 0, 0, pathname="/none"),  # median 0: never
    )
    assert run(db, "time") == [
        {"path": "/q", "duration": 25, "duration_percentage": 1, "duration_upper_quartile": 32,
         "duration_lower_quartile": 18, "visitors": 4},
    ]  # fmt: skip
    # Summary: both kept paths share 100 + 30 ms; ordered by the rounded share.
    assert run(db, "time", "summary=true") == [
        {"path": "/q", "duration": 25, "duration_percentage": 0.7692},
        {"path": "/zero-lq", "duration": 5, "duration_percentage": 0.2308},
    ]


def test_previous_period_overlaps_at_start(db: duckdb.DuckDBPyConnection) -> None:
    start, end = datetime(2024, 6, 10, tzinfo=UTC), datetime(2024, 6, 20, tzinfo=UTC)
    insert_views(
        db,
        [
            make_view(bid="prev-start", date_created=start - timedelta(days=10)),
            make_view(bid="before", date_created=start - timedelta(days=10, seconds=1)),
            make_view(bid="at-start", date_created=start),
            make_view(bid="at-end", date_created=end),
            make_view(bid="after", date_created=end + timedelta(seconds=1)),
        ],
    )
    got = run(db, "summary", "start=2024-06-10T00:00:00.999Z&end=2024-06-20T00:00:00Z&previous=true")
    assert got["current"]["pageviews"] == 2
    assert got["previous"]["pageviews"] == 2
    assert "previous" not in run(db, "summary", "start=2024-06-10T00:00:00Z&previous=true")


def _series(db: duckdb.DuckDBPyConnection, query: str) -> list[tuple[str, int]]:
    got = run(db, "summary", query)
    return [(b["date"], b["pageviews"]) for b in got["interval"]]


def _at(*moments: str) -> list[View]:
    return [make_view(bid=f"m{i}", date_created=datetime.fromisoformat(m)) for i, m in enumerate(moments)]


def test_minute_series_across_a_month_boundary(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, _at("2024-01-31T23:58:30+00:00", "2024-01-31T23:59:59+00:00", "2024-02-01T00:00:30+00:00"))
    assert _series(db, "start=2024-01-31T23:58:30Z&end=2024-02-01T00:00:30Z&interval=minute") == [
        ("2024-01-31 23:58:30+00", 1),
        ("2024-01-31 23:59:30+00", 1),
        ("2024-02-01 00:00:30+00", 1),  # end falls exactly on a step: included
    ]


def test_hour_series_is_anchored_at_start(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, _at("2024-02-29T23:40:00+00:00", "2024-03-01T00:39:59+00:00", "2024-03-01T00:40:00+00:00"))
    assert _series(db, "start=2024-02-29T22:40:00Z&end=2024-03-01T01:00:00Z&interval=hour") == [
        ("2024-02-29 22:40:00+00", 0),
        ("2024-02-29 23:40:00+00", 2),
        ("2024-03-01 00:40:00+00", 1),
    ]


def test_day_series_with_an_offset_start(db: duckdb.DuckDBPyConnection) -> None:
    # 2024-01-30T18:00:00+05:30 is 12:30 UTC; the dates are shown in UTC.
    insert_views(db, _at("2024-01-31T12:29:59+00:00", "2024-01-31T12:30:00+00:00", "2024-02-02T12:30:00+00:00"))
    assert _series(db, "start=2024-01-30T18:00:00%2B05:30&end=2024-02-02T12:30:00Z&interval=day") == [
        ("2024-01-30 12:30:00+00", 1),
        ("2024-01-31 12:30:00+00", 1),
        ("2024-02-01 12:30:00+00", 0),
        ("2024-02-02 12:30:00+00", 1),
    ]


def test_week_series_starts_on_any_weekday(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, _at("2024-01-30T00:00:00+00:00", "2024-01-31T00:00:00+00:00", "2024-02-06T23:59:59+00:00"))
    assert _series(db, "start=2024-01-24T00:00:00Z&end=2024-02-10T00:00:00Z&interval=week") == [
        ("2024-01-24 00:00:00+00", 1),
        ("2024-01-31 00:00:00+00", 2),
        ("2024-02-07 00:00:00+00", 0),
    ]


def test_month_series_uses_calendar_months(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, _at("2024-01-10T00:00:00+00:00", "2024-01-20T00:00:00+00:00", "2024-02-29T23:59:59+00:00"))
    # The first bucket starts before `start`, but its rows are still bounded by it (the 10th is out).
    assert _series(db, "start=2024-01-15T00:00:00Z&end=2024-04-01T00:00:00Z&interval=month") == [
        ("2024-01-01 00:00:00+00", 1),
        ("2024-02-01 00:00:00+00", 1),
        ("2024-03-01 00:00:00+00", 0),
        ("2024-04-01 00:00:00+00", 0),
    ]


def test_each_bucket_applies_the_bounce_threshold(db: duckdb.DuckDBPyConnection) -> None:
    day1 = [make_view(bid=f"d1-{i}", duration_ms=1000, date_created=NOON) for i in range(6)]
    day2 = [make_view(bid=f"d2-{i}", duration_ms=1000, date_created=NOON + timedelta(days=1)) for i in range(5)]
    insert_views(db, day1 + day2)
    got = run(db, "summary", "start=2024-06-01T00:00:00Z&end=2024-06-02T23:59:59Z&interval=day")
    assert [b["bounce_percentage"] for b in got["interval"]] == [1, 0]
    assert got["current"]["bounce_percentage"] == 1


def test_property_filters_count_each_view_once(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, [make_view(bid="v1", duration_ms=1000), make_view(bid="v2"), make_view(bid="v3")])
    insert_events(
        db,
        [Event(f"e{i}", "example.com", "click", "buy", NOON, "v1") for i in range(3)]
        + [Event("e9", "example.com", "click", "signup", NOON, "v2")],
    )
    got = run(db, "summary", "prop_name[eq]=click")
    assert got["current"]["pageviews"] == 2
    assert run(db, "pages", "prop_value[eq]=buy&summary=true") == [
        {"path": "/", "visitors": 1, "visitors_percentage": 1}
    ]


def test_properties_group_by_name_then_value(db: duckdb.DuckDBPyConnection) -> None:
    insert_views(db, [make_view(bid="v1"), make_view(bid="v2")])
    insert_events(
        db,
        [
            Event("a", "example.com", "plan", "pro", NOON, "v1"),
            Event("a", "example.com", "theme", "", NOON, "v1"),
            Event("b", "example.com", "plan", "free", NOON + timedelta(days=3), "v2"),
            Event("c", "example.com", "plan", "pro", NOON, ""),  # not tied to a view: never counted
        ],
    )
    assert run(db, "properties") == [
        {"name": "plan", "events": 2, "events_percentage": 0.6667},
        {"name": "theme", "events": 1, "events_percentage": 0.3333},
    ]
    assert run(db, "properties", "prop_name[eq]=theme") == [{"events": 1, "events_percentage": 1}]
    # The period bounds the event time, not the view time.
    assert run(db, "properties", "prop_name[eq]=plan&start=2024-06-02T00:00:00Z") == [
        {"value": "free", "events": 1, "events_percentage": 1}
    ]


def test_quantiles_interpolate_in_floating_point_over_stored_integers(db: duckdb.DuckDBPyConnection) -> None:
    # UINTEGER durations: the median of 1 and 2 is 1.5 (→ 2), not an integer-truncated 1.
    insert_views(db, timed(1, 2, 2, pathname="/i"))  # quartiles 1.5 → 2, 2, 2; median 2
    insert_views(
        db, [make_view(bid="x", duration_ms=1, pathname="/j"), make_view(bid="y", duration_ms=2, pathname="/j")]
    )
    assert run(db, "pages", "path[eq]=/j")[0]["duration"] == 2
    assert run(db, "time")[0]["duration_lower_quartile"] == 2
