"""The analytics store's threads run below the event loop's CPU priority (storage/cpu_priority.py), on a real store."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.cpu_priority import BACKGROUND_NICE
from medama_py.storage.limits import DuckDBLimits

if TYPE_CHECKING:
    import duckdb

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread priorities are Linux's")

MB = 1024 * 1024


def _threads() -> set[int]:
    return {int(path.name) for path in Path("/proc/self/task").iterdir()}


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def _this_thread(_: duckdb.DuckDBPyConnection) -> int:
    return threading.get_native_id()


async def test_the_stores_threads_and_duckdbs_workers_run_below_the_loop(tmp_path: Path) -> None:
    loop_nice = _nice(threading.get_native_id())
    expected = max(BACKGROUND_NICE, loop_nice)  # never raised: a test run under `nice 19` stays at 19
    before = _threads()
    store = AnalyticsStore(str(tmp_path / "me_analytics.db"), DuckDBLimits(memory_bytes=64 * MB, threads=3))
    store.open()
    try:
        started = _threads() - before
        writer = await store.write(_this_thread)
        reader = await store.read(_this_thread, settled=False)
        # The writer thread and DuckDB's two worker threads (threads=3 counts the caller's) started with the store.
        assert writer in started
        assert len(started) >= 3
        assert {tid: _nice(tid) for tid in started} == dict.fromkeys(started, expected)
        assert _nice(reader) == expected
        assert _nice(threading.get_native_id()) == loop_nice  # the loop's own thread keeps its priority
    finally:
        store.close()
