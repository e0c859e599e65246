"""List rows of recent hours: every list's counts per UTC hour of the last few days (docs/stats.md#rollups).

The lists (paths, referrers, countries ...) are rolled up per day (storage/rollup_days.py), so a period's whole UTC
days read a few rows per label, but its other hours were read raw: the dashboard's "today" starts at the browser's
local midnight, which is not a UTC one in most places, so every list of it read every view of the day. Per hour the
lists keep up to ~24 times the day's rows (more where the labels vary from hour to hour), so they are kept only for
the hours of the last `RECENT_DAYS` days, where the periods people ask for begin and end, and the maintenance job
drops older ones once a day.

A build's install clears the list rows of its hours; then each of its hours from that horizon on is counted on a
reader and installed on the writer thread one at a time (a hour's rows at most are fetched into Python), with the
build's version. `rollup_hour_lists` names the hours that have list rows, so readers use them only with the hour's
own build (storage/rollups.Rollups.usable): every write after the build's version marks the hour, so an hour
still current was the same in every snapshot its counts came from.
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
    "clear_hour_lists",
    "count_hour_lists",
    "create_hour_list_tables",
    "drop_hour_lists_before",
    "install_hour_lists",
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
_LISTED: Final = "INSERT INTO rollup_hour_lists VALUES ($hostname, $hour, $version)"


def create_hour_list_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the tables (the caller dropped every rollup table first)."""
    for statement in _CREATE:
        conn.execute(statement)


def clear_hour_lists(cur: duckdb.DuckDBPyConnection, hostname: str, first: int, last: int) -> None:
    """Drop the list rows of hours [first, last] of `hostname` (inside a build's install)."""
    span = {"hostname": hostname, "first": first, "last": last}
    for table in HOUR_LIST_TABLES:
        cur.execute(f"DELETE FROM {table} WHERE hostname = $hostname AND hour BETWEEN $first AND $last", span)  # noqa: S608 (table names are code)


def count_hour_lists(cur: duckdb.DuckDBPyConnection, hostname: str, hour: int) -> ListCounts:
    """The lists of one hour of `hostname`, from the views (on a reader)."""
    return count_lists(cur, hostname, _EPOCH + hour * _HOUR, _EPOCH + (hour + 1) * _HOUR, _HOUR_US)


def install_hour_lists(
    cur: duckdb.DuckDBPyConnection, hostname: str, hour: int, version: int, counts: ListCounts
) -> None:
    """Write one hour's list rows in their own transaction, unless a build other than `version`'s holds the hour now.

    An hour without views gets none.
    """
    cur.begin()
    try:
        key = {"hostname": hostname, "hour": hour}
        built = cur.execute("SELECT version FROM rollup_built WHERE hostname = $hostname AND hour = $hour", key)
        # An hour without views gets no list rows, so a period of empty closed hours and a busy open one is read
        # raw in one pass, not as rollups plus a raw rest (whose medians take a second pass over the views).
        if built.fetchall() == [(version,)] and counts.groups:
            write_lists(cur, "hour", hostname, hour, hour, counts)
            cur.execute(_LISTED, {**key, "version": version})
        cur.commit()
    except BaseException:
        cur.rollback()
        raise


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
