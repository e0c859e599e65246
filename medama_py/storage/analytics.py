"""DuckDB analytics store: one connection, reads on cursors in worker threads, writes on one writer thread.

DuckDB is synchronous. Reads run on fresh cursors in a bounded thread pool so a long stats query never
blocks the event loop; every write goes through a single-thread executor, which is the only writer.

A fatal DuckDB error (a checkpoint the disk refused, a ROLLBACK that found no memory) invalidates the whole
database instance: every later statement fails until the file is opened again. The store then closes the
connection and every cursor and opens the file again on the writer thread (DuckDB replays its WAL), so the
server keeps running; meanwhile reads answer 503 (docs/architecture.md#failures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import anyio
import anyio.to_thread
import duckdb

from medama_py.errors import AnalyticsReopening, ServiceUnavailable
from medama_py.storage.analytics_file import (
    STORAGE_COMPATIBILITY,
    configure_database,
    create_analytics_schema,
    invalidated,
    is_fatal,
    open_analytics_file,
    set_up_cursor,
)
from medama_py.storage.block_cache import IDLE_S, TRIM_EVERY_S, BlockCache, duckdb_memory_bytes
from medama_py.storage.cpu_priority import lower_this_thread
from medama_py.storage.limits import DuckDBLimits, limits_for_host
from medama_py.storage.rollups import Rollups, create_rollup_tables

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

__all__ = ["REOPEN_RETRY_S", "AnalyticsStore"]

log = logging.getLogger(__name__)

T = TypeVar("T")


# Parallel stats queries share the machine with ingestion; DuckDB parallelises each query internally.
_READ_THREADS = 4

# DuckDB checkpoints by itself inside the commit that takes the WAL past this size, and that commit then
# stalls every hit waiting on it. The hit writer checkpoints long before, by WAL size and by time
# (storage/writer.py); this is only the backstop should it fall behind. Rows not yet checkpointed stay in
# memory, so it also bounds that memory (~100 bytes of WAL and ~150 bytes of memory per view).
AUTO_CHECKPOINT_BYTES = 32 * 1024 * 1024

# DuckDB's message for a write-write conflict (a TransactionException; there is no class of its own).
_CONFLICT = "Conflict on "
# After a reopen that failed (the disk still full), the next write or read tries again after this long.
REOPEN_RETRY_S = 1.0

_OUT_OF_MEMORY = "the query needs more memory than the analytics database may use (-memorylimit); try a shorter period"


class AnalyticsStore:
    """Owns the DuckDB connection of the analytics file."""

    def __init__(self, path: str, limits: DuckDBLimits | None = None) -> None:
        self.path = path
        self.limits = limits if limits is not None else limits_for_host()
        self._read_steps = self.limits.read_steps()
        self._conn: duckdb.DuckDBPyConnection | None = None
        # Below the event loop's CPU priority, as is every thread it makes: DuckDB's workers (storage/cpu_priority.py).
        self._writer = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="duckdb-writer", initializer=lower_this_thread
        )
        self._write_cursor: duckdb.DuckDBPyConnection | None = None
        self._read_limiter = anyio.CapacityLimiter(_READ_THREADS)
        self._local = threading.local()
        # What the writes since each rollup build made stale (storage/rollups.py); `write` keeps it told.
        self.rollups = Rollups()
        # DuckDB's cache of file blocks, trimmed when it is not worth its memory (storage/block_cache.py).
        self.cache = BlockCache(self.limits.memory_bytes)
        # Awaited before every read: the hit writer waits there until the hits it has acknowledged are applied
        # (storage/writer.py), so a report asked after a hit's answer counts it.
        self.read_barrier: Callable[[], Awaitable[None]] | None = None
        # Bumped whenever the connection closes after a failure: cursors made before belong to a closed instance.
        self.generation = 0
        # Reopens that succeeded since start (shown by /api/user/usage).
        self.recoveries = 0
        self._reopening = False
        self._failed_at: float | None = None  # the last failed reopen, while the file is not open again
        self._failure = ""  # the fatal error that made the store reopen its file, for the log
        self._recovery_asked = False
        self._rollback_owed = False  # a failed write's transaction is still open on the write cursor
        self._cursors_lock = threading.Lock()
        # Interrupted when the file is reopened. Weak: a worker thread that ends (anyio retires a thread idle for
        # 10 s) drops its thread-local cursor, and DuckDB frees that connection's state with it; a strong set kept
        # every retired thread's cursor open for the life of the process.
        self._read_cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
        # Read cursors a fatal error left in a transaction, closed on the writer thread (`_close_parked`).
        self._parked: list[duckdb.DuckDBPyConnection] = []

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        if self._conn is None:
            if self._failed_at is not None or self._reopening:
                raise AnalyticsReopening
            raise RuntimeError("analytics store is not open")
        return self._conn

    def open(self) -> None:
        """Open (or create) the file, load ICU for time zone functions and ensure the schema.

        On the writer thread, as a reopen is: DuckDB's worker threads start with its lower CPU priority.
        """
        self._writer.submit(self._connect).result()

    def _connect(self) -> None:
        conn = open_analytics_file(self.path, self._config())
        try:
            # ICU ships inside the DuckDB wheel; LOAD never needs the network (INSTALL would).
            conn.execute("LOAD icu")
            conn.execute("SET TimeZone = 'UTC'")
            configure_database(conn)
            create_analytics_schema(conn)
            create_rollup_tables(conn)
            write_cursor = conn.cursor()
            set_up_cursor(write_cursor, self.path)
        except BaseException:
            conn.close()
            raise
        self._conn, self._write_cursor = conn, write_cursor

    def _config(self) -> dict[str, str | bool | int | float | list[str]]:
        config: dict[str, str | bool | int | float | list[str]] = {
            "storage_compatibility_version": STORAGE_COMPATIBILITY,
            "checkpoint_threshold": f"{AUTO_CHECKPOINT_BYTES}B",
            # A query over the limit first spills its sorts and hash tables to disk, next to the file, and
            # fails with OutOfMemoryException (answered 503 by `read`) only when even that is not enough.
            "memory_limit": f"{self.limits.memory_bytes}B",
            "threads": self.limits.threads,
        }
        if self.path != ":memory:":
            config["temp_directory"] = f"{self.path}.tmp"
        return config

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """Return a new cursor for use on the calling thread only."""
        cur = self.conn.cursor()
        set_up_cursor(cur, self.path)
        return cur

    def _read_cursor(self) -> duckdb.DuckDBPyConnection:
        # One cursor per worker thread: cursors are cheap but not free, and must not be shared across threads.
        # A cursor of an earlier generation was closed with its connection: the thread takes a new one.
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cur is None or self._local.generation != self.generation:
            lower_this_thread()  # a report's thread, and DuckDB's parallel work on it (storage/cpu_priority.py)
            cur = self.cursor()
            self._local.cursor, self._local.generation = cur, self.generation
            with self._cursors_lock:
                self._read_cursors.add(cur)
        return cur

    async def read(
        self,
        fn: Callable[[duckdb.DuckDBPyConnection], T],
        *,
        settled: bool = True,
        memory_bytes: int | None = None,
    ) -> T:
        """Run `fn(cursor)` on a worker thread and return its result without blocking the event loop.

        Unless `settled` is False, first wait for the hits acknowledged so far to be applied (`read_barrier`).
        With `memory_bytes` (a whole-site export), DuckDB's limit is lowered to it while `fn` runs, so the
        blocks `fn` reads are evicted as it goes, and what stays cached is handed back when it ends
        (storage/block_cache.py). Any other read runs under the limits' `read_bytes` the same way, when they have
        one (a small limit: storage/limits.py). A read that meets such a lower limit (its own or an export's) runs
        again under a wider one: twice the read limit while that is under the full one (`DuckDBLimits.read_steps`),
        then the full one.

        Raises:
            ServiceUnavailable: the query did not fit in DuckDB's memory limit, even spilling to disk.
        """
        if settled and self.read_barrier is not None:
            await self.read_barrier()
        self._refuse_while_reopening()
        if memory_bytes is None:
            return await self._read_fitting(fn, self._read_steps)
        try:
            return await self._read_fitting(fn, (memory_bytes,))
        finally:
            # What the export read stays cached (up to its lower limit) and no report reads it again: handed back
            # now, not at the next idle moment. An export started right after another one otherwise began on
            # top of the first one's cache (bench/data.py: CSV peak 325 MB straight after Parquet).
            await self.trim_cache_or_log("an export")

    async def _read_fitting(self, fn: Callable[[duckdb.DuckDBPyConnection], T], steps: tuple[int, ...]) -> T:
        """`fn` in a snapshot under each lower limit of `steps` in turn while it meets them, then under the full one.

        Under the full limit an out-of-memory is a 503, unless the limit changed while `fn` ran (another read or an
        export lowered it): then `fn` runs once more.
        """
        attempts: list[int | None] = [*steps, None, None]
        for attempt, memory_bytes in enumerate(attempts):
            epoch = self.cache.epoch
            try:
                return await self._run_read(fn, memory_bytes)
            except duckdb.OutOfMemoryException as exc:
                try:
                    widened = await self._run_read(self.cache.widen, None)
                except duckdb.OutOfMemoryException:
                    widened = False  # even the new cursor or its BEGIN found no memory (seen at -memorylimit 32MB)
                full_limit_met = memory_bytes is None and not widened and self.cache.epoch == epoch
                if full_limit_met or attempt == len(attempts) - 1:
                    log.warning("analytics query over the memory limit: %s", exc)
                    raise ServiceUnavailable(_OUT_OF_MEMORY) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _run_read(self, fn: Callable[[duckdb.DuckDBPyConnection], T], memory_bytes: int | None) -> T:
        def run() -> T:
            return self._in_snapshot(fn, memory_bytes)

        return await anyio.to_thread.run_sync(run, limiter=self._read_limiter)

    def _in_snapshot(self, fn: Callable[[duckdb.DuckDBPyConnection], T], memory_bytes: int | None) -> T:
        with self.cache.reading(), self._failures_as_reopening():
            return self._snapshot(fn, memory_bytes)

    def run_on_cursor(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`fn(a new cursor)` on the calling worker thread, outside a snapshot (a backup's ATTACH and COPY).

        Counted as a read, so a reopen after a fatal error interrupts it and waits for it rather than closing the
        connection under it; meanwhile it raises AnalyticsReopening (503).
        """
        self._refuse_while_reopening()
        with self.cache.reading(), self._failures_as_reopening():
            cur = self.cursor()
            with self._cursors_lock:
                self._read_cursors.add(cur)
            try:
                return fn(cur)
            finally:
                with self._cursors_lock:
                    self._read_cursors.discard(cur)
                with contextlib.suppress(duckdb.Error):
                    cur.close()

    @contextlib.contextmanager
    def _failures_as_reopening(self) -> Iterator[None]:
        """Around a read: a fatal error asks for a reopen, and it and a reopen's interrupt are 503s."""
        try:
            yield
        except duckdb.InterruptException as exc:
            # A reopen interrupts the reads it waits for (`_interrupt_reads`) and stays `_reopening` until they
            # have ended; any other interrupt belongs to whoever made it.
            if self._reopening:
                raise AnalyticsReopening from exc
            raise
        except duckdb.Error as exc:
            if not is_fatal(exc):
                raise
            # No reopen runs while a read does (it waits for reads), so the generation is the failed one's.
            self._ask_recovery(self.generation, exc)
            if invalidated(exc):
                raise AnalyticsReopening from exc
            raise

    def _snapshot(self, fn: Callable[[duckdb.DuckDBPyConnection], T], memory_bytes: int | None) -> T:
        # One transaction, so every statement of a report sees the same rows: a report reading the views twice
        # (e.g. duration bins, then the durations inside a bin) would otherwise see the hits committed between
        # its statements, and fail on bins that changed under it (seen in bench/soak.py).
        cur = self._read_cursor()
        bounded = memory_bytes is not None and self.cache.bound(cur, memory_bytes)
        try:
            # Inside the try: a BEGIN that ran out of memory can leave its transaction open and aborted, and every
            # later read on this thread then failed with "Current transaction is aborted" (bench/recovery.py).
            cur.begin()
            return fn(cur)
        finally:
            self._end_snapshot(cur)
            if bounded:
                self.cache.widen(self.cursor())

    def _end_snapshot(self, cur: duckdb.DuckDBPyConnection) -> None:
        # Read-only: nothing to keep. Under memory pressure even this ROLLBACK can fail (OutOfMemoryException),
        # which leaves the cursor inside its aborted transaction, and every later read on this thread would
        # fail with "Current transaction is aborted" (a 500, seen at -memorylimit 32MB during a rollup build).
        # The read's own answer or error stands; the thread takes a new cursor next time.
        try:
            cur.rollback()
        except duckdb.Error as exc:
            # Quiet when no transaction was open (its BEGIN failed) or the reopen it asks for logs the one warning.
            if not (isinstance(exc, duckdb.TransactionException) or is_fatal(exc)):
                log.warning("a read's rollback failed (%s); its cursor is replaced", exc)
            self._local.cursor = None
            with self._cursors_lock:
                self._read_cursors.discard(cur)
                if is_fatal(exc):
                    # Not closed here: two reads closing theirs at once on a database DuckDB had given up crashed
                    # the process inside DuckDB (a segfault, bench/recovery.py at 32 MB, during a reopen).
                    self._parked.append(cur)
            if is_fatal(exc):
                self._ask_recovery(self.generation, exc)
                return
            with contextlib.suppress(duckdb.Error):
                cur.close()

    def write_sync(self, fn: Callable[[duckdb.DuckDBPyConnection], T], *, noted: bool = False) -> T:
        """Run `fn(write_cursor)` on the writer thread and wait for it (for threads other than the loop)."""
        return self._writer.submit(self._run_write, fn, noted, True, False).result()

    async def write(
        self,
        fn: Callable[[duckdb.DuckDBPyConnection], T],
        *,
        noted: bool = False,
        changes: bool = True,
        small: bool = False,
    ) -> T:
        """Run `fn(write_cursor)` on the single writer thread; every analytics write goes through here.

        Unless `noted` (fn tells `rollups` itself what it changes, or changes no views), every rollup built so
        far is taken as stale before fn runs: renames, deletions and retention are rare, and exactness is not.
        Without `changes` (a checkpoint, a trim), reads that begin before it do not hold up the next checkpoint.
        A write runs under DuckDB's full memory limit even while a read has lowered it (`BlockCache.full_limit`),
        unless it is `small` (an apply of hits: its caller retries one that met the lower limit) and the WAL is
        too short for its COMMIT to checkpoint.
        """
        return await asyncio.wrap_future(self._writer.submit(self._run_write, fn, noted, changes, small))

    def _run_write(self, fn: Callable[[duckdb.DuckDBPyConnection], T], noted: bool, changes: bool, small: bool) -> T:
        if self._write_cursor is None and self._failed_at is not None:
            self._reopen()  # the last try failed: this write tries again (at most every REOPEN_RETRY_S)
        cur = self._write_cursor
        if cur is None:
            if self._failed_at is not None:
                raise AnalyticsReopening
            raise RuntimeError("analytics store is not open")
        if self._rollback_owed:
            self._roll_back_failed_write(cur, before_next=True)
        if not noted:
            self.rollups.note_everything()
        generation = self.generation
        # Applies of hits keep a read's lower limit while they can, or every read would lose it at 5,000 hits/s.
        shares_read_limit = small and self.wal_bytes() < AUTO_CHECKPOINT_BYTES // 2
        try:
            with contextlib.nullcontext() if shares_read_limit else self.cache.full_limit(cur):
                return fn(cur)
        except duckdb.OutOfMemoryException:
            # An export's lower limit: back to the full one, so the caller's retry (the hit writer's, the rollup
            # job's) finds it.
            self.cache.widen(cur)
            self._roll_back_failed_write(cur)
            raise
        except BaseException as exc:
            if self._failed_write_reopened(cur, generation, exc):
                raise AnalyticsReopening from exc
            raise
        finally:
            self.cache.wrote(changes=changes)

    def _failed_write_reopened(self, cur: duckdb.DuckDBPyConnection, generation: int, exc: BaseException) -> bool:
        """After a write failed: True when the file was (or is being) opened again, so its caller answers 503."""
        if is_fatal(exc):
            return self._recover(generation, exc)
        self._roll_back_failed_write(cur)
        if isinstance(exc, duckdb.TransactionException) and _CONFLICT in str(exc):
            # This cursor is the only writer, so nothing can conflict with it but a transaction a failed COMMIT
            # left behind ("Failed to commit: failed to pin block" at 32 MB): every later update of those rows
            # failed until a restart (bench/recovery.py). Opening the file again drops it.
            self._reopen(exc)
            return True
        return False

    def _roll_back_failed_write(self, cur: duckdb.DuckDBPyConnection, *, before_next: bool = False) -> None:
        """End what a failed write left open: its own ROLLBACK may have found no memory.

        The transaction then stays open and aborted on the one write cursor, and every later write failed with
        "Current transaction is aborted" until a restart (the hit writer's applies and the rollup job's builds,
        seen in bench/recovery.py at 32 MB). Rolled back now, or else before the next write, which waits (503)
        while DuckDB still has no memory for it.
        """
        try:
            cur.rollback()
        except duckdb.TransactionException:
            pass  # no transaction open: the write ended its own
        except duckdb.OutOfMemoryException as exc:
            self._rollback_owed = True
            if before_next:
                raise ServiceUnavailable(_OUT_OF_MEMORY) from exc
            return
        self._rollback_owed = False

    # --- after a fatal error: close everything and open the file again ------------------------------------

    def _refuse_while_reopening(self) -> None:
        """503 while the file is reopened, or could not be yet (then this read asks for another try)."""
        if self._reopening:
            raise AnalyticsReopening
        if self._failed_at is not None:
            self._ask_recovery(self.generation, None)
            raise AnalyticsReopening

    def _ask_recovery(self, generation: int, error: BaseException | None) -> None:
        """From a reader: have the writer thread check the database, and reopen it if DuckDB invalidated it."""
        if self._recovery_asked:
            return
        self._recovery_asked = True
        try:
            future = self._writer.submit(self._recover, generation, error)
        except RuntimeError:  # the store is closing
            return
        future.add_done_callback(_log_failed_recovery)

    def _recover(self, generation: int, error: BaseException | None) -> bool:
        """Writer thread: reopen the file unless the database still answers; True when it did not (503 meanwhile)."""
        self._recovery_asked = False
        if generation != self.generation:  # reopened since that failure
            return self._conn is None
        if self._conn is not None and self._answers():
            self._close_parked()
            return False
        self._reopen(error)
        return True

    def _close_parked(self) -> None:
        """Writer thread: close the read cursors parked after a fatal error, one after the other."""
        with self._cursors_lock:
            parked, self._parked = self._parked, []
        for cur in parked:
            with contextlib.suppress(duckdb.Error):
                cur.close()

    def _answers(self) -> bool:
        # A table of the file, not just the instance: DuckDB invalidates an attached file on its own.
        try:
            with self.cursor() as probe:  # not the connection itself: readers make their cursors from it
                probe.execute("SELECT count(*) FROM (SELECT 1 FROM views LIMIT 1)").fetchall()
        except duckdb.OutOfMemoryException:
            return True  # it answered, only short of memory (a read's lower limit): nothing to reopen
        except duckdb.Error:
            return False
        return True

    def _reopen(self, error: BaseException | None = None) -> None:
        """Writer thread: close the connection and every cursor, then open the file again, settings and all."""
        if self._failed_at is not None and time.monotonic() - self._failed_at < REOPEN_RETRY_S:
            return
        if error is not None:
            self._failure = str(error).splitlines()[0]
        started = time.monotonic()
        self._reopening = True
        try:
            with self.cache.exclusive(self._interrupt_reads):
                self._close_connection()
                self._connect()
        except (duckdb.Error, OSError) as exc:
            if self._failed_at is None:
                log.warning("could not reopen the analytics database %s (%s); retrying", self.path, exc)
            self._failed_at = time.monotonic()
            return
        finally:
            self._reopening = False
        self._failed_at = None
        self.cache.reset()
        self.rollups.tables_recreated()
        self.recoveries += 1
        log.warning(
            "DuckDB invalidated the analytics database (%s); closed it and opened %s again in %.0f ms (recovery %d)",
            self._failure, self.path, (time.monotonic() - started) * 1000, self.recoveries,
        )  # fmt: skip

    def _interrupt_reads(self) -> None:
        with self._cursors_lock:
            cursors = list(self._read_cursors)
        for cur in cursors:
            with contextlib.suppress(duckdb.Error):
                cur.interrupt()

    def _close_connection(self) -> None:
        """Close the connection, which closes every cursor made from it (the readers' and the writer's)."""
        conn, self._conn, self._write_cursor = self._conn, None, None
        self.generation += 1
        self._rollback_owed = False
        with self._cursors_lock:
            self._read_cursors.clear()
        self._close_parked()
        if conn is not None:
            with contextlib.suppress(duckdb.Error):
                conn.close()

    async def checkpoint(self, *, hold_reads: float = 0.0) -> bool:
        """Fold the WAL into the file, then trim DuckDB's block cache unless a read runs or one was trimmed lately.

        DuckDB refuses a CHECKPOINT while a read that began before the last write is still open (a report spanning an
        apply of hits): then it is not tried, and the answer is False, for the caller to try again a moment later.
        With `hold_reads` (seconds), new reads wait at the gate instead and the running ones get that long to end.
        """

        def checkpoint_and_trim(cur: duckdb.DuckDBPyConnection) -> bool:
            if hold_reads:
                with self.cache.reads_held(hold_reads) as idle:
                    if not idle:
                        return False
                    cur.execute("CHECKPOINT")
            elif self.cache.read_before_last_write():
                return False
            else:
                cur.execute("CHECKPOINT")
            self.cache.trim(cur, every=TRIM_EVERY_S, worth=0)
            return True

        return await self.write(checkpoint_and_trim, noted=True, changes=False)

    async def trim_cache(self) -> int:
        """Hand DuckDB's cached blocks back now unless a read runs (e.g. after a rollup build); bytes freed."""
        return await self.write(self.cache.trim, noted=True, changes=False)

    async def trim_cache_or_log(self, after: str) -> None:
        """`trim_cache` right `after` some whole-file work; a failure is logged, and the idle trim tries again."""
        try:
            await self.trim_cache()
        except Exception:
            log.warning("could not trim DuckDB's block cache after %s", after, exc_info=True)

    async def keep_cache_trimmed(self) -> None:
        """Run until cancelled: trim DuckDB's cached blocks whenever nothing has read or written for IDLE_S."""
        while True:
            await asyncio.sleep(IDLE_S / 2)
            if self.cache.idle_for() < IDLE_S:
                continue
            try:
                await self.trim_cache()
            except duckdb.Error:
                log.warning("could not trim DuckDB's block cache", exc_info=True)

    def wal_bytes(self) -> int:
        """Size of the write-ahead log: what the next checkpoint has to fold into the file."""
        try:
            return Path(f"{self.path}.wal").stat().st_size
        except FileNotFoundError:
            return 0

    def memory_bytes(self) -> int:
        """Memory DuckDB holds right now (buffer pool, rows not yet checkpointed, query state); blocks briefly."""
        return duckdb_memory_bytes(self.cursor())

    def close(self) -> None:
        """Finish pending writes, stop the reads still running, checkpoint the WAL into the file and close.

        A cancelled task's read (the rollup job counts hours on readers) goes on in its worker thread, and DuckDB
        refuses to close a connection that thread is busy with: like a reopen, close interrupts and waits for them.
        """
        self._writer.shutdown(wait=True)
        self._failed_at = None
        if self._conn is None:
            return
        with self.cache.exclusive(self._interrupt_reads):
            try:
                self._conn.execute("CHECKPOINT")
            except duckdb.Error:
                log.exception("checkpoint on close failed")
            self._close_connection()


def _log_failed_recovery(future: Future[bool]) -> None:
    if (error := future.exception()) is not None:
        log.error("checking the analytics database after a fatal error failed", exc_info=error)
