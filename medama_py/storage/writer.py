"""Group-commit writer for ingestion: batches of hits become one DuckDB transaction each.

Requests add rows and await their batch's commit, so a 204 means the hit is in the WAL on disk
[PostgreSQL group commit]. A batch closes when it reaches `max_batch` items or `max_delay_ms` after
its first item, whichever comes first; while one batch commits the next one fills, so under load
each commit carries everything that arrived during the previous one. All DuckDB work runs on the
store's single writer thread (AnalyticsStore.write), never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from medama_py.storage.analytics import VIEWS_COLUMNS

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from medama_py.model import EventRows, ViewRow
    from medama_py.storage.analytics import AnalyticsStore

__all__ = ["DEFAULT_MAX_BATCH", "DEFAULT_MAX_DELAY_MS", "HitWriter", "WriteItem", "load_arrow"]

log = logging.getLogger(__name__)

# Large enough that a commit's fixed cost (WAL fsync) is shared by many hits, small enough that one
# Arrow batch stays a few hundred kB.
DEFAULT_MAX_BATCH = 2000
# A lone hit on an idle server waits at most this long for company before committing.
DEFAULT_MAX_DELAY_MS = 2.0
# After this long without hits, a WAL of at least QUIET_CHECKPOINT_BYTES is folded into the file while
# nobody waits (see AUTO_CHECKPOINT_BYTES in storage/analytics.py). A hit arriving meanwhile waits for the
# checkpoint: ~5 ms per MB of WAL, so a few tens of ms at this size, and only after a pause.
QUIET_SECONDS = 0.25
QUIET_CHECKPOINT_BYTES = 4 * 1024 * 1024
# The writer thread needs the GIL back from the busy event loop several times per commit (DuckDB calls
# into Python to scan each Arrow table, ~120 Python calls per batch). bench/ingest.py (wrk -t2 -c384):
# 5 ms default → a commit took ~33 ms in a contended micro-benchmark; 0.5 ms → 15.6 ms per commit and
# 11,800 hits/s; 0.1 ms → 13.0 ms and 13,900 hits/s. Each hand-over costs at least one interval, and a
# batch needs ~25 (DuckDB's Arrow scans call back into Python), so once the event loop got cheaper
# 0.02 ms paid off too: 15,000-15,100 → 16,000 hits/s in alternating runs (0.05 ms: 15,500; 0.01 ms: no better).
_SWITCH_INTERVAL_S = 0.00002


@dataclass(frozen=True, slots=True)
class WriteItem:
    """One request's writes: a view (with its load properties), custom events, or a duration."""

    view: ViewRow | None = None
    events: EventRows | None = None
    duration: tuple[str, int] | None = None


class HitWriter:
    """Collects accepted hits into batches and commits each batch as one DuckDB transaction."""

    def __init__(
        self,
        store: AnalyticsStore,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_delay_ms: float = DEFAULT_MAX_DELAY_MS,
        quiet_seconds: float = QUIET_SECONDS,
        quiet_checkpoint_bytes: int = QUIET_CHECKPOINT_BYTES,
    ) -> None:
        if max_batch < 1 or max_delay_ms < 0:
            raise ValueError("max_batch must be >= 1 and max_delay_ms >= 0")
        self._store = store
        self._max_batch = max_batch
        self._max_delay = max_delay_ms / 1000
        self._quiet_seconds = quiet_seconds
        self._quiet_checkpoint_bytes = quiet_checkpoint_bytes
        self.checkpoints = 0
        self._pending: list[tuple[WriteItem, asyncio.Future[None]]] = []
        self._kick = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.batches_committed = 0
        self._saved_switch_interval = sys.getswitchinterval()

    async def start(self) -> None:
        """Start the flusher task on the running loop."""
        if self._task is None:
            self._stopping = False
            # The writer thread needs the GIL back from the busy event loop after every DuckDB call; with
            # the default 5 ms switch interval each hand-over can stall a commit that long (see the constant).
            self._saved_switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._saved_switch_interval, _SWITCH_INTERVAL_S))
            self._task = asyncio.create_task(self._run(), name="hit-writer")

    async def stop(self) -> None:
        """Commit everything pending, then stop; later adds are refused."""
        self._stopping = True
        self._kick.set()
        if self._task is not None:
            await self._task
            self._task = None
            sys.setswitchinterval(self._saved_switch_interval)

    # These queue the write and return its commit to await: plain functions returning the future, so a
    # request awaits the commit itself rather than through one more coroutine resumed per hit.

    def add_view(self, view: ViewRow, events: EventRows | None = None) -> asyncio.Future[None]:
        """Store a page view and its load properties; the future completes once they are committed."""
        return self._submit(WriteItem(view=view, events=events))

    def set_duration(self, bid: str, duration_ms: int) -> asyncio.Future[None]:
        """Set duration_ms on every view with this beacon id; the future completes once committed."""
        return self._submit(WriteItem(duration=(bid, duration_ms)))

    def add_events(self, events: EventRows) -> asyncio.Future[None]:
        """Store custom-event properties; the future completes once they are committed."""
        return self._submit(WriteItem(events=events))

    def _submit(self, item: WriteItem) -> asyncio.Future[None]:
        if self._stopping or self._task is None:
            raise RuntimeError("hit writer is not running")
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
                # Whatever arrived during that commit has already waited one commit: flush it at once.
            if self._stopping:
                return

    async def _wait_for_work(self) -> bool:
        """Wait for the next batch; False after a quiet spell that calls for a checkpoint instead."""
        if self._kick.is_set() or self._store.wal_bytes() < self._quiet_checkpoint_bytes:
            await self._kick.wait()
            return True
        try:
            await asyncio.wait_for(self._kick.wait(), self._quiet_seconds)
        except TimeoutError:
            return False
        return True

    async def _checkpoint(self) -> None:
        try:
            await self._store.write(_checkpoint)
        except Exception:  # e.g. a long read still open; the next quiet spell tries again
            log.warning("checkpoint in a quiet moment failed; retrying at the next one", exc_info=True)
            await asyncio.sleep(self._quiet_seconds)
        else:
            self.checkpoints += 1

    async def _commit(self, batch: list[tuple[WriteItem, asyncio.Future[None]]]) -> None:
        tables = prepare_batch([item for item, _ in batch])
        try:
            await self._store.write(functools.partial(apply_batch, tables=tables))
        except Exception:
            log.exception("batch of %d hits failed; retrying them one by one", len(batch))
            await self._commit_one_by_one(batch)
            return
        self.batches_committed += 1
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    async def _commit_one_by_one(self, batch: list[tuple[WriteItem, asyncio.Future[None]]]) -> None:
        # Isolates a bad row so it fails alone instead of failing everyone who shared its batch.
        for item, future in batch:
            try:
                await self._store.write(functools.partial(apply_batch, tables=prepare_batch([item])))
            except Exception as exc:  # reported to that request alone, which answers 500
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(None)


