"""List rows of recent hours: every list's counts per UTC hour of the last few days (docs/stats.md#rollups).

The lists (paths, referrers, countries ...) are rolled up per day (storage/rollup_days.py), so a period's whole UTC
days read a few rows per label, but its other hours were read raw: the dashboard's "today" starts at the browser's
local midnight, which is not a UTC one in most places, so every list of it read every view of the day. Per hour the
lists keep up to ~24 times the day's rows (more where the labels vary from hour to hour), so they are kept only for
the hours of the last `RECENT_DAYS` days, where the periods people ask for begin and end: a build writes them for
its hours from that horizon on, and the maintenance job drops older ones once a day.

`rollup_hour_lists` names the hours that have list rows, with the version of the build that wrote them (the same
as the hour's `rollup_built` version), so readers use them under the same rule as the hourly rows
(storage/rollups.Rollups.usable).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from medama_py.storage.rollup_days import ListCounts, count_lists, write_lists

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "HOUR_LIST_TABLES",
    "RECENT_DAYS",
    "count_hour_lists",
    "create_hour_list_tables",
    "drop_hour_lists_before",
    "write_hour_lists",
]

# "Today", "yesterday", "the last 24 hours" and a week's partial days at either end.
RECENT_DAYS: Final = 9
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR: Final = timedelta(hours=1)
_HOUR_US: Final = 3_600_000_000
HOUR_LIST_TABLES: Final = ("rollup_hour_groups", "rollup_hour_bins", "rollup_hour_lists")
_CREATE: Final = (
    # rollup_day_groups and rollup_day_bins (storage/rollup_days.py) per hour instead of per day.
    """CREATE TABLE rollup_hour_groups (report TEXT NOT NULL, hostname TEXT NOT NULL, hour INTEGER NOT NULL,
       label TEXT NOT NULL, visitors BIGINT NOT NULL, page_visitors BIGINT, pageviews BIGINT, timings HUGEINT,
       durations BIGINT, total_duration HUGEINT, zeros BIGINT, least UINTEGER)""",
    """CREATE TABLE rollup_hour_bins (report TEXT NOT NULL, hostname TEXT NOT NULL, hour INTEGER NOT NULL,
       label TEXT NOT NULL, bin INTEGER, durations BIGINT NOT NULL, visitors BIGINT NOT NULL,
       timings HUGEINT NOT NULL)""",
    "CREATE TABLE rollup_hour_lists (hostname TEXT NOT NULL, hour INTEGER NOT NULL, version BIGINT NOT NULL)",
)
_LISTED: Final = (
    "INSERT INTO rollup_hour_lists SELECT $hostname, range::INTEGER, $version FROM range($first, $last + 1)"
)


def create_hour_list_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the tables (the caller dropped every rollup table first)."""
    for statement in _CREATE:
        conn.execute(statement)


def count_hour_lists(
    cur: duckdb.DuckDBPyConnection, hostname: str, first: int, last: int
) -> tuple[int, ListCounts] | None:
    """(first hour, counts): the lists of hours [first, last] per hour, from the views; None for no hours."""
    if first > last:
        return None
    return first, count_lists(cur, hostname, _EPOCH + first * _HOUR, _EPOCH + (last + 1) * _HOUR, _HOUR_US)


def write_hour_lists(
    cur: duckdb.DuckDBPyConnection,
    hostname: str,
    first: int,
    last: int,
    version: int,
    counted: tuple[int, ListCounts] | None,
) -> None:
    """Replace the list rows of hours [first, last] with `counted` (from its first hour on), in the install."""
    span = {"hostname": hostname, "first": first, "last": last}
    for table in HOUR_LIST_TABLES:
        cur.execute(f"DELETE FROM {table} WHERE hostname = $hostname AND hour BETWEEN $first AND $last", span)  # noqa: S608 (table names are code)
    if counted is None:
        return
    listed, counts = counted
    write_lists(cur, "hour", hostname, listed, last, counts)
    cur.execute(_LISTED, {**span, "first": listed, "version": version})


def drop_hour_lists_before(cur: duckdb.DuckDBPyConnection, hour: int) -> None:
    """Drop every website's list rows of the hours before `hour`, in one transaction (the maintenance job)."""
    cur.begin()
    try:
        for table in HOUR_LIST_TABLES:
            cur.execute(f"DELETE FROM {table} WHERE hour < $hour", {"hour": hour})  # noqa: S608 (table names are code)
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
