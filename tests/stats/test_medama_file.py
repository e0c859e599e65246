"""An analytics file laid out and written the way Medama does gives the same answers as one we write.

Medama's layout: `views` as in its schema migration; `events` created without `bid`, which a
later migration appends with ALTER TABLE. Medama inserts one row per hit with a NULL duration, sets the
duration with `UPDATE … WHERE bid = ?` when the unload beacon arrives, and writes custom events whose `bid`
is '' when they are not tied to a page view.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import duckdb
import pytest

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.analytics_file import create_analytics_schema
from tests.stats.dataset import generate, insert_events, insert_views
from tests.stats.harness import ENDPOINTS, run
from tests.stats.test_snapshots import FILTERS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.stats.dataset import Event, View

SITE = "shop.example.org"

# Typed from Medama's documented schema rather than taken from our own DDL, so a drift in either shows up here.
MEDAMA_VIEWS = """CREATE TABLE views (bid TEXT, hostname TEXT NOT NULL, pathname TEXT NOT NULL,
    is_unique_user BOOLEAN NOT NULL, is_unique_page BOOLEAN NOT NULL, referrer_host TEXT, referrer_group TEXT,
    country TEXT, language_base TEXT, language_dialect TEXT, ua_browser TEXT NOT NULL, ua_os TEXT NOT NULL,
    ua_device_type TEXT NOT NULL, utm_source TEXT, utm_medium TEXT, utm_campaign TEXT, duration_ms UINTEGER,
    date_created TIMESTAMPTZ NOT NULL)"""
MEDAMA_EVENTS = """CREATE TABLE events (batch_id TEXT NOT NULL, group_name TEXT NOT NULL, name TEXT NOT NULL,
    value TEXT NOT NULL, date_created TIMESTAMPTZ NOT NULL)"""
MEDAMA_EVENTS_BID = "ALTER TABLE events ADD COLUMN bid TEXT"


def _rows() -> tuple[list[View], list[Event]]:
    views, events = generate()
    mine = [v for v in views if v.hostname == SITE][:1000]
    bids = {v.bid for v in mine}
    tied = [e for e in events if e.bid in bids]
    # Custom events without a beacon id: stored with bid '' and never joined to a view.
    loose = [dataclasses.replace(e, bid="", batch_id=e.batch_id + "-loose") for e in tied[:20]]
    return mine, tied + loose


def _write_like_medama(path: Path, views: list[View], events: list[Event]) -> None:
    conn = duckdb.connect(str(path))
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(MEDAMA_VIEWS)
    conn.execute(MEDAMA_EVENTS)
    conn.execute(MEDAMA_EVENTS_BID)
    # Medama commits each hit on its own; one transaction here only saves the test a thousand fsyncs.
    conn.execute("BEGIN")
    columns = [f.name for f in dataclasses.fields(views[0]) if f.name != "duration_ms"]
    insert = f"INSERT INTO views ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    for view in views:
        conn.execute(insert, [getattr(view, c) for c in columns])
        for event in (e for e in events if e.bid == view.bid):
            conn.execute(
                "INSERT INTO events (batch_id, group_name, name, value, date_created, bid) VALUES (?, ?, ?, ?, ?, ?)",
                [event.batch_id, event.group_name, event.name, event.value, event.date_created, event.bid],
            )
    for view in views:
        if view.duration_ms is not None:
            conn.execute("UPDATE views SET duration_ms = ? WHERE bid = ?", [view.duration_ms, view.bid])
    for event in (e for e in events if not e.bid):
        conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", dataclasses.astuple(event))
    conn.execute("COMMIT")
    conn.close()


@pytest.fixture(scope="module")
def both(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]]:
    views, events = _rows()
    folder = tmp_path_factory.mktemp("medama-file")
    _write_like_medama(folder / "medama.db", views, events)
    ours = duckdb.connect(str(folder / "ours.db"))
    create_analytics_schema(ours)
    insert_views(ours, views)
    insert_events(ours, events)
    ours.close()
    # Open the Medama file the way the server does (schema check included), then read it.
    store = AnalyticsStore(str(folder / "medama.db"))
    store.open()
    medama = store.cursor()
    mine = duckdb.connect(str(folder / "ours.db"), read_only=True)
    mine.execute("LOAD icu")
    mine.execute("SET TimeZone = 'UTC'")
    yield medama, mine
    mine.close()
    medama.close()
    store.close()


@pytest.mark.parametrize("query", [FILTERS[n] for n in ("all", "march", "referrer_neq_group", "prop_name_value")])
def test_same_answers(both: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection], query: str) -> None:
    medama, ours = both
    for endpoint in ENDPOINTS:
        assert run(medama, endpoint, query, SITE) == run(ours, endpoint, query, SITE), endpoint
    assert run(medama, "summary", "interval=month&start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z", SITE)


def test_opening_leaves_rows_as_stored(both: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]) -> None:
    medama, ours = both
    digest = "SELECT count(*), sum(hash(bid, referrer_group, duration_ms, date_created)) FROM views"
    assert medama.execute(digest).fetchall() == ours.execute(digest).fetchall()
    columns = "SELECT column_name FROM duckdb_columns() WHERE table_name = 'events' ORDER BY column_index"
    assert [r[0] for r in medama.execute(columns).fetchall()] == [
        "batch_id", "group_name", "name", "value", "date_created", "bid"
    ]  # fmt: skip
