"""DuckDB's memory limit and threads: chosen from the host or -memorylimit, and a query over the limit is a 503."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import TYPE_CHECKING

import pytest

from medama_py.errors import ServiceUnavailable
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.limits import (
    MIN_MEMORY_BYTES,
    DuckDBLimits,
    cgroup_cpus,
    cgroup_memory_bytes,
    default_memory_bytes,
    limits_for_host,
    read_bytes_for,
    threads_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import duckdb

MB = 1024 * 1024


@pytest.fixture
def small_store(tmp_path: Path) -> Iterator[AnalyticsStore]:
    store = AnalyticsStore(str(tmp_path / "me_analytics.db"), DuckDBLimits(memory_bytes=32 * MB, threads=1))
    store.open()
    yield store
    store.close()


def test_the_limits_reach_duckdb(small_store: AnalyticsStore, tmp_path: Path) -> None:
    row = (
        small_store.cursor()
        .execute(
            "SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
        )
        .fetchone()
    )
    assert row == ("32.0 MiB", 1, str(tmp_path / "me_analytics.db.tmp"))


async def test_a_query_over_the_limit_is_a_503_and_the_store_keeps_serving(small_store: AnalyticsStore) -> None:
    # A list aggregate of 20M integers (~160 MB) cannot spill to disk: DuckDB runs out of its 32 MB.
    with pytest.raises(ServiceUnavailable) as refused:
        await small_store.read(lambda cur: cur.execute("SELECT list(range) FROM range(20000000)").fetchone())
    assert refused.value.status_code == 503
    assert "memory" in refused.value.detail
    assert await small_store.read(lambda cur: cur.execute("SELECT 42").fetchone()) == (42,)
    await small_store.write(lambda cur: cur.execute("INSERT INTO events VALUES ('e', 'a.com', 'k', 'v', now(), 'b')"))
    assert await small_store.read(lambda cur: cur.execute("SELECT count(*) FROM events").fetchone()) == (1,)


async def test_a_read_whose_rollback_fails_leaves_its_thread_a_working_cursor(small_store: AnalyticsStore) -> None:
    """Under memory pressure a read's closing ROLLBACK itself can fail (OutOfMemoryException, seen at 32 MB while a
    rollup build ran), which left that worker thread's cursor inside an aborted transaction: every later read on the
    thread failed with "Current transaction is aborted" (a 500). A read that closes its own cursor makes the same
    ROLLBACK fail deterministically."""

    def close_own_cursor(cur: duckdb.DuckDBPyConnection) -> int:
        cur.close()
        return threading.get_ident()

    def thread_and_answer(cur: duckdb.DuckDBPyConnection) -> tuple[int, object]:
        return threading.get_ident(), cur.execute("SELECT 42").fetchone()

    failed_on = await small_store.read(close_own_cursor)  # the read's own answer stands
    answers = [await small_store.read(thread_and_answer) for _ in range(3)]
    assert failed_on in {thread for thread, _ in answers}, "the next reads ran on other threads: nothing checked"
    assert [answer for _, answer in answers] == [(42,)] * 3


async def test_a_large_sort_spills_instead_of_failing(small_store: AnalyticsStore) -> None:
    # ~5M distinct strings grouped and sorted need far more than 32 MB in memory; DuckDB spills to the
    # temp directory next to the file. Spilling may still not be enough on some hosts: then it is a 503.
    query = (
        "SELECT count(*) FROM (SELECT s, count(*) FROM"
        " (SELECT 'page-' || (range * 7919 % 5000000) AS s FROM range(5000000)) GROUP BY s)"
    )
    try:
        rows = await small_store.read(lambda cur: cur.execute(query).fetchone())
    except ServiceUnavailable as refused:
        assert refused.status_code == 503
    else:
        assert rows == (5_000_000,)
    assert await small_store.read(lambda cur: cur.execute("SELECT 1").fetchone()) == (1,)


def test_cgroup_v2_memory_and_cpu(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text("268435456\n")
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_memory_bytes(tmp_path, tmp_path / "none") == 256 * MB
    assert cgroup_cpus(tmp_path) == 1.5


def test_cgroup_v2_without_limits(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_memory_bytes(tmp_path, tmp_path / "none") is None
    assert cgroup_cpus(tmp_path) is None


def test_cgroup_v1_memory_and_cpu(tmp_path: Path) -> None:
    (tmp_path / "limit").write_text("536870912\n")
    (tmp_path / "quota").write_text("200000\n")
    (tmp_path / "period").write_text("100000\n")
    assert cgroup_memory_bytes(tmp_path / "v2-absent", tmp_path / "limit") == 512 * MB
    assert cgroup_cpus(tmp_path / "v2-absent", tmp_path / "quota", tmp_path / "period") == 2.0


def test_cgroup_v1_unlimited(tmp_path: Path) -> None:
    (tmp_path / "limit").write_text("9223372036854771712\n")  # v1's "no limit"
    (tmp_path / "quota").write_text("-1\n")
    assert cgroup_memory_bytes(tmp_path / "v2-absent", tmp_path / "limit") is None
    assert cgroup_cpus(tmp_path / "v2-absent", tmp_path / "quota", tmp_path / "period") is None


def test_host_limits() -> None:
    chosen = limits_for_host()
    assert chosen.memory_bytes >= MIN_MEMORY_BYTES
    assert 1 <= chosen.threads <= 4
    assert limits_for_host(128 * MB).memory_bytes == 128 * MB


@pytest.mark.parametrize(
    ("host_mb", "duckdb_mb"),
    [
        (128, 32),  # below the server's own reserve: DuckDB's floor
        (256, 64),  # Medama's small VM: what the server's reserve leaves
        (512, 204),  # 40% from here on
        (1280, 512),
        (24 * 1024, 512),  # at most DEFAULT_CAP_BYTES
    ],
)
def test_default_memory_leaves_the_server_its_reserve(host_mb: int, duckdb_mb: int) -> None:
    assert default_memory_bytes(host_mb * MB) // MB == duckdb_mb


def test_threads_follow_cores_and_memory() -> None:
    assert threads_for(64 * MB, cpus=8) == 2  # 32 MB per thread
    assert threads_for(32 * MB, cpus=8) == 1
    assert threads_for(10 * 2**30, cpus=2) == 2
    assert threads_for(10 * 2**30, cpus=64) == 4
    assert limits_for_host(64 * MB).threads <= 2


@pytest.mark.parametrize(
    ("duckdb_mb", "read_mb"),
    [
        (1024, None),  # a large limit: reads run under all of it
        (256, None),
        (128, 32),  # -memorylimit 128MB: a quarter
        (64, 32),  # Medama's small VM: at least MIN_MEMORY_BYTES
        (32, None),  # nothing lower is left
    ],
)
def test_reads_run_under_a_quarter_of_a_small_limit(duckdb_mb: int, read_mb: int | None) -> None:
    read = read_bytes_for(duckdb_mb * MB)
    assert (read if read is None else read // MB) == read_mb
    assert limits_for_host(duckdb_mb * MB).read_bytes == read


@pytest.mark.parametrize(
    ("duckdb_mb", "steps_mb"),
    [
        (1024, ()),  # reads run under the full limit
        (128, (32, 64)),  # a report that meets 32 MB runs under 64 before all 128
        (100, (32, 64)),
        (64, (32,)),
        (32, ()),
    ],
)
def test_a_read_that_meets_its_limit_tries_twice_as_much_before_the_full_one(
    duckdb_mb: int, steps_mb: tuple[int, ...]
) -> None:
    assert tuple(step // MB for step in limits_for_host(duckdb_mb * MB).read_steps()) == steps_mb


def _connections(store: AnalyticsStore) -> int:
    row = store.cursor().execute("SELECT * FROM duckdb_connection_count()").fetchone()
    assert row is not None
    return int(row[0])


def test_a_retired_worker_threads_cursor_is_closed(small_store: AnalyticsStore) -> None:
    # Each event loop gets its own anyio worker thread and stops it when it ends, as anyio retires a thread idle for
    # 10 s in the server. The read cursor that thread made must go with it, not stay open for the process's life.
    threads: list[threading.Thread] = []

    def count(cur: duckdb.DuckDBPyConnection) -> tuple[int, ...] | None:
        threads.append(threading.current_thread())
        return cur.execute("SELECT count(*) FROM views").fetchone()

    def read_on_a_thread_that_retires() -> tuple[int, ...] | None:
        answer = asyncio.run(small_store.read(count))
        # The loop's end only tells its worker thread to stop: wait until it has. Counted any earlier, under load
        # the thread (and the cursor it holds) could still be there (seen at load ~14 under -n 2).
        threads[-1].join(30)
        assert not threads[-1].is_alive()
        gc.collect()
        return answer

    read_on_a_thread_that_retires()
    before = _connections(small_store)
    for _ in range(5):
        assert read_on_a_thread_that_retires() == (0,)
    assert len(set(threads)) == 6  # six threads, each retired with its cursor
    assert _connections(small_store) == before


@pytest.mark.parametrize(
    ("duckdb_mb", "held"),
    [
        (512, 16 * 1024 * 1024),  # a big host's cap: a year's listed paths at 10M views are held (~2M durations)
        (128, 1024 * 1024),  # -memorylimit 128MB: reads under 32 MB hold at most ~1M, then bins
        (64, 1024 * 1024),  # Medama's small VM: reads under 32 MB as well
        (32, 1024 * 1024),
    ],
)
def test_reports_hold_durations_in_proportion_to_their_reads_limit(duckdb_mb: int, held: int) -> None:
    assert limits_for_host(duckdb_mb * MB).held_durations == held
