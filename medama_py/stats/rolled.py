"""A period split into whole UTC days and hours read from the rollups and the rest read raw (docs/stats.md#rollups).

Only a period with both bounds and no field filters can use the rollups, which hold every view of a site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from medama_py.storage.rollup_blocks import days_of
from medama_py.storage.rollup_days import hours_of
from medama_py.storage.rollups import HOUR, hour_of, hour_start, runs

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Params
    from medama_py.storage.rollups import Rollups

__all__ = [
    "ROLLUP_DAY_EPOCH_US",
    "ROLLUP_EPOCH_US",
    "PropSplit",
    "Split",
    "block_runs",
    "block_where",
    "split_blocks",
    "split_period",
    "split_properties",
]

_MICROSECOND: Final = timedelta(microseconds=1)
# A rollup row's instant for bucketing: its hour's start, in microseconds since 1970.
ROLLUP_EPOCH_US: Final = "(r.hour::BIGINT * 3600000000)"
ROLLUP_DAY_EPOCH_US: Final = "(r.day::BIGINT * 86400000000)"


@dataclass(frozen=True, slots=True)
class Split:
    """The days and hours read from the rollups, and the raw ranges [start, stop) covering the rest of the period."""

    hostname: str
    hours: list[tuple[int, int]]  # runs of hours read from the hourly rows (none inside `days`)
    raw: list[tuple[datetime, datetime]]
    end: datetime  # the period's inclusive end: the last raw range, if it ends there, includes it
    days: list[tuple[int, int]] = field(default_factory=list)  # runs of days read from the day rows

    def hours_where(self, params: Params) -> str:
        """WHERE body over `rollup_hours AS r` (or any table with `r.hostname` and `r.hour`)."""
        return self.runs_where(params, "r.hour", self.hours)

    def days_where(self, params: Params) -> str:
        """WHERE body over `rollup_day_cells AS r` (or any table with `r.hostname` and `r.day`)."""
        return self.runs_where(params, "r.day", self.days)

    def runs_where(self, params: Params, column: str, spans: list[tuple[int, int]]) -> str:
        """WHERE body over a rollup table `r` of this site: `column` in one of the (first, last) `spans`."""
        between = " OR ".join(f"{column} BETWEEN {params.bind(a)} AND {params.bind(b)}" for a, b in spans)
        return f"r.hostname = {params.bind(self.hostname)} AND ({between or 'false'})"

    def raw_where(self, params: Params, period_column: str = "v.date_created") -> str | None:
        """WHERE body over `views AS v` for the raw ranges of `period_column`; None when the rollups cover all."""
        if not self.raw:
            return None
        ranges = []
        for start, stop in self.raw:
            upper = "<=" if stop == self.end else "<"
            ranges.append(f"({period_column} >= {params.bind(start)} AND {period_column} {upper} {params.bind(stop)})")
        return f"v.hostname = {params.bind(self.hostname)} AND ({' OR '.join(ranges)})"


def split_period(
    cur: duckdb.DuckDBPyConnection,
    rollups: Rollups | None,
    filters: Filters,
    *,
    days: bool = True,
    lists: bool = False,
) -> Split | None:
    """The split of `filters`' period, or None when the rollups cannot serve any of it.

    With `days`, whole days come from the day rows where they are usable; without, every hour from the hourly rows.
    With `lists` (a list report), the hours outside the usable days are those with list rows of recent hours
    (storage/rollup_hour_lists.py); the others are read raw.
    """
    start, end = filters.start, filters.end
    if rollups is None or filters.conditions or start is None or end is None or start > end:
        return None
    first = hour_of(start) if hour_start(hour_of(start)) == start else hour_of(start) + 1
    # The last hour that ends inside the period: its last microsecond is at most `end`.
    last = hour_of(end + _MICROSECOND) - 1
    if days:
        usable_days, usable = rollups.usable(cur, filters.hostname, first, last, lists=lists)
    else:
        usable_days, usable = [], rollups.usable_hours(cur, filters.hostname, first, last)
    if not usable and not usable_days:
        return None
    day_hours = (hour for day in usable_days for hour in hours_of(day))
    covered = sorted([*usable, *day_hours])
    split = _split(filters, covered, start, end)
    return Split(split.hostname, runs(usable), split.raw, end, runs(usable_days))


def split_blocks(
    cur: duckdb.DuckDBPyConnection, rollups: Rollups, split: Split
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(blocks, days): the (size, block) block rows that serve whole blocks of `split`'s days, and runs of the rest.

    Block rows sum the day bins of their days (storage/rollup_blocks.py), so either gives the same numbers.
    """
    days = [day for first, last in split.days for day in range(first, last + 1)]
    blocks = rollups.usable_blocks(cur, split.hostname, days)
    covered = {day for size, block in blocks for day in days_of(size, block)}
    return blocks, runs(day for day in days if day not in covered)


