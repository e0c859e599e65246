"""A long stats query runs on a worker thread: the event loop and the analytics writer keep going meanwhile."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING

import duckdb
import pytest

from medama_py.storage.analytics import AnalyticsStore
from tests.stats.dataset import insert_views, make_view

if TYPE_CHECKING:
    from pathlib import Path

# Far more work than the test needs; the query is interrupted once the writes are checked.
_ENDLESS = "SELECT count(*) FROM range(100000000000) AS t(i) WHERE hash(i) % 7 = 0"


def _insert_one(cur: duckdb.DuckDBPyConnection, bid: str) -> None:
    insert_views(cur, [make_view(bid=bid)])


async def test_a_long_read_delays_neither_the_loop_nor_writes(tmp_path: Path) -> None:
    store = AnalyticsStore(str(tmp_path / "me_analytics.db"))
    store.open()
    cursors: list[duckdb.DuckDBPyConnection] = []

    def long_query(cur: duckdb.DuckDBPyConnection) -> object:
        cursors.append(cur)
        return cur.execute(_ENDLESS).fetchall()

    try:
        reading = asyncio.create_task(store.read(long_query))
        while not cursors:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the query is now busy inside DuckDB
        slowest_write = slowest_tick = 0.0
        for n in range(20):
            began = time.perf_counter()
            await store.write(partial(_insert_one, bid=f"w{n}"))
            slowest_write = max(slowest_write, time.perf_counter() - began)
            began = time.perf_counter()
            await asyncio.sleep(0)
            slowest_tick = max(slowest_tick, time.perf_counter() - began)
        assert not reading.done()
        # Generous bounds for a shared machine: the query never ends by itself, so a loop or writer that waited
        # for it would hang here instead.
        assert slowest_write < 3.0
        assert slowest_tick < 1.0
        count = await store.read(lambda cur: cur.execute("SELECT count(*) FROM views").fetchall())
        assert count == [(20,)]
        cursors[0].interrupt()
        with pytest.raises(duckdb.InterruptException):
            await reading
    finally:
        store.close()
