"""Hourly rollups of the properties join: events per (view hostname, event hour, name, value) (docs/stats.md#rollups).

Counting properties joins every event of the period with every page view of the site on `bid`, which reads
the bid of every view (most of /properties' time). Here that join is done once per closed event hour, in the
background, and kept. An hour's count changes when an event is written into it, when a view is written whose
bid some of its events carry, or on any other write (renames, deletions, retention). Bids are looked up in
`rollup_event_keys`, a 64-bit hash of each built event's bid: with 32 bits a new view matched one of 500k
built events by chance about once in 8,600 views, so under steady traffic some hour was marked, and rebuilt,
every few seconds. Each write gets a number, on the writer thread before it commits; a build records the
number of the last write it saw (`seen`: the job reads it on the writer thread, where every write up to it has
committed, before its snapshot begins), and an hour is current while no write after `seen` marked it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from medama_py.storage.rollup_days import append

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb

__all__ = ["PROP_TABLES", "PropRollups", "create_prop_tables"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR: Final = timedelta(hours=1)
PROP_TABLES: Final = ("rollup_props", "rollup_props_built", "rollup_event_keys", "rollup_props_state")
_CREATE: Final = (
    """CREATE TABLE rollup_props (hostname TEXT NOT NULL, hour INTEGER NOT NULL, name TEXT NOT NULL,
       value TEXT NOT NULL, events BIGINT NOT NULL)""",
    "CREATE TABLE rollup_props_built (hour INTEGER NOT NULL, seen BIGINT NOT NULL)",
    "CREATE TABLE rollup_event_keys (hour INTEGER NOT NULL, key UBIGINT NOT NULL)",
    # The last build installed: the number it saw, and how many builds were installed up to it.
    "CREATE TABLE rollup_props_state (seen BIGINT NOT NULL, installs BIGINT NOT NULL)",
)
# The join of stats/properties.py, per event hour; views of every site (the hostname is a column).
_COMPUTE: Final = """
SELECT v.hostname, (epoch_us(e.date_created) // 3600000000)::INTEGER AS hour, e.name, e.value, count(*) AS events
FROM views AS v JOIN events AS e ON e.bid = v.bid AND e.bid <> ''
WHERE e.date_created >= $start AND e.date_created < $stop
GROUP BY ALL
"""
# Inserted by the install on the writer thread, whose snapshot holds every event the build's snapshot held
# and perhaps later ones: extra keys only mark hours that need not be (a month at 100M views: ~80 ms, where
# fetching them into Python took ~270 ms and ~200 MB per 1.6M events).
_KEYS: Final = """
INSERT INTO rollup_event_keys
SELECT (epoch_us(e.date_created) // 3600000000)::INTEGER AS hour, hash(e.bid) AS key
FROM events AS e WHERE e.date_created >= $start AND e.date_created < $stop AND e.bid IS NOT NULL
"""
_FIND_BIDS: Final = """
SELECT DISTINCT k.hour FROM rollup_event_keys AS k
WHERE k.key IN (SELECT hash(b) FROM unnest($bids::TEXT[]) AS t(b))
"""


def create_prop_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table in PROP_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in _CREATE:
        conn.execute(statement)
    conn.execute("INSERT INTO rollup_props_state VALUES (0, 0)")


def _hour(moment: datetime) -> int:
    return (moment - _EPOCH) // _HOUR


def _span(first: int, last: int) -> dict[str, datetime]:
    return {"start": _EPOCH + first * _HOUR, "stop": _EPOCH + (last + 1) * _HOUR}


@dataclass(slots=True)
class PropRollups:
    """Write numbers, marks and pending view bids of the properties rollups (thread-safe)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    noted: int = 0  # the number of the last write told (writer thread)
    built_until: datetime = _EPOCH
    _everything: int = 0
    _marks: dict[int, int] = field(default_factory=dict)
    _pending: list[tuple[int, list[str]]] = field(default_factory=list)
    built: dict[int, int] = field(default_factory=dict)  # event hour -> seen (the job's plan)
    installs: int = 0
    building: bool = False  # between begin_build and the end of install

    def note(self, views: Sequence[Sequence[object]], events: Sequence[Sequence[object]]) -> None:
        """A batch is about to commit: its views end with date_created (bid first), its events carry it at 4."""
        if not views and not events:
            return
        until = self.built_until
        early = [r[4] for r in events if r[4] < until]  # type: ignore[operator]
        with self._lock:
            self.noted += 1
            for moment in early:
                self._mark(_hour(moment), self.noted)  # type: ignore[arg-type]
            # Before any build, a view's bid can match no built hour: nothing to look up.
            if views and (self.installs or self.building):
                self._pending.append((self.noted, [str(r[0]) for r in views if r[0]]))

    def note_everything(self) -> None:
        with self._lock:
            self.noted += 1
            self._everything = self.noted
            self._pending.clear()
            self.built.clear()

    def tables_recreated(self) -> None:
        """The file's tables were emptied (a reopen): their install count is 0 again, and so is ours."""
        with self._lock:
            self.installs = 0

    def _mark(self, hour: int, number: int) -> None:
        self._marks[hour] = max(self._marks.get(hour, 0), number)

    @property
    def has_pending(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def usable_hours(self, cur: duckdb.DuckDBPyConnection, first: int, last: int) -> list[int]:
        """The event hours in [first, last] that `cur`'s snapshot holds built and that no later write marked."""
        if first > last:
            return []
        self.resolve(cur)
        rows = cur.execute(
            "SELECT hour, seen FROM rollup_props_built WHERE hour BETWEEN $first AND $last",
            {"first": first, "last": last},
        ).fetchall()
        with self._lock:
            everything, marks = self._everything, self._marks
            return sorted(int(hour) for hour, seen in rows if seen >= everything and seen >= marks.get(int(hour), 0))

    def resolve(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Mark the built event hours whose events carry a pending view's bid (looked up in `cur`'s snapshot)."""
        with self._lock:
            pending = list(self._pending)
        if not pending:
            return
        row = cur.execute("SELECT seen, installs FROM rollup_props_state").fetchone()
        seen, installs = (int(row[0]), int(row[1])) if row else (0, 0)
        bids = sorted({bid for _, batch in pending for bid in batch})
        found = [int(r[0]) for r in cur.execute(_FIND_BIDS, {"bids": bids}).fetchall()]
        newest = max(number for number, _ in pending)
        with self._lock:
            for hour in found:
                self._mark(hour, newest)
            # A build this snapshot does not hold may have events these bids match; only a later lookup can tell.
            # Every build is held when the snapshot has the last install and none is under way.
            complete = installs == self.installs and not self.building
            done = {id(entry) for entry in pending if entry[0] <= seen or complete}
            self._pending = [entry for entry in self._pending if id(entry) not in done]

    def stale_hours(self, first: int, stop: int) -> list[int]:
        with self._lock:
            everything, marks, built = self._everything, self._marks, self.built
            return [
                hour
                for hour in range(max(first, 0), stop)
                if hour not in built or built[hour] < max(everything, marks.get(hour, 0))
            ]

    def begin_build(self, last: int) -> int:
        """On the writer thread, before a build's snapshot: the number it will have seen up to.

        Every write up to it has committed. From now on an event written into these hours is marked (with a
        higher number), whether or not the build's snapshot holds it.
        """
        with self._lock:
            self.built_until = max(self.built_until, _EPOCH + (last + 1) * _HOUR)
            self.building = True
            return self.noted

    def abandon_build(self) -> None:
        """A build failed between begin_build and install."""
        with self._lock:
            self.building = False

    @staticmethod
    def compute(cur: duckdb.DuckDBPyConnection, first: int, last: int) -> list[Any]:
        """The join's counts of event hours [first, last], in a reader's snapshot."""
        return cur.execute(_COMPUTE, _span(first, last)).fetchall()

    def install(self, cur: duckdb.DuckDBPyConnection, first: int, last: int, seen: int, rows: list[Any]) -> None:
        """Replace hours [first, last] with a build that saw every write up to number `seen` (writer thread)."""
        span = {"first": first, "last": last}
        cur.begin()
        try:
            for table in ("rollup_props", "rollup_props_built", "rollup_event_keys"):
                cur.execute(f"DELETE FROM {table} WHERE hour BETWEEN $first AND $last", span)  # noqa: S608 (code names)
            append(cur, "rollup_props", rows)
            cur.execute(_KEYS, _span(first, last))
            cur.execute(
                "INSERT INTO rollup_props_built SELECT range::INTEGER, $seen FROM range($first, $last + 1)",
                {**span, "seen": seen},
            )
            cur.execute(
                "UPDATE rollup_props_state SET seen = greatest(seen, $seen), installs = installs + 1", {"seen": seen}
            )
            cur.commit()
        except BaseException:
            cur.rollback()
            with self._lock:
                self.building = False
            raise
        with self._lock:
            self.installs += 1
            self.building = False
            for hour in range(first, last + 1):
                self.built[hour] = seen
