"""DuckDB's cache of the analytics file's blocks, handed back to the OS when it is not worth its memory.

DuckDB keeps every block it has read cached until its `memory_limit` (40% of the host by default, so
gigabytes) and has no separate cap for that cache, while the OS page cache holds the same file anyway
(and outside the server's RSS). Lowering `memory_limit` evicts the unpinned blocks at once (204 MB in ~35 ms
here), and raising it back keeps the full limit for queries' own working memory (sorts, hash tables).
So the store "trims" the cache, `SET memory_limit` down to `KEEP_BYTES` and straight back:

- only while no read runs and on the writer thread (so no write runs either); new reads wait at the gate
  for those two statements. A query therefore never meets the lowered limit;
- after a checkpoint (at most every `TRIM_EVERY_S`), however little is cached: a soak's dashboard queries and
  duration updates otherwise keep tens of MB of recent blocks cached, and changing the limit also hands back
  what DuckDB's checkpoints leave allocated outside its accounting (in a DuckDB-only test, RSS after a
  checkpoint grew 91 -> 145 MB over 260k appended views without it, and stayed at 81-84 MB with it);
- once the store has been idle `IDLE_S`, and when the rollup job has built every stale hour (its builds read
  the whole file: 283 MB cached at 10M views).

An export reads the whole site once, so it runs under a lower limit for its length (`bounded`): DuckDB then
evicts as it goes, and the store trims what is left when it ends. On a small limit every read runs under a lower
one the same way (`storage/limits.read_bytes_for`): between two trims the reports' blocks otherwise stayed cached
up to the limit. Anything else that meets that lower limit (a report, an apply of hits) widens it back to the full
limit first (`widen`), and a report is run again, so nobody fails for it. Every other write (a checkpoint, a rollup
build, a rename) holds the full limit while it runs (`full_limit`): a checkpoint that fails for memory invalidates
the database, and DuckDB may checkpoint inside any COMMIT.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["IDLE_S", "KEEP_BYTES", "TRIM_EVERY_S", "BlockCache", "duckdb_memory_bytes"]

MB = 1024 * 1024
# What a trim asks for: nothing, a limit DuckDB can never reach (its pinned memory, rows not yet checkpointed, stays),
# so the `SET` walks every eviction queue to its end and fails (`_set_limit`), having evicted every unpinned block.
# DuckDB frees a buffer's bookkeeping (its block handle) only once the buffer's queue entry is gone, and a walk that
# stops as soon as it is under its target leaves those entries behind: trimming to 16 MB, the glibc heap of DuckDB's
# threads grew ~7 MB a minute in a 3-minute bench/soak.py run (peak 232 MB, final 213); trimming to nothing, it
# stayed flat (peak 194, final 171; locked, at load ~11).
KEEP_BYTES = 0
# Trims while hits arrive, at most this often: each makes the next reports read their blocks again from the
# OS page cache (a few ms at a soak's size).
TRIM_EVERY_S = 2.0
# A store with neither reads nor writes for this long is trimmed, looked at every IDLE_S / 2. Shorter than the
# rollup job's 5-s rest (it reads then), longer than the gaps between a dashboard's requests.
IDLE_S = 2.0
# Below this much cached, an idle trim is not worth making readers wait for it.
WORTH_BYTES = 32 * MB


def duckdb_memory_bytes(cur: duckdb.DuckDBPyConnection) -> int:
    """Memory DuckDB accounts for right now (cached blocks, rows not yet checkpointed, query state)."""
    row = cur.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()").fetchone()
    return int(row[0]) if row else 0


def _set_limit(cur: duckdb.DuckDBPyConnection, limit: int) -> bool:
    """`SET memory_limit`; False when DuckDB cannot evict enough for it (pinned memory): the limit stays."""
    try:
        cur.execute(f"SET memory_limit = '{int(limit)}B'")  # an int we computed: no value from outside
    except duckdb.OutOfMemoryException:
        return False
    return True


class BlockCache:
    """Counts the store's reads, gates them around trims, and keeps the lowered limit of an export."""

    def __init__(self, limit_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit_bytes = limit_bytes
        self._clock = clock
        self._cond = threading.Condition()
        self._reads = 0
        # Writes ended so far, and how many of the running reads began after each count: a read that began before
        # the last write ended makes DuckDB refuse a CHECKPOINT (`read_before_last_write`).
        self._writes = 0
        self._reads_since: dict[int, int] = {}
        self._gate_closed = False
        self._last_active = clock()
        self._last_trim = -math.inf
        # The lower limit a read or an export asked for, None when the full limit is wanted; and the writes running
        # that need the full limit meanwhile (`full_limit`). Both change under `_limit_lock`, with the SET.
        self._limit_lock = threading.Lock()
        self._bounded: int | None = None
        self._full_holders = 0
        # Counts every change of the lower limit: a read that failed for memory and saw it change is run again.
        self.epoch = 0
        self.trims = 0
        self.trimmed_bytes = 0

    # --- reads and writes tell it they run --------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Around a read on its worker thread: waits while a trim runs, and counts the read meanwhile."""
        with self._cond:
            while self._gate_closed:
                self._cond.wait()
            self._reads += 1
            since = self._writes
            self._reads_since[since] = self._reads_since.get(since, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                self._reads -= 1
                if self._reads_since[since] == 1:
                    del self._reads_since[since]
                else:
                    self._reads_since[since] -= 1
                self._last_active = self._clock()
                if not self._reads:
                    self._cond.notify_all()  # a reopen may be waiting for the last read (`exclusive`)

    def wrote(self, *, changes: bool = True) -> None:
        """A write just ended (writer thread): the store is not idle. A checkpoint or a trim `changes` no rows."""
        if changes:
            with self._cond:
                self._writes += 1
        self._last_active = self._clock()

    def read_before_last_write(self) -> bool:
        """True while a read runs that began before the last write ended (writer thread, between writes).

        DuckDB refuses a CHECKPOINT ("there are other write transactions active") while a transaction is open that
        began before an UPDATE committed: every apply of hits updates its journal position, so any report that
        spans an apply. A read that began after the last write does not stop it.
        """
        with self._cond:
            return any(since < self._writes for since in self._reads_since)

    @contextlib.contextmanager
    def reads_held(self, timeout: float) -> Iterator[bool]:
        """Close the gate to new reads and wait at most `timeout` for the running ones; yield whether none runs.

        New reads wait at the gate for the block (writer thread: a checkpoint that could not find a moment between
        reads for too long).
        """
        with self._cond:
            self._gate_closed = True
            self._cond.wait_for(lambda: not self._reads, timeout)
            idle = not self._reads
        try:
            yield idle
        finally:
            with self._cond:
                self._gate_closed = False
                self._cond.notify_all()

    def idle_for(self) -> float:
        with self._cond:
            return 0.0 if self._reads else self._clock() - self._last_active

    # --- trims (writer thread only) --------------------------------------------------------------------

    def trim(self, cur: duckdb.DuckDBPyConnection, *, every: float = 0.0, worth: int = WORTH_BYTES) -> int:
        """Evict every cached block (down to KEEP_BYTES) when no read runs; bytes freed.

        Skipped within `every` seconds of the last trim, and while DuckDB holds less than `worth` bytes.
        """
        now = self._clock()
        with self._cond:
            if self._reads or self._bounded is not None or now - self._last_trim < every:
                return 0
            self._gate_closed = True
        try:
            before = duckdb_memory_bytes(cur)
            if before < worth:
                return 0
            _set_limit(cur, KEEP_BYTES)  # evicts what it can, even when pinned memory keeps it from the target
            _set_limit(cur, self.limit_bytes)
            freed = max(0, before - duckdb_memory_bytes(cur))
        finally:
            with self._cond:
                self._gate_closed = False
                self._last_trim = self._clock()
                self._cond.notify_all()
        self.trims += 1
        self.trimmed_bytes += freed
        return freed

    # --- a reopen of the file (writer thread only) ------------------------------------------------------

    @contextlib.contextmanager
    def exclusive(self, stop_reads: Callable[[], None]) -> Iterator[None]:
        """Close the gate, `stop_reads`, and wait until no read runs: the store closes and reopens its file meanwhile.

        Reads that arrive wait at the gate and run on the new connection afterwards.
        """
        with self._cond:
            self._gate_closed = True
        try:
            stop_reads()
            with self._cond:
                while self._reads:
                    self._cond.wait()
            yield
        finally:
            with self._cond:
                self._gate_closed = False
                self._cond.notify_all()

    def reset(self) -> None:
        """The database was opened again, at the full limit: a read's lower one is gone with the old instance."""
        with self._limit_lock:
            self._bounded = None
            self.epoch += 1

    # --- a read's or an export's lower limit ---------------------------------------------------------

    def bound(self, cur: duckdb.DuckDBPyConnection, limit: int) -> bool:
        """Lower the limit to `limit` (a read or an export starts); False when another holds one or DuckDB cannot.

        While a write holds the full limit (`full_limit`) the lower one is only recorded, and takes effect when the
        last such write ends.
        """
        with self._limit_lock:
            if self._bounded is not None or limit >= self.limit_bytes:
                return False
            self._bounded = limit
            self.epoch += 1
            if self._full_holders:
                return True
            if not _set_limit(cur, limit):
                self._bounded = None
                return False
            return True

    def widen(self, cur: duckdb.DuckDBPyConnection) -> bool:
        """Back to the full limit (someone met the lower one, or the read ended); False when it already was."""
        with self._limit_lock:
            if self._bounded is None:
                return False
            self._bounded = None
            self.epoch += 1
            if not self._full_holders:  # else the full limit is in force already
                _set_limit(cur, self.limit_bytes)  # raising a limit never needs an eviction: cannot fail for memory
            return True

    @contextlib.contextmanager
    def full_limit(self, cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Around a write (writer thread): the full limit is in force for its length, whatever a read lowered it to.

        A write whose COMMIT met a read's lower limit could fail inside the checkpoint DuckDB runs in that COMMIT
        (its WAL past `checkpoint_threshold`), and a failed checkpoint invalidates the whole database: every read
        and hit then waited for a reopen (a rollup build at -memorylimit 128MB, tests/e2e/test_memory_limit.py).
        A read's lower limit recorded meanwhile, or still wanted when the write ends, is put back then.
        """
        with self._limit_lock:
            if not self._full_holders and self._bounded is not None:
                _set_limit(cur, self.limit_bytes)  # raises only when DuckDB is unusable: the write fails with it
            self._full_holders += 1
        try:
            yield
        finally:
            with self._limit_lock:
                self._full_holders -= 1
                if not self._full_holders and self._bounded is not None:
                    self.epoch += 1  # a read that fails for memory from here on is run again
                    try:
                        lowered = _set_limit(cur, self._bounded)
                    except duckdb.Error:  # the write broke DuckDB: its own error is the one its caller sees
                        lowered = False
                    if not lowered:  # (or pinned memory over the lower limit) the read keeps the full one
                        self._bounded = None
