"""Making DuckDB fail a hit writer's COMMIT half-way, for real, and counting what the file holds after.

At a tiny memory limit DuckDB's COMMIT can fail with "failed to pin block" after it wrote part of the transaction:
the transaction left behind makes the next update of the same rows fail with "Conflict on update!", and once the
file is opened again it holds the batch's journal position without its views (seen in bench/recovery.py at 32 MB).
`CommitSqueeze` provokes DuckDB's own failure: just before the writer's COMMIT, the memory limit drops below one
block (`SET memory_limit`, from another cursor, as twelve reports at once do at 32 MB). Nothing of ours is replaced.
Used in-process by tests/storage/test_failed_commit.py and inside the child process of
tests/e2e/test_failed_commit_crash.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.writer import CheckpointPolicy, HitWriter
from tests.support.rows import make_view_row

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["NO_CHECKPOINTS", "START", "CommitSqueeze", "acknowledge", "stored", "until_settled"]

START = datetime(2024, 5, 3, tzinfo=UTC)
# No checkpoint unless the test asks: the failure needs rows that only the WAL holds so far.
NO_CHECKPOINTS = CheckpointPolicy(wal_bytes=2**40, interval_seconds=1e9, quiet_seconds=1e9, quiet_bytes=2**40)


def _set_limit(cur: duckdb.DuckDBPyConnection, limit: int) -> bool:
    try:
        cur.execute(f"SET memory_limit = '{limit}B'")
    except duckdb.OutOfMemoryException:
        return False
    return True


class CommitSqueeze:
    """Once armed: the next apply's COMMIT finds DuckDB's memory limit below one block, and fails.

    With `after`, that COMMIT first waits (at most 30 s) for the event: a test's hits acknowledged meanwhile.
    """

    def __init__(self, store: AnalyticsStore, *, after: threading.Event | None = None) -> None:
        self._store = store
        self._armed = False
        self._after = after
        self.squeezed = threading.Event()

    def arm(self) -> None:
        self._armed = True

    def __call__(self, _cur: duckdb.DuckDBPyConnection) -> None:
        if not self._armed:
            return
        self._armed = False
        if self._after is not None:
            self._after.wait(30)
        with self._store.cursor() as other:
            limit = 32 * 1024
            while not _set_limit(other, limit):  # the tightest limit DuckDB can evict its cached blocks down to
                limit += limit // 4
        self.squeezed.set()

    async def release(self) -> None:
        """The full limit again, set on the writer thread right after the failed apply (its retry waits 1 s)."""
        assert await asyncio.to_thread(self.squeezed.wait, 30), "no apply reached its COMMIT"
        full = self._store.limits.memory_bytes
        await self._store.write(lambda cur: cur.execute(f"SET memory_limit = '{full}B'"), noted=True)


async def acknowledge(writer: HitWriter, first: int, count: int) -> None:
    """Views v{first}.. a minute apart, and a duration for every second one, all acknowledged."""
    moments = [START + timedelta(minutes=n) for n in range(first, first + count)]
    await asyncio.gather(
        *(writer.add_view(make_view_row(bid=f"v{first + i}", date_created=m)) for i, m in enumerate(moments))
    )
    await asyncio.gather(*(writer.set_duration(f"v{n}", 1000 + n) for n in range(first, first + count, 2)))


def stored(path: Path) -> tuple[Counter[str], int]:
    """Each bid's row count, and the views with a duration, read from the file by a fresh instance."""
    store = AnalyticsStore(str(path))
    store.open()
    try:
        with store.cursor() as cur:
            bids = Counter(str(bid) for (bid,) in cur.execute("SELECT bid FROM views").fetchall())
            row = cur.execute("SELECT count(duration_ms) FROM views").fetchone()
    finally:
        store.close()
    return bids, int(row[0]) if row else 0


async def until_settled(writer: HitWriter) -> None:
    """Every acknowledged hit applied (the writer retries once a second after a failure); at most 30 s."""
    for _ in range(300):
        if writer.pending == 0:
            await writer.settled(timeout=5)
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{writer.pending} hits still wait for DuckDB")
