"""The background job that keeps the hourly rollups built (storage/rollups.py, docs/stats.md#rollups).

It builds every closed hour of every registered website, oldest first, and rebuilds the hours that writes have
marked since. A build counts a span of hours on a reader and installs the counts on the writer thread, so hits
wait only for the install (appends, and the bids' keys), not for the counting of the views.
Nothing depends on it for correctness: an hour it has not built (yet) is read raw.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Final

import duckdb

from medama_py.errors import ServiceUnavailable
from medama_py.storage.prop_rollups import PropRollups
from medama_py.storage.rollup_days import HOURS_PER_DAY
from medama_py.storage.rollup_hour_lists import (
    RECENT_DAYS,
    count_hour_lists,
    drop_hour_lists_before,
    install_hour_lists,
)
from medama_py.storage.rollups import Rollups, hour_of

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from datetime import datetime

    from medama_py.storage.analytics import AnalyticsStore

__all__ = ["RollupJob"]

log = logging.getLogger("medama_py")

# An hour is built once it has been over this long: hits still arriving for it would only mark it again.
_GRACE: Final = timedelta(minutes=2)
# The span of hours adapts so one build (its counting and its install) takes about this long: short installs for
# the writer thread, and a bounded working set for the reader.
_TARGET_SECONDS: Final = 0.1
_MAX_SPAN: Final = 24 * 31
_IDLE_SECONDS: Final = 5.0
# The properties join reads every view's bid whatever the span, so a build takes a month of stale hours at once;
# a longer one holds its events' side of the join in memory (a year at 100M views: 20M events, ~3.8 GB peak).
_PROPS_SPAN: Final = 24 * 31


@dataclass(slots=True)
class RollupJob:
    """Builds stale hours while there are any, then checks again every few seconds."""

    analytics: AnalyticsStore
    hostnames: Collection[str]
    clock: Callable[[], datetime]
    span: int = 24
    _builds: int = 0  # since the rollups were last up to date
    _first: dict[str, int] = field(default_factory=dict)
    _first_event: int | None = None
    _lists_from: int = 0  # list rows of the hours before this one were dropped (storage/rollup_hour_lists.py)

    async def run(self) -> None:
        while True:
            try:
                busy = await self.step()
            except asyncio.CancelledError:
                raise
            except (ServiceUnavailable, duckdb.OutOfMemoryException) as exc:  # no memory now, or the file reopening
                log.info("rollup build postponed: %s", str(exc).splitlines()[0])
                busy = False
            except Exception:  # a failed build leaves its hours unbuilt, so read raw: try again later
                log.exception("rollup build failed")
                busy = False
            if busy:
                self._builds += 1
            elif self._builds:
                # bench/stats.py and bench/stats_dashboard.py wait for this line before timing.
                log.info("rollups up to date after %d builds", self._builds)
                self._builds = 0
                # The builds read the whole file, and DuckDB keeps its blocks cached (283 MB at 10M views).
                await self.analytics.trim_cache_or_log("the rollup builds")
            await asyncio.sleep(0 if busy else _IDLE_SECONDS)

    async def step(self) -> bool:
        """Build one span of stale hours; False when every closed hour is current."""
        rollups = self.analytics.rollups
        now = self.clock()
        stop = hour_of(now - _GRACE)
        lists_from = (hour_of(now) // HOURS_PER_DAY - RECENT_DAYS) * HOURS_PER_DAY
        if lists_from > self._lists_from:
            await self.analytics.write(partial(drop_hour_lists_before, hour=lists_from), noted=True)
            self._lists_from = lists_from
        for hostname in sorted(self.hostnames):
            first = await self._first_hour(hostname)
            if first is None:
                continue
            stale = rollups.stale_hours(hostname, first, stop)
            if not stale:
                continue
            last = _run_end(stale, self.span)
            began = time.perf_counter()
            build = await self.analytics.write(
                partial(rollups.begin_build, hostname=hostname, first=stale[0], last=last, lists_from=lists_from),
                noted=True,
            )
            build = await self.analytics.read(partial(Rollups.compute, build=build))
            await self.analytics.write(partial(rollups.install, build=build), noted=True)
            for hour in build.list_hours:
                counts = await self.analytics.read(partial(count_hour_lists, hostname=hostname, hour=hour))
                install = partial(
                    install_hour_lists, hostname=hostname, hour=hour, version=build.version, counts=counts
                )
                await self.analytics.write(install, noted=True)
            self._adapt(time.perf_counter() - began)
            return True
        return await self._props_step(stop)

    async def _props_step(self, stop: int) -> bool:
        """Build the properties join of one run of stale event hours: computed on a reader, installed on the writer."""
        props = self.analytics.rollups.props
        if props.has_pending:
            await self.analytics.read(props.resolve)
        if self._first_event is None or not props.built:
            self._first_event = await self.analytics.read(_oldest_event_hour)
        if self._first_event is None:
            return False
        stale = props.stale_hours(self._first_event, stop)
        if not stale:
            return False
        first = last = stale[0]
        for hour in stale[1:_PROPS_SPAN]:
            if hour != last + 1:
                break
            last = hour
        seen = await self.analytics.write(lambda _: props.begin_build(last), noted=True)
        try:
            rows = await self.analytics.read(partial(PropRollups.compute, first=first, last=last))
        except BaseException:
            props.abandon_build()
            raise
        await self.analytics.write(partial(props.install, first=first, last=last, seen=seen, rows=rows), noted=True)
        return True

    def _adapt(self, seconds: float) -> None:
        if seconds > 2 * _TARGET_SECONDS:
            self.span = max(1, self.span // 2)
        elif seconds < _TARGET_SECONDS / 2:
            self.span = min(_MAX_SPAN, self.span * 2)

    async def _first_hour(self, hostname: str) -> int | None:
        """The hour of the site's oldest view (remembered; a write that could change it clears `rollups.built`)."""
        if hostname in self._first and hostname in self.analytics.rollups.built:
            return self._first[hostname]
        first = await self.analytics.read(partial(_oldest_hour, hostname=hostname))
        if first is not None:
            self._first[hostname] = first
        return first


def _run_end(stale: list[int], span: int) -> int:
    """The last hour of the first run of consecutive stale hours, at most `span` long.

    A run from midnight takes a whole day at least (a day's row is written only by a build of the whole day),
    and is cut to whole days when longer.
    """
    first = last = stale[0]
    longest = max(span, HOURS_PER_DAY) if first % HOURS_PER_DAY == 0 else span
    for hour in stale[1:longest]:
        if hour != last + 1:
            break
        last = hour
    days = (last + 1 - first) // HOURS_PER_DAY
    return first + days * HOURS_PER_DAY - 1 if days and first % HOURS_PER_DAY == 0 else last


def _oldest_hour(cur: duckdb.DuckDBPyConnection, hostname: str) -> int | None:
    row = cur.execute(
        "SELECT min(date_created) FROM views WHERE hostname = $hostname", {"hostname": hostname}
    ).fetchone()
    return hour_of(row[0]) if row and row[0] is not None else None


def _oldest_event_hour(cur: duckdb.DuckDBPyConnection) -> int | None:
    row = cur.execute("SELECT min(date_created) FROM events").fetchone()
    return hour_of(row[0]) if row and row[0] is not None else None
