"""Time buckets of the Umami series in any time zone, without per-row time-zone or string work in SQL.

Rows are grouped by an integer epoch step (a cheap integer division in DuckDB); the few groups are then
moved to local time and truncated to the unit in Python. The step divides every local bucket boundary:
the unit itself for minute, hour and day in UTC, otherwise 15 minutes (every zone's offset is a multiple of
15 minutes) or, for month and year in UTC, a day. Full-year day series: ~300 ms of strftime per 10M rows
in SQL against ~40 ms for the integer key (bench/umami.py).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["bucket_key_sql", "rebucket"]

_MINUTE_US: Final = 60_000_000
_STEPS_US: Final = {"minute": _MINUTE_US, "hour": 60 * _MINUTE_US, "day": 1440 * _MINUTE_US}
_QUARTER_US: Final = 15 * _MINUTE_US
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def step_us(unit: str, timezone: str) -> int:
    """The epoch step rows are grouped by for `unit` in `timezone`."""
    if unit == "minute":
        return _MINUTE_US
    if timezone == "UTC":
        return _STEPS_US.get(unit, _STEPS_US["day"])
    return _QUARTER_US


def bucket_key_sql(unit: str, timezone: str, column: str) -> str:
    """SQL grouping key: the row's epoch step number (`column` is code-defined, never input)."""
    return f"(epoch_us({column}) // {step_us(unit, timezone)})"


def _truncate(moment: datetime, unit: str) -> datetime:
    if unit == "year":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "month":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(second=0, microsecond=0)


def label(step_number: int, unit: str, timezone: str) -> str:
    """`YYYY-MM-DD HH:MM:SS` of the local `unit` bucket holding the start of `step_number`."""
    instant = _EPOCH + timedelta(microseconds=step_number * step_us(unit, timezone))
    local = instant.astimezone(zoneinfo.ZoneInfo(timezone)) if timezone != "UTC" else instant
    return _truncate(local, unit).strftime("%Y-%m-%d %H:%M:%S")


def rebucket(rows: Iterable[tuple[object, ...]], unit: str, timezone: str) -> dict[tuple[object, ...], int]:
    """Sum (step number, *other keys, count) rows into {(label, *other keys): count}, keys in label order."""
    sums: dict[tuple[object, ...], int] = defaultdict(int)
    for step_number, *keys, count in rows:
        sums[(label(int(str(step_number)), unit, timezone), *keys)] += int(str(count))
    return dict(sorted(sums.items(), key=lambda item: tuple(str(part) for part in item[0])))
