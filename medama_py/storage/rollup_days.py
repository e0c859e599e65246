"""Day rows of the rollups: the hourly cells summed per UTC day, written with the hours (docs/stats.md#rollups).

A year holds 8,784 hours but 366 days, so a long period reads about 24 times fewer cells from the day rows
(the summary's cells and /devices' labels at 10M page views: 3.2M and 4.5M hourly rows, ~0.2M and ~0.6M daily).
A build that covers a whole UTC day writes its day rows in the same transaction as its hours, with the same
version. A day row is used only when each of its 24 hours is current and none was rebuilt after it
(storage/rollups.Rollups.usable): a later rebuild of one hour (after a late write marked it) leaves the day row
out until the maintenance job rebuilds the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from medama_py.storage.view_sums import DAY_BIN_SHIFT, TIMINGS

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "DAY_TABLES",
    "GROUPED_LABELS",
    "HOURS_PER_DAY",
    "PATHS",
    "ListCounts",
    "append",
    "build_days",
    "count_lists",
    "create_day_tables",
    "hours_of",
    "whole_days",
    "write_lists",
]

HOURS_PER_DAY: Final = 24
_DAY_ZERO: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DAY: Final = timedelta(days=1)
_DAY_US: Final = 86_400_000_000
# The (groups, bins) tables of each unit of list rows: the days' here, the recent hours' in
# storage/rollup_hour_lists.py.
_LIST_TABLES: Final = {
    "day": ("rollup_day_groups", "rollup_day_bins"),
    "hour": ("rollup_hour_groups", "rollup_hour_bins"),
}
DAY_TABLES: Final = ("rollup_days", "rollup_day_cells", "rollup_day_labels", "rollup_day_groups", "rollup_day_bins")
# The lists of many labels, counted per day and label (rollup_day_groups): a key -> the label over `views AS v`, as
# stats/reports.py defines it. Per hour they would keep about as many rows as views; per day, at 10M page views a
# year: 1.7M (day, path) rows, 168k referrer rows, under 40k for the others. Paths keep every count (/pages and
# /time read them); the others their visitors (their summary variant) and, per duration bin, what their full
# variant sums (rollup_day_bins, and per block of days storage/rollup_blocks.py).
PATHS: Final = "paths"
GROUPED_LABELS: Final = {
    PATHS: "v.pathname",
    "referrers": "CASE WHEN v.referrer_group <> '' THEN v.referrer_group ELSE coalesce(v.referrer_host, '') END",
    "referrer_hosts": "coalesce(v.referrer_host, '')",
    "sources": "coalesce(v.utm_source, '')",
    "mediums": "coalesce(v.utm_medium, '')",
    "campaigns": "coalesce(v.utm_campaign, '')",
    "browsers": "coalesce(v.ua_browser, '')",
    "os": "coalesce(v.ua_os, '')",
    "countries": "coalesce(v.country, '')",
    "languages": "coalesce(v.language_base, '')",
    "dialects": "coalesce(v.language_dialect, '')",
}
_CREATE: Final = (
    # Every day written, with the version of the build that wrote it.
    "CREATE TABLE rollup_days (hostname TEXT NOT NULL, day INTEGER NOT NULL, version BIGINT NOT NULL)",
    # rollup_hours and rollup_labels (storage/rollups.py) per day instead of per hour.
    """CREATE TABLE rollup_day_cells (hostname TEXT NOT NULL, day INTEGER NOT NULL, bin INTEGER,
       durations BIGINT NOT NULL, visitors BIGINT NOT NULL, pageviews BIGINT NOT NULL, timings HUGEINT NOT NULL)""",
    """CREATE TABLE rollup_day_labels (report TEXT NOT NULL, hostname TEXT NOT NULL, day INTEGER NOT NULL,
       label TEXT NOT NULL, bin INTEGER, durations BIGINT NOT NULL, visitors BIGINT NOT NULL,
       timings HUGEINT NOT NULL)""",
    # Per label: the counts of stats/query.py, and what /time needs of the durations (count, sum, zeros, least > 0).
    """CREATE TABLE rollup_day_groups (report TEXT NOT NULL, hostname TEXT NOT NULL, day INTEGER NOT NULL,
       label TEXT NOT NULL, visitors BIGINT NOT NULL, page_visitors BIGINT, pageviews BIGINT, timings HUGEINT,
       durations BIGINT, total_duration HUGEINT, zeros BIGINT, least UINTEGER)""",
    # The lists other than paths per label and duration bin of DAY_BIN_SHIFT (NULL for views without a duration).
    """CREATE TABLE rollup_day_bins (report TEXT NOT NULL, hostname TEXT NOT NULL, day INTEGER NOT NULL,
       label TEXT NOT NULL, bin INTEGER, durations BIGINT NOT NULL, visitors BIGINT NOT NULL,
       timings HUGEINT NOT NULL)""",
)
# The metrics of stats/query.py (VISITORS, PAGE_VISITORS, PAGEVIEWS, TIMINGS) and stats/grouped.py, per unit (a
# day here, an hour in storage/rollup_hour_lists.py) and label; tests/stats/test_rollups.py proves the rollup path
# equal to the raw one.
_GROUPS: Final = f"""
SELECT $report, v.hostname, (epoch_us(v.date_created) // $unit_us)::INTEGER AS unit, {{label}} AS label,
       count_if(v.is_unique_user), count_if(v.is_unique_page), count(*), {TIMINGS},
       count(v.duration_ms), sum(v.duration_ms), count_if(v.duration_ms = 0),
       min(v.duration_ms) FILTER (WHERE v.duration_ms > 0)
FROM views AS v
WHERE v.hostname = $hostname AND v.date_created >= $start AND v.date_created < $stop
GROUP BY v.hostname, unit, label
"""  # noqa: S608 (only code: the metric and the label SQL)
# The other lists per unit, label and duration bin (DAY_BIN_SHIFT): what their full variant sums (visitors, bounce
# counts, and the histogram that finds each listed label's median, stats/dimensions.py).
_BINS: Final = f"""
SELECT $report, v.hostname, (epoch_us(v.date_created) // $unit_us)::INTEGER AS unit, {{label}} AS label,
       (v.duration_ms >> {DAY_BIN_SHIFT})::INTEGER AS bin, count(v.duration_ms), count_if(v.is_unique_user), {TIMINGS}
FROM views AS v
WHERE v.hostname = $hostname AND v.date_created >= $start AND v.date_created < $stop
GROUP BY v.hostname, unit, label, bin
"""  # noqa: S608 (only code: the metric and the label SQL)
# Their visitors per unit and label (all the summary variant reads), summed from those bins rather than read from
# the views again.
_VISITORS: Final = """
INSERT INTO {groups} (report, hostname, {unit}, label, visitors)
SELECT report, hostname, {unit}, label, sum(visitors) FROM {bins}
WHERE hostname = $hostname AND {unit} BETWEEN $first AND $last
GROUP BY report, hostname, {unit}, label
"""
# Summed from the hour rows just written in the same transaction: the same sums as from the views.
_CELLS: Final = """
INSERT INTO rollup_day_cells
SELECT hostname, hour // 24, bin, sum(durations), sum(visitors), sum(pageviews), sum(timings)
FROM rollup_hours WHERE hostname = $hostname AND hour BETWEEN $first AND $last
GROUP BY hostname, hour // 24, bin
"""
_LABELS: Final = """
INSERT INTO rollup_day_labels
SELECT report, hostname, hour // 24, label, bin, sum(durations), sum(visitors), sum(timings)
FROM rollup_labels WHERE hostname = $hostname AND hour BETWEEN $first AND $last
GROUP BY report, hostname, hour // 24, label, bin
"""
_DAYS: Final = "INSERT INTO rollup_days SELECT $hostname, range::INTEGER, $version FROM range($first, $last + 1)"


def create_day_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the day tables (the caller dropped every rollup table first)."""
    for statement in _CREATE:
        conn.execute(statement)


def hours_of(day: int) -> range:
    """The 24 hour numbers of UTC day number `day`."""
    return range(day * HOURS_PER_DAY, (day + 1) * HOURS_PER_DAY)


def whole_days(first: int, last: int) -> tuple[int, int]:
    """(first, last) day numbers of the UTC days whose every hour lies in hours [first, last]; first > last if none."""
    return -(-first // HOURS_PER_DAY), (last + 1) // HOURS_PER_DAY - 1


@dataclass(slots=True)
class ListCounts:
    """The lists of a stretch of hours counted from the views (on a reader): `groups` and `bins` rows."""

    groups: list[Any]
    bins: list[Any]


def count_lists(
    cur: duckdb.DuckDBPyConnection, hostname: str, start: datetime, stop: datetime, unit_us: int
) -> ListCounts:
    """Every list's counts of the views in [start, stop), per unit of `unit_us` microseconds, fetched."""
    params = {"hostname": hostname, "start": start, "stop": stop, "unit_us": unit_us}
    return ListCounts(cur.execute(_GROUPS_OF_VIEWS, params).fetchall(), cur.execute(_BINS_OF_VIEWS, params).fetchall())


def write_lists(
    cur: duckdb.DuckDBPyConnection, unit: str, hostname: str, first: int, last: int, counts: ListCounts
) -> None:
    """Append `count_lists`' rows of units [first, last] to the `unit` ("day" or "hour") tables, and the visitors."""
    groups, bins = _LIST_TABLES[unit]
    append(cur, groups, counts.groups)
    append(cur, bins, counts.bins)
    span = {"hostname": hostname, "first": first, "last": last}
    cur.execute(_VISITORS.format(groups=groups, bins=bins, unit=unit), span)


def _list_statements() -> tuple[str, str]:
    """The SELECTs of the paths' groups, and of every other list's bins in one statement (one plan, not ten)."""

    def named(statement: str, report: str) -> str:
        return statement.replace("$report", f"'{report}'")  # a report name is code

    bins = (named(_BINS.format(label=label), report) for report, label in GROUPED_LABELS.items() if report != PATHS)
    return named(_GROUPS.format(label=GROUPED_LABELS[PATHS]), PATHS), "\nUNION ALL\n".join(bins)


_GROUPS_OF_VIEWS, _BINS_OF_VIEWS = _list_statements()


def build_days(cur: duckdb.DuckDBPyConnection, hostname: str, first: int, last: int, version: int) -> None:
    """Write the day rows of the whole days in hours [first, last], inside the build's install transaction.

    The hour rows of those hours must already be written by this transaction. The lists are counted from the views
    here, inside DuckDB: a month of a big site's day lists is hundreds of thousands of rows, too many to fetch.
    """
    first_day, last_day = whole_days(first, last)
    if first_day > last_day:
        return
    span = {"hostname": hostname, "first": first_day, "last": last_day}
    for table in DAY_TABLES:
        cur.execute(f"DELETE FROM {table} WHERE hostname = $hostname AND day BETWEEN $first AND $last", span)  # noqa: S608 (table names are code)
    hours = {"hostname": hostname, "first": first_day * HOURS_PER_DAY, "last": (last_day + 1) * HOURS_PER_DAY - 1}
    cur.execute(_CELLS, hours)
    cur.execute(_LABELS, hours)
    stretch = {"hostname": hostname, "start": _DAY_ZERO + first_day * _DAY, "stop": _DAY_ZERO + (last_day + 1) * _DAY}
    groups, bins = _LIST_TABLES["day"]
    cur.execute(f"INSERT INTO {groups} {_GROUPS_OF_VIEWS}", {**stretch, "unit_us": _DAY_US})
    cur.execute(f"INSERT INTO {bins} {_BINS_OF_VIEWS}", {**stretch, "unit_us": _DAY_US})
    cur.execute(_VISITORS.format(groups=groups, bins=bins, unit="day"), span)
    cur.execute(_DAYS, {**span, "version": version})


def append(cur: duckdb.DuckDBPyConnection, table: str, rows: list[Any]) -> None:
    """Append `rows`, in the table's column order, inside the cursor's transaction."""
    if rows:
        appender = cur.appender(table)
        appender.append_rows(rows)
        appender.flush()
