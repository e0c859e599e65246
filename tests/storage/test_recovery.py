"""A fatal DuckDB error invalidates the whole database; the store reopens its file and loses no acknowledged hit.

The trigger is real and happens inside DuckDB: a checkpoint that may not grow the file fails with a
FatalException, which invalidates the instance (every later statement fails). The file size limit stands in
for a full disk, at the operating system's boundary (RLIMIT_FSIZE; CPython ignores SIGXFSZ, so a write past it
fails with EFBIG). Nothing of ours is replaced (docs/architecture.md#failures).
"""

from __future__ import annotations

import asyncio
import resource
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import msgspec
import pytest

from medama_py.errors import AnalyticsReopening
from medama_py.stats.reports import REPORTS
from medama_py.storage.analytics import REOPEN_RETRY_S, AnalyticsStore
from medama_py.storage.rollup_job import RollupJob
from medama_py.storage.writer import CheckpointPolicy, HitWriter
from tests.stats.harness import params
from tests.support.live import live_writer
from tests.support.rows import make_view_row

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from medama_py.storage.rollups import Rollups

SITE = "example.com"
START = datetime(2024, 5, 3, 0, 0, tzinfo=UTC)
# Never by the policy: the test decides when a checkpoint runs.
NO_CHECKPOINTS = CheckpointPolicy(wal_bytes=2**40, interval_seconds=1e9, quiet_seconds=1e9, quiet_bytes=2**40)


@contextmanager
def files_may_not_grow_past(size: int) -> Iterator[None]:
    """No file of this process may grow past `size` bytes meanwhile (a full disk, as DuckDB sees it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[AnalyticsStore, HitWriter]]:
    options = {"max_batch": 50, "max_delay_ms": 1, "checkpoints": NO_CHECKPOINTS}
    async with live_writer(tmp_path / "me_analytics.db", **options) as store_and_writer:
        yield store_and_writer


async def acknowledge(writer: HitWriter, first: int, count: int) -> None:
    """Views b{first}.. over two days, a minute apart, and a duration for every third: all acknowledged."""
    moments = [START + timedelta(minutes=3 * n) for n in range(first, first + count)]
    views = [writer.add_view(make_view_row(bid=f"b{first + i}", date_created=m)) for i, m in enumerate(moments)]
    await asyncio.gather(*views)
    await asyncio.gather(*(writer.set_duration(f"b{n}", 1000 + n) for n in range(first, first + count, 3)))


def stored(cur: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    row = cur.execute("SELECT count(*), count(DISTINCT bid), count(duration_ms) FROM views").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


async def until_applied(store: AnalyticsStore, writer: HitWriter, expected: tuple[int, int, int]) -> None:
    """Wait (at most 20 s) until the store reads `expected`: the writer retries every second while it is down."""
    found = None
    for _ in range(200):
        await writer.settled(timeout=0.1)
        try:
            found = await store.read(stored)
        except AnalyticsReopening:
            await asyncio.sleep(0.1)
            continue
        if found == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"stored {found}, expected {expected}")


def report(cur: duckdb.DuckDBPyConnection, name: str, rollups: Rollups | None) -> Any:
    query = "start=2024-05-02T00:00:00Z&end=2024-05-06T00:00:00Z"
    return msgspec.to_builtins(REPORTS[name].run(cur, params(name, query, SITE), rollups))


async def test_a_checkpoint_the_disk_refuses_invalidates_duckdb_and_the_store_opens_its_file_again(
    running: tuple[AnalyticsStore, HitWriter],
) -> None:
    store, writer = running
    await acknowledge(writer, 0, 600)
    await until_applied(store, writer, (600, 600, 200))
    job = RollupJob(store, [SITE], lambda: datetime(2024, 5, 10, tzinfo=UTC))
    while await job.step():
        pass

    # The writer thread is held while more hits are acknowledged: they are in the journal, and their apply waits
    # behind a checkpoint.
    release = threading.Event()
    held = asyncio.ensure_future(store.write(lambda _: release.wait(10), noted=True))
    checkpoint = asyncio.ensure_future(store.checkpoint())
    await acknowledge(writer, 600, 300)
    with files_may_not_grow_past(Path(store.path).stat().st_size):
        release.set()
        await held
        with pytest.raises(AnalyticsReopening):
            await checkpoint  # invalidated; the reopen cannot checkpoint the replayed WAL either while the disk is full
        with pytest.raises(AnalyticsReopening):
            await store.read(stored, settled=False)
        assert store.recoveries == 0
    await asyncio.sleep(REOPEN_RETRY_S)

    # Space again: the next try reopens the file, and the writer applies what the journal holds, each hit once.
    await until_applied(store, writer, (900, 900, 300))
    assert store.recoveries == 1
    while await job.step():
        pass
    for name in ("summary", "pages", "time", "devices"):
        rolled = await store.read(partial(report, name=name, rollups=store.rollups))
        raw = await store.read(partial(report, name=name, rollups=None))
        assert rolled == raw, name
    assert await store.read(lambda cur: cur.execute("SELECT count(*) FROM rollup_built").fetchone()) != (0,)


async def test_a_write_that_leaves_its_transaction_open_and_aborted_does_not_block_the_next_one(
    running: tuple[AnalyticsStore, HitWriter],
) -> None:
    # What a write whose own ROLLBACK found no memory leaves behind (seen at 32 MB during a rollup build): before,
    # every later write on the writer's cursor failed with "Current transaction is aborted" until a restart.
    store, writer = running

    def fails_inside_its_transaction(cur: duckdb.DuckDBPyConnection) -> None:
        cur.begin()
        cur.execute("INSERT INTO views (hostname) VALUES (NULL)")

    with pytest.raises(duckdb.ConstraintException):
        await store.write(fails_inside_its_transaction, noted=True)
    await acknowledge(writer, 0, 30)
    await until_applied(store, writer, (30, 30, 10))