def block_where(hostname: str, size: int, first: int, last: int, params: Params) -> str:
    """WHERE body over a block table `r`: blocks first..last of `size` days of `hostname` (by their first days)."""
    blocks = f"r.day BETWEEN {params.bind(first * size)} AND {params.bind(last * size)}"
    return f"r.hostname = {params.bind(hostname)} AND r.size = {params.bind(size)} AND {blocks}"


def block_runs(blocks: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The (size, block) `blocks` as (size, first, last) runs of consecutive blocks of one size.

    Each run is read with its own conjunctive WHERE, which DuckDB's zone maps prune to the row groups holding it;
    one WHERE ORing every run scanned the whole table.
    """
    by_size: dict[int, list[int]] = {}
    for size, block in sorted(blocks):
        by_size.setdefault(size, []).append(block)
    return [(size, first, last) for size, numbers in by_size.items() for first, last in runs(numbers)]


@dataclass(frozen=True, slots=True)
class PropSplit:
    """/properties over the rollups: event hours from `rollup_props`, the other events joined raw.

    The raw events are joined only with the views that can share their bid (stats/properties.py).
    """

    events: Split  # event hours read from the rollups, and the raw ranges of the events
    views: list[tuple[datetime | None, datetime | None]]  # view ranges [start, stop) the raw events may match

    def views_where(self, params: Params) -> str:
        """WHERE body over `views AS v` limiting the raw join to views that may share a raw event's bid."""
        if not self.views:
            return "true"
        ranges = []
        for start, stop in self.views:
            parts = []
            if start is not None:
                parts.append(f"v.date_created >= {params.bind(start)}")
            if stop is not None:
                parts.append(f"v.date_created < {params.bind(stop)}")
            ranges.append("(" + " AND ".join(parts or ["true"]) + ")")
        return "(" + " OR ".join(ranges) + ")"


_FIND_VIEW_HOURS: Final = """
SELECT DISTINCT k.hour FROM rollup_keys AS k JOIN rollup_built AS b ON b.version = k.version AND b.hour = k.hour
WHERE b.hostname = $hostname AND k.key IN (
    SELECT (hash(e.bid) >> 32)::UINTEGER FROM events AS e WHERE e.bid <> '' AND ({events}))
"""


def split_properties(cur: duckdb.DuckDBPyConnection, rollups: Rollups | None, filters: Filters) -> PropSplit | None:
    """The split of /properties' period (over the events' time), or None when it must be read raw.

    The raw events' views are found without reading every view's bid: the view hours whose rollup keys are
    current (`Rollups.usable_hours`) hold a matching view only where a raw event's bid hash is among their keys;
    every other view hour (recent, stale, never built) is read whole.
    """
    start, end = filters.start, filters.end
    if rollups is None or filters.view_conditions or start is None or end is None or start > end:
        return None
    first = hour_of(start) if hour_start(hour_of(start)) == start else hour_of(start) + 1
    last = hour_of(end + _MICROSECOND) - 1
    usable = rollups.props.usable_hours(cur, first, last)
    if not usable:
        return None
    events = _split(filters, usable, start, end)
    if not events.raw:
        return PropSplit(events, [])
    keyed = set(rollups.usable_hours(cur, filters.hostname, 0, 2**31 - 1))
    if keyed:
        params: dict[str, object] = {"hostname": filters.hostname}
        ranges = []
        for n, (a, b) in enumerate(events.raw):
            params[f"a{n}"], params[f"b{n}"] = a, b
            upper = "<=" if b == end else "<"
            ranges.append(f"(e.date_created >= $a{n} AND e.date_created {upper} $b{n})")
        found = cur.execute(_FIND_VIEW_HOURS.format(events=" OR ".join(ranges)), params).fetchall()
        keyed -= {int(row[0]) for row in found}
    views: list[tuple[datetime | None, datetime | None]] = []
    after: datetime | None = None
    for low, high in runs(sorted(keyed)):
        views.append((after, hour_start(low)))
        after = hour_start(high) + HOUR
    if keyed:
        views.append((after, None))
    return PropSplit(events, views)


def _split(filters: Filters, usable: list[int], start: datetime, end: datetime) -> Split:
    hours = runs(usable)
    raw: list[tuple[datetime, datetime]] = []
    cursor = start
    for a, b in hours:
        if hour_start(a) > cursor:
            raw.append((cursor, hour_start(a)))
        cursor = hour_start(b) + HOUR
    if cursor <= end:
        raw.append((cursor, end))
    return Split(filters.hostname, hours, raw, end)
