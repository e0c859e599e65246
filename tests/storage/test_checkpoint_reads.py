"""Checkpoints and open reads: the writer checkpoints when DuckDB lets it, instead of failing and waiting a second,
and when reports overlap without a moment between them for 2 s, it holds new reads back for one.

DuckDB refuses a CHECKPOINT ("there are other write transactions active") while a transaction is open that began
before an UPDATE committed. Every apply of hits updates the journal position, so a dashboard report that spans an
apply is enough (soak logs showed the refusal over and over). Everything here is real: a report's read transaction
held open on its worker thread, the hit writer's applies, DuckDB's answer to a CHECKPOINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import duckdb
import pytest

from medama_py.storage.writer import CheckpointPolicy
from tests.support.live import live_writer
from tests.support.rows import make_view_row

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from medama_py.storage.analytics import AnalyticsStore
    from medama_py.storage.writer import HitWriter

NEVER = CheckpointPolicy(wal_bytes=1 << 40, interval_seconds=3600, quiet_seconds=3600, quiet_bytes=1 << 40)


@contextlib.asynccontextmanager
async def report_open(store: AnalyticsStore) -> AsyncIterator[None]:
    """A report's read transaction open, its first statement run, for the whole block."""
    began, release = threading.Event(), threading.Event()

    def hold(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("SELECT count(*) FROM views").fetchall()
        began.set()
        release.wait(30)

    report = asyncio.ensure_future(store.read(hold, settled=False))
    assert await asyncio.to_thread(began.wait, 30), "the report never started"
    try:
        yield
    finally:
        release.set()
        await report


async def applied(writer: HitWriter, prefix: str, count: int = 20) -> None:
    await asyncio.gather(*(writer.add_view(make_view_row(bid=f"{prefix}{i}")) for i in range(count)))
    await writer.settled(timeout=30)


async def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


async def test_a_report_open_across_an_apply_puts_the_checkpoint_off_without_asking_duckdb(tmp_path: Path) -> None:
    async with live_writer(tmp_path / "analytics.db", max_batch=50, max_delay_ms=1, checkpoints=NEVER) as running:
        store, writer = running
        await applied(writer, "before")
        async with report_open(store):
            await applied(writer, "during")  # an apply commits, updating the journal position, under the report
            with pytest.raises(duckdb.TransactionException, match="other write transactions active"):
                await store.write(lambda cur: cur.execute("CHECKPOINT"), noted=True)  # what DuckDB says now
            assert await store.checkpoint() is False
            assert store.wal_bytes() > 0
        assert await store.checkpoint() is True
        assert store.wal_bytes() == 0


async def test_a_report_that_began_after_the_last_apply_does_not_put_it_off(tmp_path: Path) -> None:
    async with live_writer(tmp_path / "analytics.db", max_batch=50, max_delay_ms=1, checkpoints=NEVER) as running:
        store, writer = running
        await applied(writer, "before")
        async with report_open(store):
            assert await store.checkpoint() is True
            assert store.wal_bytes() == 0


async def test_a_checkpoint_put_off_is_no_write_that_later_reports_began_before(tmp_path: Path) -> None:
    async with live_writer(tmp_path / "analytics.db", max_batch=50, max_delay_ms=1, checkpoints=NEVER) as running:
        store, writer = running
        async with contextlib.AsyncExitStack() as first:
            await first.enter_async_context(report_open(store))
            await applied(writer, "during")
            assert await store.checkpoint() is False
            async with report_open(store):  # began after the last apply, and after that attempt
                await first.aclose()
                assert await store.checkpoint() is True
        assert store.wal_bytes() == 0


async def test_holding_reads_waits_for_the_open_report_then_checkpoints(tmp_path: Path) -> None:
    async with live_writer(tmp_path / "analytics.db", max_batch=50, max_delay_ms=1, checkpoints=NEVER) as running:
        store, writer = running
        async with report_open(store):
            await applied(writer, "during")
            assert await store.checkpoint(hold_reads=0.05) is False  # the report outlasts the hold: put off again
        async with report_open(store):
            await applied(writer, "more")
            held = asyncio.ensure_future(store.checkpoint(hold_reads=10))
            await asyncio.sleep(0.1)
            assert not held.done()  # waiting for the report, which ends with this block
        assert await held is True
        assert store.wal_bytes() == 0


async def test_the_writer_checkpoints_in_the_first_moment_between_reports(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = replace(NEVER, wal_bytes=1)  # due after every apply
    async with live_writer(tmp_path / "analytics.db", max_batch=50, max_delay_ms=1, checkpoints=policy) as running:
        store, writer = running
        # The new file's tables are in the WAL: folded in at start, before any report.
        assert await _wait_for(lambda: writer.stats.checkpoints == 1)
        with caplog.at_level(logging.WARNING):
            async with report_open(store):
                for round_ in range(3):
                    await applied(writer, f"r{round_}-")
                assert writer.stats.checkpoints == 1
                assert writer.stats.checkpoints_deferred >= 1
            # No hit arrives after the report: the writer looks again by itself, a moment later.
            assert await _wait_for(lambda: writer.stats.checkpoints == 2, seconds=2)
        assert store.wal_bytes() == 0
        assert "checkpoint failed" not in caplog.text
        assert writer.stats.checkpoints_holding_reads == 0


class _Reports:
    """Reports that overlap without end: one begins every 50 ms and keeps its read transaction open 200 ms.

    So at every apply some report began before it, and DuckDB would refuse a CHECKPOINT at any moment.
    """

    def __init__(self, store: AnalyticsStore) -> None:
        self._store = store
        self.stopped = asyncio.Event()
        self.done: list[tuple[float, float, float]] = []  # per report: asked, began (past the gate), ended

    async def _one(self) -> None:
        asked = time.monotonic()

        def report(cur: duckdb.DuckDBPyConnection) -> float:
            began = time.monotonic()
            cur.execute("SELECT count(*) FROM views").fetchall()
            time.sleep(0.2)
            return began

        began = await self._store.read(report, settled=False)
        self.done.append((asked, began, time.monotonic()))

    async def run(self) -> None:
        running = []
        while not self.stopped.is_set():
            running.append(asyncio.ensure_future(self._one()))
            await asyncio.sleep(0.05)
        await asyncio.gather(*running)


async def test_without_a_moment_for_two_seconds_new_reads_wait_for_the_checkpoint_then_resume(tmp_path: Path) -> None:
    policy = replace(NEVER, wal_bytes=1)  # due after every apply
    async with live_writer(tmp_path / "analytics.db", max_batch=50, max_delay_ms=1, checkpoints=policy) as running:
        store, writer = running
        assert await _wait_for(lambda: writer.stats.checkpoints == 1)  # the new file's tables, before any report
        reports = _Reports(store)
        chain = asyncio.ensure_future(reports.run())
        acknowledged: list[asyncio.Future[None]] = []
        started = time.monotonic()
        checkpoints_put_off = writer.stats.checkpoints  # the checkpoints so far, before the one holding reads
        try:
            while writer.stats.checkpoints_holding_reads == 0 and time.monotonic() - started < 30:
                checkpoints_put_off = writer.stats.checkpoints
                acknowledged.append(writer.add_view(make_view_row(bid=f"h{len(acknowledged)}")))  # a hit every 20 ms
                await asyncio.sleep(0.02)
            held = time.monotonic()
            await asyncio.sleep(0.5)  # reports go on after the held checkpoint
        finally:
            reports.stopped.set()
            await chain
        await asyncio.gather(*acknowledged)
        await writer.settled(timeout=30)
        assert writer.stats.checkpoints_holding_reads == 1
        # Put off again and again (every 20 ms) for the two seconds of patience, then one checkpoint, holding reads.
        assert held - started >= 2.0
        assert checkpoints_put_off == 1
        assert writer.stats.checkpoints_deferred >= 10
        # Reads resumed: every report ended, reports asked after the held checkpoint ran too, none waited long.
        assert any(asked > held for asked, _, _ in reports.done)
        assert max(began - asked for asked, began, _ in reports.done) < 5
        with store.cursor() as cur:
            assert cur.execute("SELECT count(*) FROM views").fetchone() == (len(acknowledged),)
