"""A period split into whole UTC hours read from the rollups and the rest read raw (docs/stats.md#rollups).

Only a period with both bounds and no field filters can use the rollups, which hold every view of a site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from medama_py.storage.rollups import HOUR, hour_of, hour_start, runs

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Params
    from medama_py.storage.rollups import Rollups

__all__ = ["ROLLUP_EPOCH_US", "Split", "split_period"]

_MICROSECOND: Final = timedelta(microseconds=1)
# A rollup row's instant for bucketing: its hour's start, in microseconds since 1970.
ROLLUP_EPOCH_US: Final = "(r.hour::BIGINT * 3600000000)"


@dataclass(frozen=True, slots=True)
class Split:
    """The hours read from `rollup_hours`, and the raw ranges [start, stop) covering the rest of the period."""

    hostname: str
    hours: list[tuple[int, int]]
    raw: list[tuple[datetime, datetime]]
    end: datetime  # the period's inclusive end: the last raw range, if it ends there, includes it

    def hours_where(self, params: Params) -> str:
        """WHERE body over `rollup_hours AS r`."""
        spans = " OR ".join(f"r.hour BETWEEN {params.bind(a)} AND {params.bind(b)}" for a, b in self.hours)
        return f"r.hostname = {params.bind(self.hostname)} AND ({spans})"

    def raw_where(self, params: Params) -> str | None:
        """WHERE body over `views AS v` for the raw ranges; None when the rollups cover the whole period."""
        if not self.raw:
            return None
        ranges = []
        for start, stop in self.raw:
            upper = "<=" if stop == self.end else "<"
            ranges.append(f"(v.date_created >= {params.bind(start)} AND v.date_created {upper} {params.bind(stop)})")
        return f"v.hostname = {params.bind(self.hostname)} AND ({' OR '.join(ranges)})"


def split_period(cur: duckdb.DuckDBPyConnection, rollups: Rollups | None, filters: Filters) -> Split | None:
    """The split of `filters`' period, or None when the rollups cannot serve any of it."""
    start, end = filters.start, filters.end
    if rollups is None or filters.conditions or start is None or end is None or start > end:
        return None
    first = hour_of(start) if hour_start(hour_of(start)) == start else hour_of(start) + 1
    # The last hour that ends inside the period: its last microsecond is at most `end`.
    last = hour_of(end + _MICROSECOND) - 1
    usable = rollups.usable_hours(cur, filters.hostname, first, last)
    if not usable:
        return None
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
