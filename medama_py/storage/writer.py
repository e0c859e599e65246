"""Group-commit writer for ingestion: batches of hits are journaled, acknowledged, then applied to DuckDB.

Requests add rows and await their batch's commit, and the commit is an fsync'd append to the hit journal
(storage/journal.py), so a 204 means the hit is on disk [PostgreSQL group commit]. A batch closes when it
reaches `max_batch` items or `max_delay_ms` after its first item, whichever comes first; while one batch is
journaled the next one fills, so under load each fsync carries everything that arrived during the previous
one. Behind the journal, the apply task writes the journaled batches to DuckDB in transactions of up to
`max_apply` hits, each recording its journal position, on the store's single writer thread
(AnalyticsStore.write), never on the event loop. A checkpoint, which holds up every DuckDB commit, so delays
only when hits show in reads (and reads wait for it, `before_read`), not their answers.

Two bounds keep memory flat under sustained traffic:
- the backlog: past `max_pending` hits accepted and not yet in DuckDB a new hit is refused with 503 +
  Retry-After instead of queued, so a database that cannot keep up costs refusals, not memory (a refused
  hit was never acknowledged, so nothing acknowledged is lost);
- the WAL: DuckDB keeps every row written since the last checkpoint in memory as well as in the WAL,
  so the writer checkpoints between transactions by WAL size and by age (`CheckpointPolicy`), busy or not.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from medama_py.errors import AnalyticsReopening, ServiceUnavailable
from medama_py.storage.batch_check import apply_missing
from medama_py.storage.hit_batches import (
    ROW_ERRORS,
    TARGET_COLUMNS,
    Appenders,
    Batch,
    Journaled,
    WriteItem,
    apply_batch,
    apply_refusing_rows,
    batch_from_payload,
    batch_payload,
    merge_batches,
    prepare_batch,
)
from medama_py.storage.journal import (
    START,
    FlushStats,
    InDoubt,
    Journal,
    Position,
    create_applied,
    decode_payload,
    encode_payload,
    read_applied,
)
from medama_py.storage.row_check import RowCheck

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import duckdb

    from medama_py.model import EventRows, ViewRow
    from medama_py.storage.analytics import AnalyticsStore

T = TypeVar("T")
__all__ = [
    "DEFAULT_GATHER_ITEMS",
    "DEFAULT_GATHER_MS",
    "DEFAULT_MAX_APPLY",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_DELAY_MS",
    "DEFAULT_MAX_PENDING",
    "DRAIN_WAIT_S",
    "READ_WAIT_S",
    "CheckpointPolicy",
    "HitWriter",
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
# At most this many journaled hits go into one DuckDB transaction: after a checkpoint the backlog is applied
# in a few large transactions rather than one per journal record.
DEFAULT_MAX_APPLY = 8000
# Under steady traffic an apply transaction starts at most this often, unless `DEFAULT_GATHER_ITEMS` hits wait or a
# read waits for them (docs/architecture.md#a-hit): every transaction costs DuckDB ~8-13 ms of CPU whatever its size
# (each appender flush and statement is planned), which at ~370 hits a transaction was ~30 us per Umami hit.
DEFAULT_GATHER_MS = 200.0
DEFAULT_GATHER_ITEMS = 2000
# Steady traffic, for that rule: the previous transaction applied at least this many hits. Below it every journaled
# batch is applied at once, as a trickle of hits costs little either way.
_GATHER_AFTER_ITEMS = 64
# After a failed checkpoint the writer only commits for this long, rather than retry after every batch.
_CHECKPOINT_RETRY_S = 1.0
# DuckDB refuses a checkpoint while a report that began before the last apply is open (a dashboard's reports take
# ~100 ms, and every apply updates the journal position): the writer does not try then, and looks again this soon,
# after the next apply or two, for a moment between reports.
_CHECKPOINT_WAIT_S = 0.02
# Without such a moment for this long, new reads wait at the gate while the running ones get _HOLD_READS_S to end.
_CHECKPOINT_PATIENCE_S = 2.0
_HOLD_READS_S = 0.25
# When DuckDB cannot take journaled hits (out of memory, disk full), they wait in the journal this long.
_APPLY_RETRY_S = 1.0
# A read waits at most this long for the hits acknowledged before it to reach DuckDB (normally a few ms; up to
# a checkpoint's length while one runs), then reads without the rest: at 1 s, a 10-minute soak's query p99
# was that second (1,098 ms), so a report may lag a checkpoint rather than wait for all of it.
READ_WAIT_S = 0.25
# A rewrite of stored rows (a website renamed or deleted, a backup) waits at most this long for the hits
# acknowledged before it to reach DuckDB, so it covers them too.
DRAIN_WAIT_S = 30.0
# Whether the current task (asyncio copies the context into each task) has waited in `before_read` since it
# last added a hit.
_WAITED_IN_THIS_TASK: ContextVar[bool] = ContextVar("medama_waited_for_hits", default=False)
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

    A checkpoint that is due waits for a moment DuckDB allows it: not while a report that began before the last
    apply is open (`AnalyticsStore.checkpoint`); it is looked at again _CHECKPOINT_WAIT_S later, and after
    _CHECKPOINT_PATIENCE_S without such a moment new reads wait at the gate for the running ones to end.
    """

    # Busy or not, checkpoint once the WAL is this large (~10k views, ~2 s at 5,000 hits/s): small checkpoints
    # often (a median ~77 ms each) rather than 4 MB ones of up to ~0.7 s.
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

    # Journal records written (one per acknowledged batch) and DuckDB transactions that applied them.
    journaled: int = 0
    batches: int = 0
    checkpoints: int = 0
    # Checkpoints put off because a read that DuckDB would wait for was open, and those that held new reads back.
    checkpoints_deferred: int = 0
    checkpoints_holding_reads: int = 0
    # Due checkpoints that let one more apply go first, for reads waiting on it.
    checkpoints_after_reads: int = 0
    last_checkpoint_ms: float = 0.0
    longest_checkpoint_ms: float = 0.0
    refused: int = 0
    # Rows of acknowledged hits DuckDB refused at apply time (logged one by one); `refused_by_schema` keeps
    # the known causes out of the journal, so this stays 0 unless a new kind of bad value turns up.
    rejected: int = 0
    # After failed applies: transactions that applied journal records for the rows DuckDB lacked, and those rows.
    checked: int = 0
    checked_rows_applied: int = 0


