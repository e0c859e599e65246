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
from tests.support.rows import count_views, make_view_row

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


class _Relay:
    """Reports handed on like a relay baton: a new one begins, a hit is applied, and only then the older one ends.

    So at every moment a report is open that began before the last apply, and DuckDB would refuse any CHECKPOINT;
    the one open at the end stays open until `finish`.
    """

    def __init__(self, store: AnalyticsStore, writer: HitWriter) -> None:
        self._store, self._writer = store, writer
        self.hits = 0
        self.gate_waits: list[float] = []  # per report: from asking to its transaction's first statement

    async def _open(self) -> tuple[threading.Event, asyncio.Future[None]]:
        began, end = threading.Event(), threading.Event()

        def report(cur: duckdb.DuckDBPyConnection) -> None:
            cur.execute("SELECT count(*) FROM views").fetchall()
            began.set()
            end.wait(30)

        asked = time.monotonic()
        running = asyncio.ensure_future(self._store.read(report, settled=False))
        assert await asyncio.to_thread(began.wait, 30), "the report never began"
        self.gate_waits.append(time.monotonic() - asked)
        return end, running

    async def run(self, seconds: float) -> tuple[threading.Event, asyncio.Future[None]]:
        """Hand on for `seconds` (one apply each time); return the report left open."""
        older = await self._open()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            newer = await self._open()
            await self._writer.add_view(make_view_row(bid=f"h{self.hits}"))
            self.hits += 1
            await self._writer.settled(timeout=30)
            assert self._writer.pending == 0
            older[0].set()
            await older[1]
            older = newer
        return older


async def test_without_a_moment_for_two_seconds_new_reads_wait_for_the_checkpoint_then_resume(tmp_path: Path) -> None:
    policy = replace(NEVER, wal_bytes=1)  # due after every apply
    async with live_writer(tmp_path / "analytics.db", max_batch=50, max_delay_ms=1, checkpoints=policy) as running:
        store, writer = running
        assert await _wait_for(lambda: writer.stats.checkpoints == 1)  # the new file's tables, before any report
        relay = _Relay(store, writer)
        end, last = await relay.run(seconds=3.0)
        # Put off after every apply and every 20 ms between; past the 2 s of patience each try closed the gate to
        # new reads and gave the open ones 250 ms, which the baton's report outlasted: still no checkpoint.
        assert writer.stats.checkpoints == 1
        assert writer.stats.checkpoints_deferred >= 10
        assert writer.stats.checkpoints_holding_reads == 0
        # Those tries held new reads at the gate (a report asked right after an apply waited ~250 ms), not for long.
        assert 0.1 <= max(relay.gate_waits) < 2.0
        end.set()
        await last
        # The last report ended: the next try, holding new reads, checkpoints.
        assert await _wait_for(lambda: writer.stats.checkpoints == 2, seconds=10)
        assert writer.stats.checkpoints_holding_reads == 1
        assert store.wal_bytes() == 0
        # Reads resume.
        count = await store.read(lambda cur: cur.execute("SELECT count(*) FROM views").fetchone())
        assert count == (relay.hits,)


async def test_a_read_waiting_for_hits_journaled_during_an_apply_gets_them_before_a_due_checkpoint(
    tmp_path: Path,
) -> None:
    """A checkpoint due after an apply lets the next apply go first when a read waits for it, once in a row.

    Otherwise the read would wait for the whole checkpoint and then that apply (docs/architecture.md#a-hit).
    """
    policy = replace(NEVER, wal_bytes=1)  # due after every apply
    entered, release = asyncio.Queue[str](), threading.Event()
    held: set[str] = set()  # bids whose apply waits in its transaction for `release`
    checkpoints_at_commit: list[int] = []

    async with contextlib.AsyncExitStack() as stack:
        loop = asyncio.get_running_loop()

        def before_commit(cur: duckdb.DuckDBPyConnection) -> None:  # the writer thread, in each apply
            checkpoints_at_commit.append(writer.stats.checkpoints)
            bids = {
                bid
                for (bid,) in cur.execute(
                    "SELECT bid FROM views WHERE bid IN (SELECT unnest(?))", [list(held)]
                ).fetchall()
            }
            for bid in bids:
                held.discard(bid)
                loop.call_soon_threadsafe(entered.put_nowait, bid)
                release.clear()
                assert release.wait(30)

        store, writer = await stack.enter_async_context(
            live_writer(
                tmp_path / "analytics.db", max_batch=50, max_delay_ms=1, checkpoints=policy, before_commit=before_commit
            )
        )
        assert await _wait_for(lambda: writer.stats.checkpoints == 1)  # the new file's tables

        async def journaled_during(bid: str, hold_it: bool = False) -> asyncio.Future[int]:
            """`bid` journaled while the apply in its transaction waits, and a read asking for it."""
            if hold_it:
                held.add(bid)
            await writer.add_view(make_view_row(bid=bid))
            read = asyncio.ensure_future(store.read(count_views))
            await asyncio.sleep(0.05)  # the read now waits for that hit
            return read

        # A read waits after an apply: the checkpoint due then gives way to the apply it needs.
        checkpoints_at_commit.clear()
        held.add("a")
        await writer.add_view(make_view_row(bid="a"))
        assert await asyncio.wait_for(entered.get(), 30) == "a"
        read = await journaled_during("a-next")
        release.set()
        assert await read == 2
        assert await _wait_for(lambda: writer.stats.checkpoints == 2)
        assert checkpoints_at_commit == [1, 1]  # a, then a-next, then the checkpoint
        assert writer.stats.checkpoints_after_reads == 1

        # Reads waiting after two applies in a row: the second time the checkpoint goes first, so the WAL grows by
        # one transaction at most.
        checkpoints_at_commit.clear()
        held.add("b")
        await writer.add_view(make_view_row(bid="b"))
        assert await asyncio.wait_for(entered.get(), 30) == "b"
        first = await journaled_during("c", hold_it=True)
        release.set()  # b commits; the checkpoint gives way to c, for the read
        assert await asyncio.wait_for(entered.get(), 30) == "c"
        second = await journaled_during("d")
        release.set()  # c commits; the checkpoint goes first this time, then d
        assert await first == 4
        assert await second == 5
        assert await _wait_for(lambda: writer.stats.checkpoints == 4)
        assert checkpoints_at_commit == [2, 2, 3]  # b, c, the checkpoint, d, the next checkpoint
        assert writer.stats.checkpoints_after_reads == 2
