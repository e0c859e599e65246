"""The rollup job: builds on a reader and the writer thread, and the recent hours' list rows (storage/rollup_job.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.rollup_days import HOURS_PER_DAY
from medama_py.storage.rollup_hour_lists import RECENT_DAYS
from medama_py.storage.rollup_job import RollupJob
from medama_py.storage.rollups import hour_of
from medama_py.storage.writer import HitWriter
from tests.support.live import PATIENT_READS_S
from tests.support.rows import make_view_row

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

NOW = datetime(2024, 5, 20, 15, 30, tzinfo=UTC)


def _listed(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """The hours with list rows (only hours with views have them)."""
    return [int(row[0]) for row in cur.execute("SELECT hour FROM rollup_hour_lists ORDER BY hour").fetchall()]


async def _run(job: RollupJob) -> int:
    builds = 0
    while await job.step():
        builds += 1
    return builds


async def test_the_job_keeps_list_rows_of_recent_hours_only(tmp_path: Path) -> None:
    store = AnalyticsStore(str(tmp_path / "analytics.db"))
    store.open()
    writer = HitWriter(store, max_batch=500, max_delay_ms=1, read_wait_s=PATIENT_READS_S)
    await writer.start()
    try:
        # A view every six hours for two weeks before NOW.
        moments = [NOW - timedelta(hours=6 * n + 1) for n in range(14 * 4)]
        for n, moment in enumerate(moments):
            await writer.add_view(make_view_row(bid=f"b{n}", pathname=f"/p{n % 3}", date_created=moment))
        await writer.settled()
        clock = [NOW]
        job = RollupJob(store, ["example.com"], lambda: clock[0])
        assert await _run(job) > 0
        horizon = (hour_of(NOW) // HOURS_PER_DAY - RECENT_DAYS) * HOURS_PER_DAY
        viewed = sorted(hour_of(moment) for moment in moments)
        assert await store.read(_listed) == [hour for hour in viewed if hour >= horizon]
        built = await store.read(lambda cur: cur.execute("SELECT min(hour) FROM rollup_built").fetchone())
        assert built is not None and built[0] < horizon  # older hours are built, without list rows
        # A day later the job drops a day of them; an hour it built empty gets list rows once a view arrives there.
        clock[0] = NOW + timedelta(days=1)
        late = NOW + timedelta(hours=5)
        await writer.add_view(make_view_row(bid="late", date_created=late))
        await writer.settled()
        await _run(job)
        expected = [hour for hour in [*viewed, hour_of(late)] if hour >= horizon + HOURS_PER_DAY]
        assert await store.read(_listed) == expected
    finally:
        await writer.stop()
        store.close()


async def test_the_store_closes_while_a_cancelled_read_still_runs(tmp_path: Path) -> None:
    """At shutdown the job's task is cancelled, but its read goes on in a worker thread: close stops it first."""
    store = AnalyticsStore(str(tmp_path / "analytics.db"))
    store.open()
    endless = "SELECT count(*) FROM range(1000000000000)"
    read = asyncio.create_task(store.read(lambda cur: cur.execute(endless).fetchall(), settled=False))
    await asyncio.sleep(0.5)  # the query runs on its worker thread now
    read.cancel()
    began = time.monotonic()
    store.close()  # DuckDB refused this ("connection is busy with another call") while the read ran
    assert time.monotonic() - began < 10
    reopened = AnalyticsStore(str(tmp_path / "analytics.db"))
    reopened.open()
    assert await reopened.read(lambda cur: cur.execute("SELECT count(*) FROM views").fetchall()) == [(0,)]
    reopened.close()