# --- what one batch does on the writer thread ----------------------------------------------------

# Every views column but duration_ms, which stays NULL until an unload arrives.
_VIEW_COLUMNS = tuple(name for name in VIEWS_COLUMNS if name != "duration_ms")


@dataclass(frozen=True, slots=True)
class _Schemas:
    views: pa.Schema
    events: pa.Schema
    durations: pa.Schema


@functools.cache
def _schemas() -> _Schemas:
    # pyarrow is imported with the first batch, not at start: it adds ~26 MB to an idle server's RSS
    # (issue 7), and the one-off import (~0.1 s) is paid by the first batch only.
    import pyarrow as pa

    timestamp = pa.timestamp("us", tz="UTC")
    views = pa.schema(
        [
            (name, pa.bool_() if name.startswith("is_") else timestamp if name == "date_created" else pa.string())
            for name in _VIEW_COLUMNS
        ]
    )
    events = pa.schema(
        [
            ("batch_id", pa.string()),
            ("group_name", pa.string()),
            ("name", pa.string()),
            ("value", pa.string()),
            ("date_created", timestamp),
            ("bid", pa.string()),
        ]
    )
    return _Schemas(views, events, pa.schema([("bid", pa.string()), ("duration_ms", pa.uint32())]))


def load_arrow() -> None:
    """Import pyarrow and build the batch schemas now (from a worker thread), not in the first batch on the loop."""
    _schemas()


# Names are fixed strings; every value travels in the registered Arrow tables, never in SQL text.
_COLUMN_LIST = ", ".join(_VIEW_COLUMNS)
_INSERT_VIEWS = f"INSERT INTO views ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM _batch_views"  # noqa: S608
_INSERT_EVENTS = (
    "INSERT INTO events (batch_id, group_name, name, value, date_created, bid) "
    "SELECT batch_id, group_name, name, value, date_created, bid FROM _batch_events"
)
_UPDATE_DURATIONS = "UPDATE views SET duration_ms = d.duration_ms FROM _batch_durations AS d WHERE views.bid = d.bid"


@dataclass(frozen=True, slots=True)
class BatchTables:
    """One batch as Arrow tables, built on the event loop so the writer thread only runs DuckDB."""

    views: pa.Table | None
    events: pa.Table | None
    durations: pa.Table | None


def prepare_batch(items: list[WriteItem]) -> BatchTables:
    """Turn a batch's items into Arrow tables (one per target) in column order."""
    import pyarrow as pa  # imported here, not at start: see _schemas

    schemas = _schemas()
    views = [item.view for item in items if item.view is not None]
    events = [item.events for item in items if item.events is not None and item.events.pairs]
    # Later unloads of the same bid overwrite earlier ones, as separate UPDATEs would.
    durations = dict(item.duration for item in items if item.duration is not None)
    view_table = None
    if views:
        columns = [[getattr(view, name) for view in views] for name in _VIEW_COLUMNS]
        view_table = pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, schemas.views, strict=True)], schema=schemas.views
        )
    event_table = None
    if events:
        rows = [
            (e.batch_id, e.group_name, name, value, e.date_created, e.bid) for e in events for name, value in e.pairs
        ]
        event_table = pa.Table.from_arrays(
            [pa.array(list(c), type=f.type) for c, f in zip(zip(*rows, strict=True), schemas.events, strict=True)],
            schema=schemas.events,
        )
    duration_table = None
    if durations:
        duration_table = pa.table(
            {"bid": list(durations), "duration_ms": list(durations.values())}, schema=schemas.durations
        )
    return BatchTables(view_table, event_table, duration_table)


def _checkpoint(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute("CHECKPOINT")


def apply_batch(cur: duckdb.DuckDBPyConnection, tables: BatchTables) -> None:
    """Write a batch in one transaction: insert views, insert events, then apply durations.

    Everything goes to DuckDB in a single `execute` whose statements read the Arrow tables through
    DuckDB's replacement scan of this frame's local names. Each separate call would have to win the
    GIL back from the busy event loop (up to a 5 ms switch interval each); one call needs it once.
    """
    _batch_views = tables.views  # read by name in the SQL below
    _batch_events = tables.events
    _batch_durations = tables.durations
    statements = [
        sql
        for table, sql in (
            (tables.views, _INSERT_VIEWS),
            (tables.events, _INSERT_EVENTS),
            (tables.durations, _UPDATE_DURATIONS),
        )
        if table is not None
    ]
    if not statements:
        return
    try:
        cur.execute(f"BEGIN TRANSACTION; {'; '.join(statements)}; COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