class HitWriter:
    """Acknowledges hits once journaled (group commit), then applies the journal to DuckDB on the writer thread.

    Two tasks: the journal task closes batches, appends each to the journal (fsync on the journal's own thread)
    and answers its requests; the apply task takes every journaled batch waiting (up to `max_apply` items), writes
    them to DuckDB in one transaction with their journal position, and checkpoints between transactions.
    """

    def __init__(
        self,
        store: AnalyticsStore,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_delay_ms: float = DEFAULT_MAX_DELAY_MS,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_apply: int = DEFAULT_MAX_APPLY,
        gather_ms: float = DEFAULT_GATHER_MS,
        gather_items: int = DEFAULT_GATHER_ITEMS,
        checkpoints: CheckpointPolicy | None = None,
        read_wait_s: float = READ_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        journal_dir: Path | None = None,
        before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> None:
        if max_batch < 1 or max_delay_ms < 0 or max_pending < 1 or max_apply < 1:
            raise ValueError("max_batch, max_pending and max_apply must be >= 1 and max_delay_ms >= 0")
        self._store = store
        self._max_batch = max_batch
        self._max_delay = max_delay_ms / 1000
        self._max_pending = max_pending
        self._max_apply = max_apply
        self._gather = gather_ms / 1000
        self._read_wait = read_wait_s
        self._gather_items = min(gather_items, max_apply)
        # When the last apply transaction started, and how many hits it took (`_gathered_entries`).
        self._last_apply = float("-inf")
        self._last_apply_items = 0
        self._policy = checkpoints if checkpoints is not None else CheckpointPolicy()
        self._clock = clock
        self._last_checkpoint = clock()
        self._retry_at = 0.0
        self._deferred_since: float | None = None  # the first checkpoint put off for reads, since the last one ran
        # The last due checkpoint gave way to an apply that waiting reads needed (`_checkpoint_unless_reads_wait`), and
        # none has run since.
        self._checkpoint_put_off = False
        self.stats = WriterStats()
        self._pending: list[tuple[WriteItem, asyncio.Future[None]]] = []
        self._kick = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._appenders: Appenders | None = None
        self._generation = -1  # the store's generation the appenders were made in (storage/analytics.py)
        self._check: RowCheck | None = None
        self._journal = Journal(journal_dir if journal_dir is not None else Path(f"{store.path}.journal"))
        self._journal_thread: ThreadPoolExecutor | None = None
        self._unapplied: deque[Journaled] = deque()
        self._unapplied_items = 0
        self._journaled = START  # where the last acknowledged record ends
        self._applied = START  # where the last record applied to DuckDB ends
        # Where the last record ends whose apply failed or that DuckDB's position claims after one: the records up to
        # here are applied by checking which of their rows the database holds (storage/batch_check.py).
        self._in_doubt = START
        # The same records, named durably since a COMMIT raised, until they are checked (storage/journal.InDoubt).
        self._doubt = InDoubt(self._journal.directory)
        self._doubt_marked = False
        self._apply_kick = asyncio.Event()
        self._apply_task: asyncio.Task[None] | None = None
        self._journal_done = False
        self._settled: list[tuple[Position, asyncio.Future[None]]] = []
        self._position_table = False
        # Runs on the writer thread inside every apply transaction, just before its COMMIT: where tests make DuckDB's
        # COMMIT fail half-way (tests/storage/test_failed_commit.py).
        self._before_commit = before_commit

    async def start(self) -> None:
        """Replay what the journal holds past DuckDB's applied position, then start both tasks on the running loop."""
        if self._task is not None:
            return
        self._stopping = self._journal_done = False
        applied = await self._store.write(self._take_store, noted=True)
        self._check = await self._store.write(functools.partial(RowCheck, columns=TARGET_COLUMNS), noted=True)
        self._applied, self._position_table = (START, False) if applied is None else (applied, True)
        self._journal_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hit-journal")
        marked = await self._in_journal_thread(self._doubt.read)
        since = self._applied if marked is None else min(self._applied, marked[0])
        records = await self._in_journal_thread(self._journal.open, since)
        for record in records:
            journaled = batch_from_payload(record.end, decode_payload(record.payload))
            self._unapplied.append(journaled)
            self._unapplied_items += journaled.items
        self._journaled = records[-1].end if records else self._applied
        if marked is not None:
            await self._doubt_at_start(since, marked[1])
        if records:
            log.info(
                "replaying %d journal records (%d hits) not yet in the database", len(records), self._unapplied_items
            )
        self._last_checkpoint = self._clock()
        self._store.read_barrier = self.before_read
        self._task = asyncio.create_task(self._run(), name="hit-journal")
        self._apply_task = asyncio.create_task(self._apply_loop(), name="hit-apply")

    async def stop(self) -> None:
        """Journal and apply everything pending, then stop; later adds are refused.

        Should DuckDB refuse the last batches, they stay in the journal and are applied at the next start.
        """
        self._stopping = True
        self._kick.set()
        if self._task is not None:
            await self._task
            self._task = None
        self._journal_done = True
        self._apply_kick.set()
        if self._apply_task is not None:
            await self._apply_task
            self._apply_task = None
        self._store.read_barrier = None
        self._wake_settled(force=True)
        if self._journal_thread is not None:
            await self._in_journal_thread(self._journal.close, None if self._unapplied else self._applied)
            self._journal_thread.shutdown(wait=True)
            self._journal_thread = None

    @property
    def journal_flushes(self) -> FlushStats:
        """The hit journal's fdatasyncs since start (each hit's answer waited for one)."""
        return self._journal.flushes

    @property
    def pending(self) -> int:
        """Hits accepted and not yet in DuckDB: waiting for the journal, or journaled and waiting to be applied."""
        return len(self._pending) + self._unapplied_items

    async def before_read(self) -> None:
        """What a read waits for first: the hits acknowledged so far, once per task (an HTTP request is one).

        A report runs several reads; it must count every hit acknowledged before it was asked, and its reads
        must agree with one another, so only its first read waits. A task that adds hits itself (a test, an
        import) waits again at its next read: `_submit` forgets what it has waited for.
        """
        if _WAITED_IN_THIS_TASK.get():
            return
        await self.settled()
        _WAITED_IN_THIS_TASK.set(True)

    async def settled(self, timeout: float | None = None) -> None:
        """Wait (at most `timeout`, else `read_wait_s`) until every hit acknowledged so far is in DuckDB."""
        target = self._journaled
        if self._applied >= target:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._settled.append((target, future))
        self._apply_kick.set()  # no more gathering (`_gathered_entries`): a read waits
        await asyncio.wait([future], timeout=self._read_wait if timeout is None else timeout)

    # These queue the write and return its acknowledgement to await: plain functions returning the future, so a
    # request awaits it itself rather than through one more coroutine resumed per hit. Each raises
    # ServiceUnavailable (503) instead of queueing when `max_pending` hits already wait for DuckDB.

    def add_view(self, view: ViewRow, events: EventRows | None = None) -> asyncio.Future[None]:
        """Store a page view and its load properties; the future completes once they are journaled."""
        return self._submit(WriteItem(view=view, events=events))

    def set_duration(self, bid: str, duration_ms: int, at: datetime | None = None) -> asyncio.Future[None]:
        """Set duration_ms on the views with this beacon id; the future completes once journaled.

        With `at` (when the unload arrived) only views stored since `at - duration_ms - DURATION_SLACK` are
        searched, which keeps the update's cost to the newest row groups instead of the whole table.
        """
        return self._submit(WriteItem(duration=(bid, duration_ms), duration_at=at))

    def add_events(self, events: EventRows) -> asyncio.Future[None]:
        """Store custom-event properties; the future completes once they are journaled."""
        return self._submit(WriteItem(events=events))

    def add_umami_hit(self, item: WriteItem) -> asyncio.Future[None]:
        """Store the writes of one Umami-protocol hit together; the future completes once they are journaled."""
        return self._submit(item)

    def _submit(self, item: WriteItem) -> asyncio.Future[None]:
        if self._stopping or self._task is None:
            raise RuntimeError("hit writer is not running")
        if len(self._pending) + self._unapplied_items >= self._max_pending:
            self.stats.refused += 1
            raise ServiceUnavailable(_BUSY)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        _WAITED_IN_THIS_TASK.set(False)
        problem = self._check.problem(item) if self._check is not None else None
        if problem is not None:  # never journaled: DuckDB would refuse it after the answer
            future.set_exception(problem)
            return future
        self._pending.append((item, future))
        if len(self._pending) >= self._max_batch:
            self._kick.set()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._max_delay, self._kick.set)
        return future

    def _in_journal_thread(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
        if self._journal_thread is None:
            raise RuntimeError("hit writer is not running")
        return asyncio.get_running_loop().run_in_executor(self._journal_thread, fn, *args)

    # --- the journal task: batches in, acknowledgements out ---------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._kick.wait()
            self._kick.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._journal_batch(batch)
                # Whatever arrived meanwhile has already waited one fsync: journal it at once.
            if self._stopping:
                return

    async def _journal_batch(self, batch: list[tuple[WriteItem, asyncio.Future[None]]]) -> None:
        prepared = prepare_batch([item for item, _ in batch])
        try:
            end = await self._in_journal_thread(self._append, prepared, len(batch))
        except OSError:
            log.exception("could not journal a batch of %d hits; refused with 503", len(batch))
            _finish(batch, ServiceUnavailable(_BUSY))
            return
        except Exception as exc:  # not the disk: a bug, reported to these requests alone (500)
            log.exception("could not journal a batch of %d hits", len(batch))
            _finish(batch, exc)
            return
        self._journaled = end
        self.stats.journaled += 1
        self._unapplied.append(Journaled(end, prepared, len(batch)))
        self._unapplied_items += len(batch)
        _finish(batch, None)
        self._apply_kick.set()

    def _append(self, batch: Batch, items: int) -> Position:
        # On the journal thread: pickling a batch of 2,000 hits takes a few ms, the fsync ~0.5 ms (more when busy).
        return self._journal.append(encode_payload(batch_payload(batch, items)))

    # --- the apply task: journal into DuckDB, checkpoints between -----------------------------------------

    async def _apply_loop(self) -> None:
        while True:
            if not self._unapplied:
                if self._journal_done:
                    return
                self._apply_kick.clear()  # a read's kick (`settled`) for hits applied since: new hits set it again
                if not await self._wait_for_work():
                    await self._checkpoint()
                continue
            self._apply_kick.clear()
            if self._generation != self._store.generation:  # an apply failed, or the store reopened its file
                if await self._resync():
                    continue
            elif await self._apply(await self._gathered_entries()):
                # Under continuous traffic the journal never empties: the WAL is bounded here, between transactions.
                if self._checkpoint_due(self._store.wal_bytes()):
                    await self._checkpoint_unless_reads_wait()
                continue
            if self._journal_done:
                return  # stopping: what DuckDB refused stays in the journal for the next start
            await asyncio.sleep(_APPLY_RETRY_S)

    async def _gathered_entries(self) -> list[Journaled]:
        """The next transaction's records (`_next_entries`), once journaled hits have gathered under steady traffic.

        After a transaction of at least _GATHER_AFTER_ITEMS hits the next one starts `gather_ms` after it started, or
        at once when `gather_items` hits wait, a read waits for them (`settled`) or the writer stops. After a smaller
        one (a trickle of hits) it starts at once. What gathers is journaled and acknowledged already: only its
        arrival in DuckDB waits.
        """
        due = self._last_apply + self._gather
        steady = self._last_apply_items >= _GATHER_AFTER_ITEMS
        while steady and self._unapplied_items < self._gather_items and not self._settled and not self._journal_done:
            wait = due - self._clock()
            if wait <= 0:
                break
            self._apply_kick.clear()
            try:
                await asyncio.wait_for(self._apply_kick.wait(), wait)
            except TimeoutError:
                break
        self._last_apply = self._clock()
        self._last_apply_items = self._unapplied_items
        return self._next_entries()

    async def _resync(self) -> bool:
        """After a failed apply, or the store reopening its file: fresh appenders, and no batch applied twice or lost.

        A batch whose apply failed may have committed all of it, none, or a part (a COMMIT that failed half-way left
        the journal position of `medama_py_journal` without the batch's views). The position is not trusted alone:
        every batch up to it, or up to the last failed one, is applied again for the rows the database lacks.
        False while the store cannot be used (tried again after _APPLY_RETRY_S).
        """
        try:
            applied = await self._store.write(self._take_store, noted=True)
        except ServiceUnavailable:
            return False
        except Exception:
            log.warning("could not take the reopened analytics database; retrying", exc_info=True)
            return False
        if applied is not None and applied < self._applied:  # DuckDB lost committed transactions: never seen
            log.error("the database holds the hit journal up to %s, not %s", applied, self._applied)
        elif applied is not None:
            self._in_doubt = max(self._in_doubt, applied)
        return True

    async def _doubt_at_start(self, since: Position, marked_through: Position) -> None:
        """A COMMIT raised before the last stop: the records it named, and those DuckDB's position claims, are checked.

        The position alone may claim records whose rows the file lacks (storage/journal.InDoubt).
        """
        claimed = max(self._applied, marked_through)
        doubted = [entry.end for entry in self._unapplied if entry.end <= claimed]
        if not doubted:  # checked before the stop, or no longer on disk: nothing to doubt
            await self._in_journal_thread(self._doubt.clear, claimed)
            return
        self._applied, self._in_doubt, self._doubt_marked = since, doubted[-1], True
        await self._in_journal_thread(functools.partial(self._doubt.mark, since, doubted[-1], widen=False))
        log.warning("a COMMIT raised before the last stop: %d journal records are checked against DuckDB", len(doubted))

    def _take_store(self, cur: duckdb.DuckDBPyConnection) -> Position | None:
        """Writer thread: appenders on `cur` for the store's current generation; the journal position applied."""
        self._appenders, self._generation = Appenders(cur), self._store.generation
        return read_applied(cur)

    def _next_entries(self) -> list[Journaled]:
        """The next records to apply in one transaction: never records in doubt together with others."""
        entries: list[Journaled] = []
        items = 0
        checked = self._unapplied[0].end <= self._in_doubt
        for entry in self._unapplied:
            if entries and (items + entry.items > self._max_apply or (entry.end <= self._in_doubt) != checked):
                break
            entries.append(entry)
            items += entry.items
        return entries

    def _applied_through(self, entries: list[Journaled]) -> None:
        for _ in entries:
            self._unapplied_items -= self._unapplied.popleft().items
        previous, self._applied = self._applied, entries[-1].end
        self.stats.batches += 1
        if self._doubt_marked and self._applied >= self._in_doubt:
            self._doubt_marked = False
            self._doubt.clear(self._applied)
        self._wake_settled()
        if self._applied.segment > previous.segment:
            self._in_journal_thread(self._journal.release, self._applied).add_done_callback(_log_failure)

    def _wake_settled(self, *, force: bool = False) -> None:
        waiting = []
        for target, future in self._settled:
            if force or target <= self._applied:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((target, future))
        self._settled = waiting

    async def _wait_for_work(self) -> bool:
        """Wait for journaled batches; False when a quiet spell (or the policy's age limit) calls for a checkpoint."""
        wal = self._store.wal_bytes()
        if self._apply_kick.is_set() or wal == 0:
            await self._apply_kick.wait()
            return True
        if self._checkpoint_due(wal):
            return False
        now = self._clock()
        timeout = self._policy.interval_seconds - (now - self._last_checkpoint)
        if wal >= self._policy.quiet_bytes:
            timeout = min(timeout, self._policy.quiet_seconds)
        if self._deferred_since is not None:  # a checkpoint waits for a moment between reads: look again soon
            timeout = min(timeout, _CHECKPOINT_WAIT_S)
        try:
            await asyncio.wait_for(self._apply_kick.wait(), max(timeout, self._retry_at - now))
        except TimeoutError:
            return False
        return True

    def _checkpoint_due(self, wal: int) -> bool:
        now = self._clock()
        return now >= self._retry_at and self._policy.due(wal, now - self._last_checkpoint)

    async def _checkpoint_unless_reads_wait(self) -> None:
        """A checkpoint due after an apply, unless reads wait for hits journaled meanwhile: one apply goes first.

        Those reads (`settled`) would otherwise wait for the whole checkpoint and then that apply (up to READ_WAIT_S).
        Only once in a row, so the WAL grows by one transaction at most past the policy's size.
        """
        if self._settled and not self._checkpoint_put_off:
            self._checkpoint_put_off = True
            self.stats.checkpoints_after_reads += 1
            return
        self._checkpoint_put_off = False
        await self._checkpoint()

    async def _checkpoint(self) -> None:
        started = self._clock()
        patience_out = self._deferred_since is not None and started - self._deferred_since >= _CHECKPOINT_PATIENCE_S
        try:
            done = await self._store.checkpoint(hold_reads=_HOLD_READS_S if patience_out else 0.0)
        except ServiceUnavailable:  # the store is reopening its file after a fatal error (it logs that)
            self._retry_at = self._clock() + _CHECKPOINT_RETRY_S
            return
        except Exception:  # DuckDB refused (e.g. out of memory): commits go on, the next try comes later
            log.warning("checkpoint failed; retrying in %.0f s", _CHECKPOINT_RETRY_S, exc_info=True)
            self._retry_at = self._clock() + _CHECKPOINT_RETRY_S
            return
        if not done:
            self.stats.checkpoints_deferred += 1
            self._deferred_since = started if self._deferred_since is None else self._deferred_since
            self._retry_at = self._clock() + _CHECKPOINT_WAIT_S
            return
        self.stats.checkpoints_holding_reads += patience_out
        self._deferred_since = None
        self._checkpoint_put_off = False  # whichever way it ran, the next due one may give way to waiting reads again
        elapsed_ms = (self._clock() - started) * 1000
        self.stats.checkpoints += 1
        self.stats.last_checkpoint_ms = elapsed_ms
        self.stats.longest_checkpoint_ms = max(self.stats.longest_checkpoint_ms, elapsed_ms)
        self._last_checkpoint = self._clock()

    async def _apply(self, entries: list[Journaled]) -> bool:
        """Apply journaled batches in one transaction; False when DuckDB cannot take them now (retry later)."""
        batch = entries[0].batch if len(entries) == 1 else merge_batches([entry.batch for entry in entries])
        try:
            if not self._position_table:
                await self._store.write(create_applied, noted=True)
                self._position_table = True
            try:
                if entries[-1].end <= self._in_doubt:
                    await self._apply_checked(entries, batch)
                else:
                    await self._write(
                        apply_batch, batch=batch, applied=entries[-1].end, before_commit=self._before_commit
                    )
            except ROW_ERRORS:
                if self._appenders is not None and self._appenders.commit_failed:
                    raise  # not a row's fault: the COMMIT failed, and what it left is checked (`_failed`)
                if len(entries) > 1:  # find the record holding the refused row: one record at a time, in order
                    for entry in entries:
                        if not await self._apply([entry]):
                            return False
                    return True
                await self._apply_without_refused_rows(entries[0])
        except ServiceUnavailable:  # the store is reopening its file (it logs that); the journal keeps it all
            self._failed(entries)
            return False
        except Exception:  # out of memory, disk full, ...: the journal keeps it all
            items = sum(entry.items for entry in entries)
            log.warning("DuckDB could not take %d journaled hits; retrying", items, exc_info=True)
            self._failed(entries)
            return False
        self._applied_through(entries)
        return True

    def _failed(self, entries: list[Journaled]) -> None:
        # A COMMIT that raised may have committed all of it (seen: OutOfMemoryException from commit() at 32 MB, and
        # the retry stored 100 views twice) or a part ("failed to pin block": the position without the views).
        # The next try resyncs, then applies these records for what the database lacks (`_apply_checked`). A failure
        # before the COMMIT was rolled back whole: those are applied as usual, without the check's extra statements
        # at a moment DuckDB is short of memory.
        self._generation = -1
        if self._appenders is not None and self._appenders.commit_failed:
            self._appenders.commit_failed = False
            self._in_doubt = max(self._in_doubt, entries[-1].end)
            self._doubt_marked = True  # and marked on the writer thread when the COMMIT raised (`_with_appenders`)

    async def _apply_checked(self, entries: list[Journaled], batch: Batch) -> None:
        checked = await self._write(
            apply_missing, batch=batch, applied=entries[-1].end, before_commit=self._before_commit
        )
        self.stats.checked += 1
        self.stats.checked_rows_applied += checked.applied
        log.warning(
            "%d journal records whose apply failed: %d of their rows were in DuckDB, %d applied now",
            len(entries), checked.held, checked.applied,
        )  # fmt: skip

    async def _apply_without_refused_rows(self, entry: Journaled) -> None:
        refused = await self._write(apply_refusing_rows, batch=entry.batch, applied=entry.end)
        self.stats.rejected += len(refused)
        for row in refused[:10]:
            log.error("an acknowledged hit's row was refused by DuckDB and is not stored: %r", row)

    async def _write(self, fn: Callable[..., T], *, applied: Position, **kwargs: object) -> T:
        """Run `fn` on the writer thread for the records after `self._applied` up to `applied`."""
        if self._appenders is None:
            raise RuntimeError("hit writer is not running")
        write = functools.partial(self._with_appenders, fn, (self._applied, applied), kwargs)
        return await self._store.write(write, noted=True, small=True)

    def _with_appenders(
        self,
        fn: Callable[..., T],
        records: tuple[Position, Position],
        kwargs: dict[str, object],
        cur: duckdb.DuckDBPyConnection,
    ) -> T:
        # Writer thread. After a reopen the appenders belong to a closed connection, and the file may hold this
        # batch already: nothing is applied until the apply task has resynced (`_resync`).
        appenders = self._appenders
        if appenders is None or self._generation != self._store.generation:
            raise AnalyticsReopening
        try:
            return fn(cur, appenders=appenders, rollups=self._store.rollups, applied=records[1], **kwargs)
        except BaseException:
            if appenders.commit_failed:
                self._mark_in_doubt(*records)
            raise

    def _mark_in_doubt(self, after: Position, through: Position) -> None:
        # Writer thread, right after a COMMIT raised and before the store reacts to it: its reopen would write what the
        # COMMIT left (the position without the rows) to the file, and a crash then could not tell that batch was lost.
        try:
            self._doubt.mark(after, through)
        except OSError:
            log.exception("could not mark journal records up to %s as in doubt; a crash before their check loses them",
                          through)  # fmt: skip


def _finish(batch: list[tuple[WriteItem, asyncio.Future[None]]], error: BaseException | None) -> None:
    for _, future in batch:
        if future.done():  # the request went away
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _log_failure(future: asyncio.Future[None]) -> None:
    if (error := future.exception()) is not None:
        log.warning("could not delete applied journal segments: %s", error)
