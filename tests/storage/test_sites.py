"""Whole-website work on a real DuckDB file: 24-hour visitors, rename and delete (docs/compatibility.md#websites)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.sites import count_recent_visitors, delete_site_rows, rename_site_rows
from tests.support.rows import insert_views, make_view

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def add_view(cur: duckdb.DuckDBPyConnection, hostname: str, *, unique: bool, at: datetime) -> None:
    insert_views(cur, [make_view(hostname=hostname, is_unique_user=unique, date_created=at)])


def add_event(cur: duckdb.DuckDBPyConnection, hostname: str) -> None:
    cur.execute("INSERT INTO events VALUES ('event_x', ?, 'plan', 'pro', ?, 'b')", [hostname, NOW])


def test_recent_visitors_count_unique_users_in_the_last_24_hours(analytics: AnalyticsStore) -> None:
    cur = analytics.conn
    add_view(cur, "a.example", unique=True, at=NOW - timedelta(hours=1))
    add_view(cur, "a.example", unique=True, at=NOW - timedelta(hours=23, minutes=59))
    add_view(cur, "a.example", unique=False, at=NOW - timedelta(hours=2))
    add_view(cur, "a.example", unique=True, at=NOW - timedelta(hours=25))
    add_view(cur, "b.example", unique=True, at=NOW - timedelta(minutes=5))
    since = NOW - timedelta(days=1)
    assert count_recent_visitors(cur, ["a.example", "b.example", "c.example"], since) == {
        "a.example": 2,
        "b.example": 1,
        "c.example": 0,
    }
    assert count_recent_visitors(cur, [], since) == {}


async def test_rename_moves_views_and_events(analytics: AnalyticsStore) -> None:
    add_view(analytics.conn, "old.example", unique=True, at=NOW)
    add_view(analytics.conn, "other.example", unique=True, at=NOW)
    add_event(analytics.conn, "old.example")
    await analytics.write(lambda cur: rename_site_rows(cur, "old.example", "new.example"))
    views = analytics.conn.execute("SELECT hostname FROM views ORDER BY hostname").fetchall()
    events = analytics.conn.execute("SELECT group_name FROM events").fetchall()
    assert views == [("new.example",), ("other.example",)]
    assert events == [("new.example",)]


async def test_delete_removes_views_and_events_of_that_site_only(analytics: AnalyticsStore) -> None:
    add_view(analytics.conn, "gone.example", unique=True, at=NOW)
    add_view(analytics.conn, "kept.example", unique=True, at=NOW)
    add_event(analytics.conn, "gone.example")
    add_event(analytics.conn, "kept.example")
    await analytics.write(lambda cur: delete_site_rows(cur, "gone.example"))
    assert analytics.conn.execute("SELECT hostname FROM views").fetchall() == [("kept.example",)]
    assert analytics.conn.execute("SELECT group_name FROM events").fetchall() == [("kept.example",)]


async def test_reads_run_on_worker_cursors(analytics: AnalyticsStore) -> None:
    add_view(analytics.conn, "a.example", unique=True, at=NOW)
    count = await analytics.read(lambda cur: cur.execute("SELECT COUNT(*) FROM views").fetchone())
    assert count == (1,)
    zone = await analytics.read(lambda cur: cur.execute("SELECT current_setting('TimeZone')").fetchone())
    assert zone == ("UTC",)


def test_close_checkpoints_so_the_file_reopens_with_the_rows(tmp_path: Path) -> None:
    path = str(tmp_path / "me_analytics.db")
    store = AnalyticsStore(path)
    store.open()
    store.write_sync(lambda cur: add_view(cur, "a.example", unique=True, at=NOW))
    store.close()
    reopened = AnalyticsStore(path)
    reopened.open()
    try:
        assert reopened.conn.execute("SELECT hostname FROM views").fetchall() == [("a.example",)]
    finally:
        reopened.close()
