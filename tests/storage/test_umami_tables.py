"""umami_hits: a file written with its first, 31-column shape opens in the current one with nothing lost
that `views` does not hold (docs/umami.md "What is stored")."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.umami_tables import UMAMI_HIT_COLUMNS

if TYPE_CHECKING:
    from pathlib import Path

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SITE_UUID = "3f0e8d4c-8a55-4a8e-9d2b-0d7c2b6f1a11"
VIEW_BID = "7b1f3c2e-0000-4000-8000-000000000001"
EVENT_ID = "7b1f3c2e-0000-4000-8000-000000000002"
BATCH = "event_01jeb7v6t0e8s9f3qk2m4n5p6r"
SESSION = "7b1f3c2e-0000-4000-8000-0000000000aa"

# The table as the first version of Umami collection created it.
FIRST_SHAPE = """
CREATE TABLE umami_hits (
    event_id TEXT NOT NULL, bid TEXT NOT NULL, batch_id TEXT, website_id TEXT NOT NULL, site TEXT NOT NULL,
    session_id TEXT NOT NULL, visit_id TEXT NOT NULL, event_type UTINYINT NOT NULL, event_name TEXT,
    hostname TEXT, url_path TEXT, url_query TEXT, page_title TEXT, referrer_path TEXT, referrer_query TEXT,
    referrer_domain TEXT, utm_source TEXT, utm_medium TEXT, utm_campaign TEXT, utm_content TEXT, utm_term TEXT,
    screen TEXT, language TEXT, tag TEXT, distinct_id TEXT, ua_browser TEXT, ua_os TEXT, ua_device_type TEXT,
    country TEXT, is_new_visitor BOOLEAN NOT NULL, date_created TIMESTAMPTZ NOT NULL
)"""
FIRST_DATA = """
CREATE TABLE umami_event_data (
    event_id TEXT NOT NULL, website_id TEXT NOT NULL, site TEXT NOT NULL, event_name TEXT, data_key TEXT NOT NULL,
    data_type UTINYINT NOT NULL, string_value TEXT NOT NULL, number_value DOUBLE, date_created TIMESTAMPTZ NOT NULL
)"""


def write_first_shape(path: Path) -> None:
    with closing(duckdb.connect(str(path))) as conn:
        conn.execute(FIRST_SHAPE)
        conn.execute(FIRST_DATA)
        common = [SITE_UUID, "shop.example", SESSION, SESSION]
        conn.execute(
            "INSERT INTO umami_hits VALUES (?, ?, NULL, ?, ?, ?, ?, 1, NULL, 'shop.example', '/a#x', 'q=1', 'A',"
            " '/s', 'id=7', 'news.example', 'nl', 'email', 'spring', 'c', 't', '390x844', 'de-DE', 'v2', 'u1',"
            " 'Chrome', 'Windows', 'Desktop', 'Germany', true, ?)",
            [VIEW_BID, VIEW_BID, *common, AT],
        )
        conn.execute(
            "INSERT INTO umami_hits VALUES (?, ?, ?, ?, ?, ?, ?, 2, 'buy', 'm.shop.example', '/a', NULL, NULL,"
            " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            " 'Chrome', 'Windows', 'Desktop', 'Germany', false, ?)",
            [EVENT_ID, VIEW_BID, BATCH, *common, AT],
        )
        conn.execute(
            "INSERT INTO umami_event_data VALUES (?, ?, 'shop.example', 'buy', 'total', 2, '9.5', 9.5, ?),"
            " (?, ?, 'shop.example', NULL, 'plan', 1, 'pro', NULL, ?)",
            [EVENT_ID, SITE_UUID, AT, VIEW_BID, SITE_UUID, AT],
        )


def open_as_the_server_does(path: Path) -> None:
    store = AnalyticsStore(str(path))
    store.open()
    store.close()


def hit_columns(conn: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    sql = "SELECT column_name FROM duckdb_columns() WHERE table_name = 'umami_hits' ORDER BY column_index"
    return tuple(name for (name,) in conn.execute(sql).fetchall())


def test_first_shape_is_rewritten_keeping_what_views_does_not_hold(tmp_path: Path) -> None:
    path = tmp_path / "me_analytics.db"
    write_first_shape(path)
    open_as_the_server_does(path)
    with closing(duckdb.connect(str(path), read_only=True)) as conn:
        columns = hit_columns(conn)
        hits = conn.execute("SELECT * FROM umami_hits ORDER BY event_type").fetchall()
        data = conn.execute("SELECT event_id, data_key FROM umami_event_data ORDER BY data_key").fetchall()
        leftovers = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'umami_hits_first'"
        ).fetchone()
    assert columns == UMAMI_HIT_COLUMNS
    assert hits == [
        (VIEW_BID, None, "shop.example", SESSION, SESSION, 1, None, None, "/a#x", "q=1", "A", "/s", "id=7",
         "news.example", "c", "t", "390x844", "de-DE", "v2", "u1", True, AT),
        (VIEW_BID, BATCH, "shop.example", SESSION, SESSION, 2, "buy", "m.shop.example", "/a", None, None, None,
         None, None, None, None, None, None, None, None, False, AT),
    ]  # fmt: skip
    # A custom event's data now names its events batch; a page view's keeps the bid.
    assert data == [(VIEW_BID, "plan"), (BATCH, "total")]
    assert leftovers == (0,)


def test_current_shape_opens_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "me_analytics.db"
    open_as_the_server_does(path)
    open_as_the_server_does(path)
    with closing(duckdb.connect(str(path), read_only=True)) as conn:
        assert hit_columns(conn) == UMAMI_HIT_COLUMNS


def test_the_brief_twenty_column_shape_gains_its_two_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "me_analytics.db"
    twenty = [name for name in UMAMI_HIT_COLUMNS if name not in ("referrer_domain", "is_new_visitor")]
    with closing(duckdb.connect(str(path))) as conn:
        conn.execute(f"CREATE TABLE umami_hits ({', '.join(f'{name} TEXT' for name in twenty)})")
    open_as_the_server_does(path)
    with closing(duckdb.connect(str(path), read_only=True)) as conn:
        assert set(hit_columns(conn)) == set(UMAMI_HIT_COLUMNS)
