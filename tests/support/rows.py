"""The one factory for stored rows: `make_view(**overrides)` and the `views` / `events` inserts.

Every test that needs rows in an analytics file builds them here: the stats suite's hand-made cases and
seeded dataset, the API tests' seeded data directories, and the writer's tests (`make_view_row`: the same
view as ingestion hands it to the writer). Hits that go through ingestion are built as request bodies
instead (tests/support/hits.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from medama_py.model import ViewRow

if TYPE_CHECKING:
    import duckdb

__all__ = ["Event", "View", "count_views", "insert_events", "insert_views", "make_view", "make_view_row"]


@dataclass(slots=True)
class View:
    bid: str
    hostname: str
    pathname: str
    is_unique_user: bool
    is_unique_page: bool
    referrer_host: str | None
    referrer_group: str | None
    country: str | None
    language_base: str | None
    language_dialect: str | None
    ua_browser: str
    ua_os: str
    ua_device_type: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    duration_ms: int | None
    date_created: datetime


@dataclass(slots=True)
class Event:
    batch_id: str
    group_name: str
    name: str
    value: str
    date_created: datetime
    bid: str | None


_VIEW_TYPES = {
    "is_unique_user": pa.bool_(),
    "is_unique_page": pa.bool_(),
    "duration_ms": pa.uint32(),
    "date_created": pa.timestamp("us", tz="UTC"),
}


def make_view(**overrides: object) -> View:
    """A plain first visit to example.com/ at noon on 2024-06-01, changed by `overrides`."""
    base = View(
        bid="b0",
        hostname="example.com",
        pathname="/",
        is_unique_user=True,
        is_unique_page=True,
        referrer_host="",
        referrer_group="",
        country="United Kingdom",
        language_base="English",
        language_dialect="British English",
        ua_browser="Chrome",
        ua_os="Windows",
        ua_device_type="Desktop",
        utm_source="",
        utm_medium="",
        utm_campaign="",
        duration_ms=None,
        date_created=datetime(2024, 6, 1, 12, tzinfo=UTC),
    )
    values = asdict(base) | overrides
    return View(**values)


def make_view_row(**overrides: object) -> ViewRow:
    """`make_view(**overrides)` as ingestion hands it to the writer: a `ViewRow`, which has no duration yet."""
    if "duration_ms" in overrides:
        raise TypeError("a ViewRow has no duration: the writer sets it from an unload")
    view = make_view(**overrides)
    values: dict[str, Any] = {f.name: getattr(view, f.name) for f in fields(ViewRow)}
    return ViewRow(**values)


def insert_views(conn: duckdb.DuckDBPyConnection, views: list[View]) -> None:
    """Append rows to `views` in one statement (through Arrow, as a batch writer would)."""
    columns = [f.name for f in fields(View)]
    arrays = {c: pa.array([getattr(v, c) for v in views], type=_VIEW_TYPES.get(c, pa.string())) for c in columns}
    table = pa.table(arrays)
    conn.register("new_views", table)
    conn.execute(f"INSERT INTO views ({', '.join(columns)}) SELECT {', '.join(columns)} FROM new_views")  # noqa: S608 (column names from the dataclass)
    conn.unregister("new_views")


def insert_events(conn: duckdb.DuckDBPyConnection, events: list[Event]) -> None:
    """Append rows to `events` in one statement."""
    columns = [f.name for f in fields(Event)]
    types = {"date_created": pa.timestamp("us", tz="UTC")}
    table = pa.table({c: pa.array([getattr(e, c) for e in events], type=types.get(c, pa.string())) for c in columns})
    conn.register("new_events", table)
    conn.execute(f"INSERT INTO events ({', '.join(columns)}) SELECT {', '.join(columns)} FROM new_events")  # noqa: S608 (column names from the dataclass)
    conn.unregister("new_events")


def count_views(cur: duckdb.DuckDBPyConnection) -> int:
    """The number of stored page views (a read's function: `store.read(count_views)`)."""
    row = cur.execute("SELECT count(*) FROM views").fetchone()
    return int(row[0]) if row else 0
