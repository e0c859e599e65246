"""Interval buckets of the summary series (docs/stats.md#summary).

minute/hour/day/week buckets are anchored at `start` (not at midnight); month buckets are calendar
months in UTC, so the first can begin before `start`. Every bucket from the first through the one
holding `end` is listed, empty ones zero-filled by the caller.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from medama_py.stats.query import Params

__all__ = [
    "INTERVALS",
    "bucket_count",
    "bucket_index_sql",
    "bucket_starts",
    "format_date",
    "whole_days",
    "whole_hours",
]

_STEPS: Final = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
}
INTERVALS: Final = (*_STEPS, "month")
_MICROSECOND: Final = timedelta(microseconds=1)


def _month_number(moment: datetime) -> int:
    utc = moment.astimezone(UTC)
    return utc.year * 12 + utc.month - 1


def bucket_count(interval: str, start: datetime, end: datetime) -> int:
    """Number of buckets in the series from `start` to `end` (0 when start > end)."""
    if start > end:
        return 0
    if interval == "month":
        return _month_number(end) - _month_number(start) + 1
    return (end - start) // _STEPS[interval] + 1


def bucket_starts(interval: str, start: datetime, end: datetime) -> list[datetime]:
    """The start instant (UTC) of every bucket, ascending."""
    count = bucket_count(interval, start, end)
    if interval == "month":
        first = _month_number(start)
        return [datetime((first + k) // 12, (first + k) % 12 + 1, 1, tzinfo=UTC) for k in range(count)]
    step = _STEPS[interval]
    utc = start.astimezone(UTC)
    return [utc + step * k for k in range(count)]


def bucket_index_sql(interval: str, start: datetime, params: Params, epoch_us: str = "epoch_us(v.date_created)") -> str:
    """SQL giving each row's bucket number, counted from 0 in the order of `bucket_starts`.

    `epoch_us` is the SQL of the row's instant in microseconds since 1970 (a rollup hour's start, for one).
    """
    if interval == "month":
        # Calendar months in UTC. The row's instant becomes a plain TIMESTAMP through its epoch:
        # year()/month() of a TIMESTAMPTZ would go through ICU time zones, over ten times slower.
        first = params.bind(_month_number(start))
        utc = f"make_timestamp({epoch_us})"
        return f"(year({utc}) * 12 + month({utc}) - 1 - {first})"
    origin = params.bind((start.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // _MICROSECOND)
    step = params.bind(_STEPS[interval] // _MICROSECOND)
    # Rows are already bounded by start, so the difference is never negative and // is a floor.
    return f"(({epoch_us} - {origin}) // {step})"


def whole_hours(interval: str, start: datetime) -> bool:
    """Whether every UTC hour after `start` falls in one bucket (so hourly rollups can be bucketed)."""
    return _whole_units(interval, start, timedelta(hours=1))


def whole_days(interval: str, start: datetime) -> bool:
    """Whether every UTC day after `start` falls in one bucket (so daily rollups can be bucketed)."""
    return _whole_units(interval, start, timedelta(days=1))


def _whole_units(interval: str, start: datetime, unit: timedelta) -> bool:
    # A month bucket always holds whole UTC hours and days; a fixed step must be a multiple of the unit and
    # start on a unit boundary.
    if interval == "month":
        return True
    step = _STEPS[interval]
    since_epoch = start.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return step % unit == timedelta(0) and since_epoch % unit == timedelta(0)


def format_date(moment: datetime) -> str:
    """Render a bucket start as DuckDB renders a TIMESTAMPTZ in a UTC session: `2024-06-22 08:00:00+00`."""
    utc = moment.astimezone(UTC)
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} {utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "+00"
