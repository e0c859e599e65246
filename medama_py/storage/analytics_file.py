"""The analytics file itself: Medama's tables, the format we write, how it is opened, which errors lose it.

Medama's table layout, the storage format and row group size of what we write, the attach that opens the file,
and which DuckDB errors mean DuckDB gave the file up.

storage/analytics.AnalyticsStore owns the open file; bench/, the importer and the tests create the same
schema on files of their own through `create_analytics_schema`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from medama_py.storage.umami_tables import create_umami_tables

__all__ = [
    "ROW_GROUP_ROWS",
    "STORAGE_COMPATIBILITY",
    "VIEWS_COLUMNS",
    "configure_database",
    "create_analytics_schema",
    "invalidated",
    "is_fatal",
    "open_analytics_file",
    "set_up_cursor",
]

# Medama's exact table layout; the column order matters for files shared with the Go server
# (docs/compatibility.md#what-stays-identical).
_CREATE_VIEWS = """
CREATE TABLE IF NOT EXISTS views (
    bid TEXT,
    hostname TEXT NOT NULL,
    pathname TEXT NOT NULL,
    is_unique_user BOOLEAN NOT NULL,
    is_unique_page BOOLEAN NOT NULL,
    referrer_host TEXT,
    referrer_group TEXT,
    country TEXT,
    language_base TEXT,
    language_dialect TEXT,
    ua_browser TEXT NOT NULL,
    ua_os TEXT NOT NULL,
    ua_device_type TEXT NOT NULL,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    duration_ms UINTEGER,
    date_created TIMESTAMPTZ NOT NULL
)"""

_CREATE_EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    batch_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    date_created TIMESTAMPTZ NOT NULL,
    bid TEXT
)"""

VIEWS_COLUMNS: tuple[str, ...] = (
    "bid",
    "hostname",
    "pathname",
    "is_unique_user",
    "is_unique_page",
    "referrer_host",
    "referrer_group",
    "country",
    "language_base",
    "language_dialect",
    "ua_browser",
    "ua_os",
    "ua_device_type",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "duration_ms",
    "date_created",
)

# New files keep DuckDB's 1.0 storage format, which every DuckDB since 1.0 reads, so the Go Medama server
# (built on an older DuckDB) can open what medama_py wrote; newer formats would lock users in. Existing files
# keep whatever format they have.
STORAGE_COMPATIBILITY = "v1.0.0"

# Rows per row group of what the server writes (DuckDB's default is 122,880). Until a group is full, every
# checkpoint compresses all of its rows again, and DuckDB holds them uncompressed until then: with the default the
# soak's RSS rose 50-75 MB above its level about once a minute, while the hit writer checkpointed a nearly full group
# (docs/architecture.md#a-hit, step 8). A quarter of the default (15 vectors of 2,048 rows) bounds both to a
# quarter. Row groups already in a file keep their size; DuckDB 1.0 (the Go Medama server's) reads and appends to a
# file written this way (checked with its Python wheel), as it does any file whose last group is partial.
ROW_GROUP_ROWS = 30_720
# The name the analytics file is attached under; every cursor USEs it.
_CATALOG = "analytics"

# DuckDB invalidates the database instance after a FatalException (and may after an InternalException): the
# store checks, and reopens the file when the instance no longer answers.
_FATAL_ERRORS = (duckdb.FatalException, duckdb.InternalException)
# How DuckDB words it when it gave up an attached file (the instance itself stays usable, so no FatalException).
_INVALIDATED = "has been invalidated"


def invalidated(exc: BaseException) -> bool:
    """Whether DuckDB gave the analytics file up: the store must close it and open it again."""
    return isinstance(exc, duckdb.FatalException) or (isinstance(exc, duckdb.Error) and _INVALIDATED in str(exc))


def is_fatal(exc: BaseException) -> bool:
    """`invalidated`, or an internal error after which DuckDB may have: the store checks whether it still answers."""
    return invalidated(exc) or isinstance(exc, _FATAL_ERRORS)


def open_analytics_file(
    path: str, config: dict[str, str | bool | int | float | list[str]]
) -> duckdb.DuckDBPyConnection:
    """A DuckDB instance with the analytics file attached as `analytics`, whose new row groups hold ROW_GROUP_ROWS.

    DuckDB takes a row group size only when a file is attached, so the instance itself starts in memory. A new file
    gets the storage format of STORAGE_COMPATIBILITY; an existing one keeps its own (DuckDB refuses to lower it).
    """
    if path == ":memory:":
        return duckdb.connect(path, config=config)
    options = [f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}"]
    if not Path(path).exists():
        options.append(f"STORAGE_VERSION '{STORAGE_COMPATIBILITY}'")
    conn = duckdb.connect(":memory:", config=config)
    try:
        conn.execute(f"ATTACH $path AS {_CATALOG} ({', '.join(options)})", {"path": path})
        conn.execute(f"USE {_CATALOG}")
    except BaseException:
        conn.close()
        raise
    return conn


def set_up_cursor(cur: duckdb.DuckDBPyConnection, path: str) -> None:
    # A cursor starts in the instance's own (in-memory) catalog, not where its connection was told to USE.
    if path != ":memory:":
        cur.execute(f"USE {_CATALOG}")
    cur.execute("SET TimeZone = 'UTC'")


def configure_database(conn: duckdb.DuckDBPyConnection) -> None:
    """Instance-wide DuckDB settings for the analytics file (also applied by bench/stats.py to its raw runs)."""
    # DuckDB's build-side heuristic weighs row width as well as estimated rows, and so hashes the bid of every
    # view of the site instead of the far fewer events of the period in the properties join (about 750 → 500 ms
    # CPU at 10M views, bench/stats.py). The join-order optimizer still picks the smaller estimated side.
    # The setting is global to the database instance, and it changes plans, never results.
    conn.execute("SET disabled_optimizers = 'build_side_probe_side'")


def create_analytics_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create `views` and `events` (and the Umami-only tables) when missing; add `events.bid` to old files."""
    conn.execute(_CREATE_VIEWS)
    conn.execute(_CREATE_EVENTS)
    columns = {
        row[0]
        for row in conn.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'events'").fetchall()
    }
    if "bid" not in columns:
        conn.execute("ALTER TABLE events ADD COLUMN bid TEXT")
    create_umami_tables(conn)
