"""Group-commit writer for ingestion: batches of hits become one DuckDB transaction each.

Requests add rows and await their batch's commit, so a 204 means the hit is in the WAL on disk
[PostgreSQL group commit]. A batch closes when it reaches `max_batch` items or `max_delay_ms` after
its first item, whichever comes first; while one batch commits the next one fills, so under load
each commit carries everything that arrived during the previous one. All DuckDB work runs on the
store's single writer thread (AnalyticsStore.write), never on the event loop.

Two bounds keep memory flat under sustained traffic:
- the queue: past `max_pending` waiting items a new hit is refused with 503 + Retry-After instead of
  queued, so a database that cannot keep up costs refusals, not memory (a refused hit was never
  acknowledged, so nothing acknowledged is lost);
- the WAL: DuckDB keeps every row written since the last checkpoint in memory as well as in the WAL,
  so the writer checkpoints between batches by WAL size and by age (`CheckpointPolicy`), busy or not.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, NamedTuple

import duckdb

from medama_py.errors import ServiceUnavailable
from medama_py.storage.analytics import VIEWS_COLUMNS
from medama_py.storage.umami_tables import UMAMI_DATA_COLUMNS, UMAMI_HIT_COLUMNS, UMAMI_SESSION_DATA_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from medama_py.model import EventRows, UmamiRows, ViewRow
    from medama_py.storage.analytics import AnalyticsStore
    from medama_py.storage.rollups import Rollups

__all__ = [
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_DELAY_MS",
    "DEFAULT_MAX_PENDING",
    "DURATION_SLACK",
    "CheckpointPolicy",
    "HitWriter",
    "WriteItem",
    "WriterStats",
]

log = logging.getLogger(__name__)

# Large enough that a commit's fixed cost (WAL fsync) is shared by many hits, small enough that one
# Arrow batch stays a few hundred kB.
DEFAULT_MAX_BATCH = 2000
# A lone hit on an idle server waits at most this long for company before committing.
DEFAULT_MAX_DELAY_MS = 2.0
# Items waiting for a commit beyond which new hits are refused (503): ~2 s of traffic at 5,000 hits/s, a
# few MB of Python objects. A healthy writer has at most one batch (~a commit's worth of hits) waiting.
DEFAULT_MAX_PENDING = 10_000
# After a failed checkpoint the writer only commits for this long, rather than retry after every batch.
_CHECKPOINT_RETRY_S = 1.0
_BUSY = "too many hits are waiting for the database, try again shortly"


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """When the writer folds the WAL into the database file, between two batches.

    Every commit waits while a checkpoint runs, so the policy trades stall length against stall frequency.
    Running the CHECKPOINT on a cursor of its own, on another thread, does not help: with DuckDB 2.0.1 the
    commits that overlapped it waited for all of it (up to ~1 s), appends and updates alike. Measured on this
    schema (writer-only, CPU time): a checkpoint costs ~5 ms plus ~3 us per view written since the last one
    (~30 ms at 10k views), and the one that finds a finished 122,880-view row group 230-620 ms more to
    compress it, however often checkpoints run: that one is the longest stall left on the hit path.
    """

    # Busy or not, checkpoint once the WAL is this large (~10k views, ~2 s at 5,000 hits/s). Smaller and more
    # often than 4 MB: in 2-minute soaks at ~4.8k hits/s, 1 MB checkpoints stalled a median 77 ms (4 MB: 81-690
    # ms, one every 8 s), and hit p99 fell from 341 to 235 ms, probe answers over 100 ms from 103 to 55.
    wal_bytes: int = 1024 * 1024
    # ...and at least this often while the WAL holds anything: a trickle of hits is folded in too.
    interval_seconds: float = 60.0
    # After this long without hits, a WAL of at least `quiet_bytes` is folded in while nobody waits.
    quiet_seconds: float = 0.25
    quiet_bytes: int = 256 * 1024

    def due(self, wal: int, since_last: float) -> bool:
        """True when a WAL of `wal` bytes, `since_last` seconds after the last checkpoint, calls for one now."""
        return wal >= self.wal_bytes or (wal > 0 and since_last >= self.interval_seconds)


@dataclass(slots=True)
class WriterStats:
    """What the writer has done since start (`refused` is shown by /api/user/usage)."""

    batches: int = 0
    checkpoints: int = 0
    last_checkpoint_ms: float = 0.0
    longest_checkpoint_ms: float = 0.0
    refused: int = 0


class WriteItem(NamedTuple):
    """One request's writes: a view (with its load properties), custom events, a duration, Umami-only rows.

    A Umami hit may fill several at once (its view, the previous view's duration, its Umami rows): they
    always commit together. `duration_at` is when the duration was reported: with it, only the views stored
    since then minus the duration (and `DURATION_SLACK`) are searched for its bid; without it, every view.
    """

    view: ViewRow | None = None
    events: EventRows | None = None
    duration: tuple[str, int] | None = None
    umami: UmamiRows | None = None
    duration_at: datetime | None = None


class HitWriter:
    """Collects accepted hits into batches and commits each batch as one DuckDB transaction."""

    def __init__(
        self,
        store: AnalyticsStore,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_delay_ms: float = DEFAULT_MAX_DELAY_MS,
        max_pending: int = DEFAULT_MAX_PENDING,
        checkpoints: CheckpointPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_batch < 1 or max_delay_ms < 0 or max_pending < 1:
            raise ValueError("max_batch and max_pending must be >= 1 and max_delay_ms >= 0")
        self._store = store
        self._max_batch = max_batch
        self._max_delay = max_delay_ms / 1000
        self._max_pending = max_pending
        self._policy = checkpoints if checkpoints is not None else CheckpointPolicy()
        self._clock = clock
        self._last_checkpoint = clock()
        self._retry_at = 0.0
        self.stats = WriterStats()
        self._pending: list[tuple[WriteItem, asyncio.Future[None]]] = []
        self._kick = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._appenders: Appenders | None = None

    async def start(self) -> None:
        """Start the flusher task on the running loop."""
        if self._task is None:
            self._stopping = False
            self._appenders = await self._store.write(Appenders, noted=True)
            self._last_checkpoint = self._clock()
            self._task = asyncio.create_task(self._run(), name="hit-writer")

    async def stop(self) -> None:
        """Commit everything pending, then stop; later adds are refused."""
        self._stopping = True
        self._kick.set()
        if self._task is not None:
            await self._task
            self._task = None

    @property
    def pending(self) -> int:
        """Items queued and not yet in a commit."""
        return len(self._pending)

    # These queue the write and return its commit to await: plain functions returning the future, so a
    # request awaits the commit itself rather than through one more coroutine resumed per hit. Each raises
    # ServiceUnavailable (503) instead of queueing when `max_pending` items already wait.

    def add_view(self, view: ViewRow, events: EventRows | None = None) -> asyncio.Future[None]:
        """Store a page view and its load properties; the future completes once they are committed."""
        return self._submit(WriteItem(view=view, events=events))

    def set_duration(self, bid: str, duration_ms: int, at: datetime | None = None) -> asyncio.Future[None]:
        """Set duration_ms on the views with this beacon id; the future completes once committed.

        With `at` (when the unload arrived) only views stored since `at - duration_ms - DURATION_SLACK` are
        searched, which keeps the update's cost to the newest row groups instead of the whole table.
        """
        return self._submit(WriteItem(duration=(bid, duration_ms), duration_at=at))

    def add_events(self, events: EventRows) -> asyncio.Future[None]:
        """Store custom-event properties; the future completes once they are committed."""
        return self._submit(WriteItem(events=events))

    def add_umami_hit(self, item: WriteItem) -> asyncio.Future[None]:
        """Store the writes of one Umami-protocol hit together; the future completes once they are committed."""
        return self._submit(item)

    def _submit(self, item: WriteItem) -> asyncio.Future[None]:
        if self._stopping or self._task is None:
            raise RuntimeError("hit writer is not running")
        if len(self._pending) >= self._max_pending:
            self.stats.refused += 1
            raise ServiceUnavailable(_BUSY)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self._max_batch:
            self._kick.set()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._max_delay, self._kick.set)
        return future

    async def _run(self) -> None:
        while True:
            if not await self._wait_for_work():
                await self._checkpoint()
                continue
            self._kick.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)
                # Under continuous traffic the queue never empties: the WAL is bounded here, between batches.
                if self._checkpoint_due(self._store.wal_bytes()):
                    await self._checkpoint()
                # Whatever arrived meanwhile has already waited one commit: flush it at once.
            if self._stopping:
                return

    async def _wait_for_work(self) -> bool:
        """Wait for the next batch; False when a quiet spell (or the policy's age limit) calls for a checkpoint."""
        wal = self._store.wal_bytes()
        if self._kick.is_set() or wal == 0:
            await self._kick.wait()
            return True
        if self._checkpoint_due(wal):
            return False
        now = self._clock()
        timeout = self._policy.interval_seconds - (now - self._last_checkpoint)
        if wal >= self._policy.quiet_bytes:
            timeout = min(timeout, self._policy.quiet_seconds)
        try:
            await asyncio.wait_for(self._kick.wait(), max(timeout, self._retry_at - now))
        except TimeoutError:
            return False
        return True

    def _checkpoint_due(self, wal: int) -> bool:
        now = self._clock()
        return now >= self._retry_at and self._policy.due(wal, now - self._last_checkpoint)

    async def _checkpoint(self) -> None:
        started = self._clock()
        try:
            await self._store.write(_checkpoint, noted=True)
        except Exception:  # DuckDB refused (e.g. out of memory): commits go on, the next try comes later
            log.warning("checkpoint failed; retrying in %.0f s", _CHECKPOINT_RETRY_S, exc_info=True)
            self._retry_at = self._clock() + _CHECKPOINT_RETRY_S
            return
        elapsed_ms = (self._clock() - started) * 1000
        self.stats.checkpoints += 1
        self.stats.last_checkpoint_ms = elapsed_ms
        self.stats.longest_checkpoint_ms = max(self.stats.longest_checkpoint_ms, elapsed_ms)
        self._last_checkpoint = self._clock()

    async def _apply(self, batch: Batch) -> None:
        appenders = self._appenders
        if appenders is None:
            raise RuntimeError("hit writer is not running")
        await self._store.write(
            functools.partial(apply_batch, appenders=appenders, batch=batch, rollups=self._store.rollups), noted=True
        )

    async def _commit(self, batch: list[tuple[WriteItem, asyncio.Future[None]]]) -> None:
        try:
            await self._apply(prepare_batch([item for item, _ in batch]))
        except duckdb.OutOfMemoryException:
            # Not one bad row: the database is over its memory limit, so nobody in the batch is stored.
            log.warning("batch of %d hits over DuckDB's memory limit; refused with 503", len(batch), exc_info=True)
            _finish(batch, ServiceUnavailable(_BUSY))
            return
        except Exception:
            log.exception("batch of %d hits failed; retrying them one by one", len(batch))
            await self._commit_one_by_one(batch)
            return
        self.stats.batches += 1
        _finish(batch, None)

    async def _commit_one_by_one(self, batch: list[tuple[WriteItem, asyncio.Future[None]]]) -> None:
        # Isolates a bad row so it fails alone instead of failing everyone who shared its batch.
        for item, future in batch:
            try:
                await self._apply(prepare_batch([item]))
            except Exception as exc:  # reported to that request alone, which answers 500
                _finish([(item, future)], exc)
            else:
                _finish([(item, future)], None)


def _finish(batch: list[tuple[WriteItem, asyncio.Future[None]]], error: BaseException | None) -> None:
    for _, future in batch:
        if future.done():  # the request went away
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


# --- what one batch does on the writer thread ----------------------------------------------------

# Every views column but duration_ms, which stays NULL until an unload arrives.
_VIEW_COLUMNS = tuple(name for name in VIEWS_COLUMNS if name != "duration_ms")
_EVENT_COLUMNS = ("batch_id", "group_name", "name", "value", "date_created", "bid")

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch as plain rows in column order, built on the event loop; the writer thread only runs DuckDB."""

    views: list[Row]
    events: list[Row]
    # (bid, duration_ms), the latest per bid: later unloads of a bid overwrite earlier ones, as separate
    # UPDATEs would. `durations` are looked up in every view, `recent_durations` only in views stored
    # since `recent_since`.
    durations: list[Row]
    umami: UmamiBatch
    recent_durations: list[Row] = field(default_factory=list)
    recent_since: datetime | None = None


def prepare_batch(items: list[WriteItem]) -> Batch:
    """Turn a batch's items into the rows of each target, in column order."""
    views: list[Row] = [
        tuple(getattr(item.view, name) for name in _VIEW_COLUMNS) for item in items if item.view is not None
    ]
    events: list[Row] = [
        (e.batch_id, e.group_name, name, value, e.date_created, e.bid)
        for item in items
        if (e := item.events) is not None
        for name, value in e.pairs
    ]
    durations = {item.duration[0]: (item.duration[1], item.duration_at) for item in items if item.duration is not None}
    anywhere: list[Row] = [(bid, ms) for bid, (ms, at) in durations.items() if at is None]
    recent: list[Row] = [(bid, ms) for bid, (ms, at) in durations.items() if at is not None]
    since = min((at - timedelta(milliseconds=ms) for ms, at in durations.values() if at is not None), default=None)
    return Batch(
        views,
        events,
        anywhere,
        prepare_umami(items),
        recent,
        since - DURATION_SLACK if since is not None else None,
    )


@dataclass(frozen=True, slots=True)
class UmamiBatch:
    """The Umami-only rows of a batch (storage/umami_tables.py)."""

    hits: list[Row]
    data: list[Row]
    session_data: list[Row]


def prepare_umami(items: list[WriteItem]) -> UmamiBatch:
    rows = [item.umami for item in items if item.umami is not None]
    return UmamiBatch(
        [r.hit for r in rows if r.hit is not None],
        [data for r in rows for data in r.data],
        [data for r in rows for data in r.session_data],
    )


class Appenders:
    """DuckDB appenders of the write cursor, one per target, made once and reused by every batch.

    An appender converts the rows in C++ and applies them with one statement at `flush`: the views and
    events are inserted, the durations become `UPDATE views SET duration_ms … WHERE bid = …` on every row
    with that bid (a bid nobody loaded is a no-op). Appenders rather than Arrow tables: DuckDB reads an Arrow
    table by calling back into Python, and under load each call waits for the GIL (a contended batch took
    ~20% longer that way).
    """

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.views = cur.appender("views", columns=list(_VIEW_COLUMNS))
        self.events = cur.appender("events", columns=list(_EVENT_COLUMNS))
        self.durations = cur.appender("views", columns=["bid", "duration_ms"], action="update", key=["bid"])
        self.umami_hits = cur.appender("umami_hits", columns=list(UMAMI_HIT_COLUMNS))
        self.umami_data = cur.appender("umami_event_data", columns=list(UMAMI_DATA_COLUMNS))
        self.umami_session_data = cur.appender("umami_session_data", columns=list(UMAMI_SESSION_DATA_COLUMNS))

    def clear(self) -> None:
        for appender in (
            self.views,
            self.events,
            self.durations,
            self.umami_hits,
            self.umami_data,
            self.umami_session_data,
        ):
            appender.clear()


def apply_batch(
    cur: duckdb.DuckDBPyConnection, appenders: Appenders, batch: Batch, rollups: Rollups | None = None
) -> None:
    """Write a batch in one transaction: insert views, insert events, then apply durations.

    `rollups` is told first which hours the batch may change (storage/rollups.py), before anyone can see it.
    """
    targets = (
        (appenders.views, batch.views),
        (appenders.events, batch.events),
        (appenders.durations, batch.durations),
        (appenders.umami_hits, batch.umami.hits),
        (appenders.umami_data, batch.umami.data),
        (appenders.umami_session_data, batch.umami.session_data),
    )
    work = [(appender, rows) for appender, rows in targets if rows]
    if not work and not batch.recent_durations:
        return
    if rollups is not None:
        # Recent durations are bids too: their views are looked up like any other's (storage/rollups.py).
        rollups.note_batch(batch.views, [*batch.durations, *batch.recent_durations], batch.events)
    cur.begin()
    try:
        for appender, rows in work:
            appender.append_rows(rows)
            appender.flush()
        if batch.recent_durations and batch.recent_since is not None:
            _update_recent_durations(cur, batch.recent_durations, batch.recent_since)
        cur.commit()
    except BaseException:
        # A failed append keeps the rows before the bad one buffered: drop them with the transaction.
        appenders.clear()
        cur.rollback()
        raise


# An unload reports how long its page was open, so its view was stored about `duration_ms` before it arrived;
# the slack covers the unload's delivery and clock adjustments on the visitor's side. Searching only that
# window lets DuckDB skip every older row group by its date_created bounds: the lookup by bid was a scan of the
# whole views table per batch (7 ms at 1.6M views and growing with the table, measured with the appender's
# keyed update), and it kept the bid column of every view in DuckDB's buffer pool.
DURATION_SLACK = timedelta(minutes=1)

_UPDATE_RECENT_DURATIONS = """
UPDATE views SET duration_ms = u.duration_ms
FROM (SELECT unnest($bids) AS bid, unnest($durations) AS duration_ms) AS u
WHERE views.bid = u.bid AND views.date_created >= $since"""


def _update_recent_durations(cur: duckdb.DuckDBPyConnection, rows: list[Row], since: datetime) -> None:
    bids, durations = zip(*rows, strict=True)
    cur.execute(_UPDATE_RECENT_DURATIONS, {"bids": list(bids), "durations": list(durations), "since": since})


def _checkpoint(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute("CHECKPOINT")
