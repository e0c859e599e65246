"""Hourly rollups of the views table, and exactly which of their hours the writes since have made stale.

The summary report reads whole UTC hours of a period from `rollup_hours` (page views, unique visitors, the
bounce counts and the duration histogram per 1024 ms bin) instead of grouping millions of raw rows; the
period's partial hours at either end, and every hour that is not built or not current, are read raw
(docs/stats.md#rollups). An hour's rollup is current when it was built after the last write that touched the
hour. Writes are seen on the single writer thread, before they commit:

- a hit batch's views mark their own (hostname, hour) when that hour may already be built;
- a hit batch's duration updates return the (hostname, hour) of every view they changed, and mark those
  (storage/hit_batches.py). Until 2026-12 the bids waited for a lookup in a 32-bit hash of each built view's
  bid: besides costing every report a join, a hash matched one of millions of built views by chance about
  every second under steady traffic, and the job rebuilt that hour over and over;
- any other write (renaming or deleting a site, retention) marks everything.

A mark holds the build version current when the write ran. A build takes a new version on the writer thread
before a reader counts its views, and the writer thread installs the counts (`begin_build`, `compute`,
`install`): every write with a lower mark committed before that snapshot began, and every later write marks
with the build's version or a higher one, so a build with a version above an hour's mark saw every write to
it. Readers compare the versions in their own snapshot (`rollup_built`) with the marks, so a reader never uses
a build that misses a row it can see. The tables are dropped and rebuilt whenever the file is opened: another
program (Medama, an import, a restore) may have changed it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from medama_py.storage.prop_rollups import PROP_TABLES, PropRollups, create_prop_tables
from medama_py.storage.rollup_blocks import BLOCK_SIZES, BLOCK_TABLES, build_blocks, cover, create_block_tables, days_of
from medama_py.storage.rollup_days import (
    DAY_TABLES,
    HOURS_PER_DAY,
    append,
    build_days,
    create_day_tables,
    hours_of,
    whole_days,
)
from medama_py.storage.rollup_hour_lists import (
    HOUR_LIST_TABLES,
    clear_hour_lists,
    count_hour_lists,
    create_hour_list_tables,
    install_hour_lists,
)
from medama_py.storage.view_sums import TIMINGS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import duckdb

__all__ = [
    "HOUR",
    "HOUR_US",
    "ROLLED_LABELS",
    "ROLLUP_TABLES",
    "HourBuild",
    "Rollups",
    "create_rollup_tables",
    "hour_of",
    "hour_start",
]

HOUR: Final = timedelta(hours=1)
HOUR_US: Final = 3_600_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
ROLLUP_TABLES: Final = (
    "rollup_hours", "rollup_labels", "rollup_built", "rollup_keys", *DAY_TABLES, *BLOCK_TABLES, *HOUR_LIST_TABLES,
    *PROP_TABLES
)  # fmt: skip
# Written by earlier versions and no longer: dropped with the others when the file is opened.
_RETIRED_TABLES: Final = ("rollup_state",)
# Dimension reports whose labels are few, rolled up per hour, label and bin in `rollup_labels` (the report's
# name -> its label over `views AS v`, as stats/reports.py defines it). Reports of many labels (paths,
# referrers) would keep about as many rollup rows as views.
ROLLED_LABELS: Final = {"devices": "coalesce(v.ua_device_type, '')"}

_CREATE = (
    # One row per (hostname, hour, duration bin); bin is NULL for the views without a duration.
    """CREATE TABLE rollup_hours (hostname TEXT NOT NULL, hour INTEGER NOT NULL, bin INTEGER,
       durations BIGINT NOT NULL, visitors BIGINT NOT NULL, pageviews BIGINT NOT NULL, timings HUGEINT NOT NULL)""",
    # The same per label of each ROLLED_LABELS report.
    """CREATE TABLE rollup_labels (report TEXT NOT NULL, hostname TEXT NOT NULL, hour INTEGER NOT NULL,
       label TEXT NOT NULL, bin INTEGER, durations BIGINT NOT NULL, visitors BIGINT NOT NULL,
       timings HUGEINT NOT NULL)""",
    # Every built hour, empty ones included, with the version of the build that wrote it.
    "CREATE TABLE rollup_built (hostname TEXT NOT NULL, hour INTEGER NOT NULL, version BIGINT NOT NULL)",
    # A 32-bit hash of each built view's bid, by the version of the build (one website's): /properties skips the
    # view hours no raw event's bid is in (stats/rolled.py). The version rather than the hostname: a string column
    # took ~55% of the install's time (~80 ms of ~140 per million views, against ~10 ms for the number).
    "CREATE TABLE rollup_keys (version BIGINT NOT NULL, hour INTEGER NOT NULL, key UINTEGER NOT NULL)",
)

# The same metrics as stats/query.py (VISITORS, PAGEVIEWS, storage/view_sums.TIMINGS) and the same 1024 ms bins as
# stats/medians.py; tests/stats/test_rollups.py proves the rollup path equal to the raw one.
_HOURS_OF_VIEWS = f"""
SELECT v.hostname, (epoch_us(v.date_created) // 3600000000)::INTEGER AS hour, (v.duration_ms >> 10) AS bin,
       count(v.duration_ms), count_if(v.is_unique_user), count(*), {TIMINGS}
FROM views AS v
WHERE v.hostname = $hostname AND v.date_created >= $start AND v.date_created < $stop
GROUP BY v.hostname, hour, bin
"""  # noqa: S608 (only code: the metric and the label SQL)
_LABELS_OF_VIEWS = f"""
SELECT $report, v.hostname, (epoch_us(v.date_created) // 3600000000)::INTEGER AS hour, {{label}} AS label,
       (v.duration_ms >> 10) AS bin, count(v.duration_ms), count_if(v.is_unique_user), {TIMINGS}
FROM views AS v
WHERE v.hostname = $hostname AND v.date_created >= $start AND v.date_created < $stop
GROUP BY v.hostname, hour, label, bin
"""  # noqa: S608 (only code: the metric and the label SQL)
# Inserted by the install on the writer thread, whose snapshot holds every view the build's snapshot held and
# perhaps later ones (a key too many only makes /properties read one view hour too many).
_BUILD_KEYS = """
INSERT INTO rollup_keys
SELECT $version, (epoch_us(v.date_created) // 3600000000)::INTEGER, (hash(v.bid) >> 32)::UINTEGER
FROM views AS v
WHERE v.hostname = $hostname AND v.date_created >= $start AND v.date_created < $stop AND v.bid IS NOT NULL
"""
# The keys of the builds a new one replaces (before their rollup_built rows go).
_DROP_KEYS = """
DELETE FROM rollup_keys WHERE hour BETWEEN $first AND $last AND version IN (
    SELECT version FROM rollup_built WHERE hostname = $hostname AND hour BETWEEN $first AND $last)
"""
_BUILT = "INSERT INTO rollup_built SELECT $hostname, range::INTEGER, $version FROM range($first, $last + 1)"


def create_rollup_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop whatever rollups the file holds and create them empty (their validity died with the last process)."""
    for table in (*ROLLUP_TABLES, *_RETIRED_TABLES):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in _CREATE:
        conn.execute(statement)
    create_day_tables(conn)
    create_hour_list_tables(conn)
    create_block_tables(conn)
    create_prop_tables(conn)


def hour_of(moment: datetime) -> int:
    """The UTC hour number (hours since 1970) holding `moment`."""
    return (moment - _EPOCH) // HOUR


def hour_start(hour: int) -> datetime:
    return _EPOCH + hour * HOUR


@dataclass(slots=True)
class HourBuild:
    """A build of hours [first, last] of one website: its version, then the counts a reader made of the views."""

    hostname: str
    first: int
    last: int
    version: int
    lists_from: int | None = None  # the first hour to keep list rows of (storage/rollup_hour_lists.py); None: all
    hours: list[Any] = field(default_factory=list)  # rollup_hours rows
    labels: list[Any] = field(default_factory=list)  # rollup_labels rows

    @property
    def list_hours(self) -> range:
        """The hours whose list rows the build writes after its install, one at a time."""
        return range(self.first if self.lists_from is None else max(self.first, self.lists_from), self.last + 1)


@dataclass(slots=True)
class Rollups:
    """The in-memory side of the rollups: build versions and marks (thread-safe)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Build versions are handed out on the writer thread only.
    version: int = 0
    # Hours at or after this one are never built (yet): views written there mark nothing.
    built_until: datetime = _EPOCH
    _everything: int = -1
    _marks: dict[tuple[str, int], int] = field(default_factory=dict)
    # hostname -> hour -> version of the build in the file (the maintenance job's plan, not readers').
    built: dict[str, dict[int, int]] = field(default_factory=dict)
    built_days: dict[str, dict[int, int]] = field(default_factory=dict)  # the same for day rows
    props: PropRollups = field(default_factory=PropRollups)  # the properties join's rollups
    block_sizes: tuple[int, ...] = BLOCK_SIZES  # the days of the block rows (storage/rollup_blocks.py)

    # --- writes (writer thread, before the write commits) ---------------------------------------------

    def note_batch(self, views: Sequence[Sequence[object]], events: Sequence[Sequence[object]] = ()) -> None:
        """A hit batch is about to commit: `views` rows are (bid, hostname, …, date_created)."""
        self.props.note(views, events)
        until = self.built_until
        early = [(str(r[1]), r[-1]) for r in views if r[-1] < until]  # type: ignore[operator]
        if early:
            with self._lock:
                for hostname, moment in early:
                    self._mark((hostname, hour_of(moment)), self.version)  # type: ignore[arg-type]

    def note_updated(self, hours: Iterable[Sequence[object]]) -> None:
        """The batch about to commit changed views in these (hostname, hour) pairs (its duration updates)."""
        until = hour_of(self.built_until)
        with self._lock:
            for hostname, hour in hours:
                if hour < until:  # type: ignore[operator]
                    self._mark((str(hostname), int(hour)), self.version)  # type: ignore[call-overload]

    def note_everything(self) -> None:
        """Some other write is about to commit: no build made so far may be used."""
        self.props.note_everything()
        with self._lock:
            self._everything = self.version
            self.built.clear()
            self.built_days.clear()

    def tables_recreated(self) -> None:
        """The store opened its file again and `create_rollup_tables` emptied the tables (writer thread).

        Nothing built before may be used, and versions keep counting up; the properties' install count starts
        again with the file's, so `PropRollups.resolve` can tell again when its snapshot holds every install.
        """
        self.note_everything()
        self.props.tables_recreated()

    def _mark(self, key: tuple[str, int], version: int) -> None:
        self._marks[key] = max(self._marks.get(key, -1), version)

    # --- readers -----------------------------------------------------------------------------------------

    def usable_hours(self, cur: duckdb.DuckDBPyConnection, hostname: str, first: int, last: int) -> list[int]:
        """The hours in [first, last] whose build, as `cur`'s snapshot sees it, no write has made stale."""
        return sorted(self._usable_versions(cur, hostname, first, last))

    def usable(
        self, cur: duckdb.DuckDBPyConnection, hostname: str, first: int, last: int, *, lists: bool = False
    ) -> tuple[list[int], list[int]]:
        """(days, hours): the usable day rows of the whole days in [first, last], and the usable hours outside them.

        A day row is usable when each of its hours is, and none of them was built after it (storage/rollup_days.py).
        With `lists`, only the usable hours that have list rows (storage/rollup_hour_lists.py) are returned; their
        build wrote them, and every build of an hour replaces them, so they are as current as the hour.
        """
        hours = self._usable_versions(cur, hostname, first, last)
        listed = self._listed(cur, hostname, first, last) if lists else set(hours)
        first_day, last_day = whole_days(first, last)
        if first_day > last_day:
            return [], sorted(hour for hour in hours if hour in listed)
        rows = cur.execute(
            "SELECT day, version FROM rollup_days WHERE hostname = $hostname AND day BETWEEN $first AND $last",
            {"hostname": hostname, "first": first_day, "last": last_day},
        ).fetchall()
        days = sorted(
            int(day)
            for day, version in rows
            if all(hours.get(hour, version + 1) <= version for hour in hours_of(int(day)))
        )
        covered = {hour for day in days for hour in hours_of(day)}
        return days, sorted(hour for hour in hours if hour not in covered and hour in listed)

    @staticmethod
    def _listed(cur: duckdb.DuckDBPyConnection, hostname: str, first: int, last: int) -> set[int]:
        rows = cur.execute(
            "SELECT hour FROM rollup_hour_lists WHERE hostname = $hostname AND hour BETWEEN $first AND $last",
            {"hostname": hostname, "first": first, "last": last},
        ).fetchall()
        return {int(row[0]) for row in rows}

    def usable_blocks(self, cur: duckdb.DuckDBPyConnection, hostname: str, days: list[int]) -> list[tuple[int, int]]:
        """The fewest (size, block) blocks, in day order, covering only `days` (usable day rows, ascending).

        A block serves when each of its days is among `days` and none was rebuilt after it (storage/rollup_blocks.py).
        """
        if not days:
            return []
        span = {"hostname": hostname, "first": days[0], "last": days[-1]}
        blocks = cur.execute(
            "SELECT size, day // size, version FROM rollup_blocks WHERE hostname = $hostname"
            " AND day >= $first AND day + size - 1 <= $last",
            span,
        ).fetchall()
        versions = dict(
            cur.execute(
                "SELECT day, version FROM rollup_days WHERE hostname = $hostname AND day BETWEEN $first AND $last", span
            ).fetchall()
        )
        usable = {
            (int(size), int(block))
            for size, block, version in blocks
            if int(size) in self.block_sizes
            and all(versions.get(day, version + 1) <= version for day in days_of(int(size), int(block)))
        }
        return cover(days, usable, self.block_sizes)

    def _usable_versions(self, cur: duckdb.DuckDBPyConnection, hostname: str, first: int, last: int) -> dict[int, int]:
        """The build version of each usable hour in [first, last], by hour."""
        if first > last:
            return {}
        rows = cur.execute(
            "SELECT hour, version FROM rollup_built WHERE hostname = $hostname AND hour BETWEEN $first AND $last",
            {"hostname": hostname, "first": first, "last": last},
        ).fetchall()
        with self._lock:
            everything, marks = self._everything, self._marks
            return {
                int(hour): int(version)
                for hour, version in rows
                if version > everything and version > marks.get((hostname, int(hour)), -1)
            }

    # --- the maintenance job -------------------------------------------------------------------------------

    def stale_hours(self, hostname: str, first: int, stop: int) -> list[int]:
        """Hours from the day of `first` up to `stop` to (re)build for `hostname`: never built, or marked since.

        Every hour of a day that has ended is listed when any of them is, or when its day row is missing or older
        than one of its hours, so the job rebuilds whole days and their day rows (storage/rollup_days.py).
        """
        with self._lock:
            built, days = self.built.get(hostname, {}), self.built_days.get(hostname, {})
            everything, marks = self._everything, self._marks
            stale: list[int] = []
            for day in range(max(first, 0) // HOURS_PER_DAY, -(-stop // HOURS_PER_DAY)):
                hours = [hour for hour in hours_of(day) if hour < stop]  # from midnight, so the first day is whole
                old = [h for h in hours if built.get(h, -1) <= max(everything, marks.get((hostname, h), -1))]
                ended = len(hours) == HOURS_PER_DAY
                if ended and (old or days.get(day, -1) < max(built.get(h, -1) for h in hours)):
                    stale.extend(hours)
                else:
                    stale.extend(old)
            return stale

    def begin_build(
        self, _cur: duckdb.DuckDBPyConnection, hostname: str, first: int, last: int, lists_from: int | None = None
    ) -> HourBuild:
        """A new build's version, taken on the writer thread (as a write) before `compute`'s snapshot begins.

        Every write before it has committed, so that snapshot holds it; every write after it marks with this version
        or a later one (views into hours before `built_until`, moved here, and the hours durations changed), so the
        build never counts as current for a write it may have missed.
        """
        with self._lock:
            self.version += 1
            self.built_until = max(self.built_until, hour_start(last + 1))
            return HourBuild(hostname, first, last, self.version, lists_from=lists_from)

    @staticmethod
    def compute(cur: duckdb.DuckDBPyConnection, build: HourBuild) -> HourBuild:
        """The counts of the build's hours from the views, in a reader's snapshot (some hundreds of rows an hour)."""
        values = {"hostname": build.hostname, "start": hour_start(build.first), "stop": hour_start(build.last + 1)}
        build.hours = cur.execute(_HOURS_OF_VIEWS, values).fetchall()
        for report, label in ROLLED_LABELS.items():
            build.labels += cur.execute(_LABELS_OF_VIEWS.format(label=label), {**values, "report": report}).fetchall()
        return build

    def install(self, cur: duckdb.DuckDBPyConnection, build: HourBuild) -> None:
        """Replace the build's hours with its counts, in one transaction (on the writer thread).

        Only appends and sums of the rollup tables run here, plus the bids' keys (read from the views), so hits wait
        behind the install only, not behind counting the views; but for the day rows' lists, which a build that
        completes a day counts here (storage/rollup_days.py). The hours' list rows are cleared, then written by
        `install_hour_lists` (storage/rollup_hour_lists.py).
        """
        hostname, first, last, version = build.hostname, build.first, build.last, build.version
        span = {"hostname": hostname, "first": first, "last": last}
        cur.begin()
        try:
            cur.execute(_DROP_KEYS, span)
            for table in ("rollup_hours", "rollup_labels", "rollup_built"):
                cur.execute(f"DELETE FROM {table} WHERE hostname = $hostname AND hour BETWEEN $first AND $last", span)  # noqa: S608 (table names are code)
            append(cur, "rollup_hours", build.hours)
            append(cur, "rollup_labels", build.labels)
            views = {"hostname": hostname, "start": hour_start(first), "stop": hour_start(last + 1)}
            cur.execute(_BUILD_KEYS, {**views, "version": version})
            cur.execute(_BUILT, {**span, "version": version})
            build_days(cur, hostname, first, last, version)
            clear_hour_lists(cur, hostname, first, last)
            build_blocks(cur, hostname, self._completed_blocks(hostname, first, last), version, self.block_sizes)
            cur.commit()
        except BaseException:
            cur.rollback()
            raise
        with self._lock:
            hours = self.built.setdefault(hostname, {})
            for hour in range(first, last + 1):
                hours[hour] = version
            first_day, last_day = whole_days(first, last)
            days = self.built_days.setdefault(hostname, {})
            for day in range(first_day, last_day + 1):
                days[day] = version

    def build(
        self,
        cur: duckdb.DuckDBPyConnection,
        hostname: str,
        first: int,
        last: int,
        lists_from: int | None = None,
        lists_until: int | None = None,
    ) -> None:
        """The job's steps for hours [first, last] on one cursor, one after another (tests and tools).

        List rows are written for the hours from `lists_from` (all by default) up to `lists_until` (excluded).
        """
        build = self.compute(cur, self.begin_build(cur, hostname, first, last, lists_from))
        self.install(cur, build)
        for hour in build.list_hours:
            if lists_until is not None and hour >= lists_until:
                break
            install_hour_lists(cur, hostname, hour, build.version, count_hour_lists(cur, hostname, hour))

    def _completed_blocks(self, hostname: str, first: int, last: int) -> list[tuple[int, int]]:
        """The (size, block) blocks with a whole day of hours [first, last], each of whose days has a day row then.

        The plan may be out of date (a day marked since): readers check each day of a block before using it.
        """
        first_day, last_day = whole_days(first, last)
        if first_day > last_day:
            return []
        with self._lock:
            built = set(self.built_days.get(hostname, {})) | set(range(first_day, last_day + 1))
        return [
            (size, block)
            for size in self.block_sizes
            for block in range(first_day // size, last_day // size + 1)
            if all(day in built for day in days_of(size, block))
        ]


def runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Ascending numbers (hours, duration bins) merged into (first, last) runs of consecutive numbers."""
    merged: list[tuple[int, int]] = []
    for number in numbers:
        if merged and merged[-1][1] + 1 == number:
            merged[-1] = (merged[-1][0], number)
        else:
            merged.append((number, number))
    return merged
