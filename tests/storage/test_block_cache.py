"""DuckDB's block cache: trimmed only while nothing reads, and an export's lower limit never fails anyone else."""

from __future__ import annotations

import asyncio
import shutil
import threading
from typing import TYPE_CHECKING, Generic, TypeVar

import pytest

from medama_py.errors import ServiceUnavailable
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.block_cache import KEEP_BYTES
from medama_py.storage.limits import DuckDBLimits

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    import duckdb

T = TypeVar("T")
MB = 1024 * 1024
LIMIT = 1024 * MB
# ~60 MB of blocks once read: enough to be worth a trim (more than 32 MB cached).
ROWS = 4_000_000


@pytest.fixture(scope="module")
def wide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file with a wide table, written once per module (~2 s): each test opens its own copy."""
    path = tmp_path_factory.mktemp("block_cache") / "me_analytics.db"
    first = AnalyticsStore(str(path), DuckDBLimits(memory_bytes=LIMIT, threads=2))
    first.open()
    first.conn.execute(
        "CREATE TABLE wide AS SELECT range AS n, md5(range::VARCHAR) AS s FROM range($rows)", {"rows": ROWS}
    )
    first.close()
    return path


@pytest.fixture
def store(wide_file: Path, tmp_path: Path) -> Iterator[AnalyticsStore]:
    """A fresh copy of the wide file, opened so that nothing of it is cached yet."""
    path = tmp_path / "me_analytics.db"
    shutil.copyfile(wide_file, path)
    store = AnalyticsStore(str(path), DuckDBLimits(memory_bytes=LIMIT, threads=2))
    store.open()
    yield store
    store.close()


@pytest.fixture
def read_bounded_store(wide_file: Path, tmp_path: Path) -> Iterator[AnalyticsStore]:
    """The same copy, with reads run under 48 MB of the 1 GiB (a small limit's `read_bytes`, storage/limits.py)."""
    path = tmp_path / "me_analytics.db"
    shutil.copyfile(wide_file, path)
    store = AnalyticsStore(str(path), DuckDBLimits(memory_bytes=LIMIT, threads=2, read_bytes=48 * MB))
    store.open()
    yield store
    store.close()


def _scan(cur: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    row = cur.execute("SELECT sum(n), max(s) FROM wide").fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


class _Paused(Generic[T]):
    """`then(cursor)`, once released: a read or write that stays open while the test does something beside it."""

    def __init__(self, then: Callable[[duckdb.DuckDBPyConnection], T]) -> None:
        self.then = then
        self.inside, self.release = threading.Event(), threading.Event()

    def __call__(self, cur: duckdb.DuckDBPyConnection) -> T:
        self.inside.set()
        self.release.wait(10)
        return self.then(cur)

    async def started(self) -> None:
        await asyncio.to_thread(self.inside.wait, 10)


def _limit_of(cur: duckdb.DuckDBPyConnection) -> str:
    row = cur.execute("SELECT current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def _limit(store: AnalyticsStore) -> str:
    return _limit_of(store.cursor())


async def test_a_trim_hands_the_cached_blocks_back_and_keeps_the_full_limit(store: AnalyticsStore) -> None:
    answer = await store.read(_scan)
    cached = store.memory_bytes()
    assert cached > 32 * MB
    freed = await store.trim_cache()
    assert freed > 0
    assert store.memory_bytes() <= KEEP_BYTES + MB  # pinned memory only (the catalog's)
    assert _limit(store) == "1.0 GiB"
    assert await store.read(_scan) == answer  # read again from the file


async def test_no_trim_while_a_read_runs(store: AnalyticsStore) -> None:
    await store.read(_scan)
    slow_read = _Paused(_scan)
    reading = asyncio.ensure_future(store.read(slow_read))
    await slow_read.started()
    assert await store.trim_cache() == 0
    slow_read.release.set()
    await reading
    assert await store.trim_cache() > 0


async def test_the_checkpoint_trims_at_most_every_few_seconds(store: AnalyticsStore) -> None:
    await store.read(_scan)
    await store.checkpoint()
    assert store.cache.trims == 1
    await store.read(_scan)
    await store.checkpoint()  # within TRIM_EVERY_S of the last trim: the cache stays
    assert store.cache.trims == 1
    assert store.memory_bytes() > 32 * MB


async def test_an_export_runs_under_its_lower_limit_then_the_full_one_is_back(store: AnalyticsStore) -> None:
    await store.read(_scan)

    def seen_limit(cur: duckdb.DuckDBPyConnection) -> str:
        _scan(cur)
        return _limit_of(cur)

    assert await store.read(seen_limit, memory_bytes=48 * MB) == "48.0 MiB"
    assert store.memory_bytes() <= 48 * MB  # the blocks read before were evicted as it went
    assert _limit(store) == "1.0 GiB"


async def test_a_read_runs_under_the_read_limit_and_evicts_as_it_goes(read_bounded_store: AnalyticsStore) -> None:
    store = read_bounded_store

    def seen_limit(cur: duckdb.DuckDBPyConnection) -> tuple[tuple[int, str], str]:
        return _scan(cur), _limit_of(cur)

    answer, limit = await store.read(seen_limit)
    assert limit == "48.0 MiB"
    assert store.memory_bytes() <= 48 * MB  # ~60 MB of blocks read, the rest evicted on the way
    assert _limit(store) == "1.0 GiB"  # writes between reads keep the full limit
    assert answer == _scan(store.cursor())  # the same answer as a scan under the full limit


async def test_a_read_too_big_for_the_read_limit_answers_under_the_full_one(read_bounded_store: AnalyticsStore) -> None:
    def big_report(cur: duckdb.DuckDBPyConnection) -> int:
        # ~100 MB of list state: it cannot spill, so it fails under 48 MB and fits the full limit.
        row = cur.execute("SELECT len(list(range)) FROM range(12000000)").fetchone()
        assert row is not None
        return int(row[0])

    assert await read_bounded_store.read(big_report) == 12_000_000
    assert _limit(read_bounded_store) == "1.0 GiB"


async def test_an_exports_cached_blocks_are_handed_back_when_it_ends(store: AnalyticsStore) -> None:
    # 96 MB holds the whole table: without the trim at its end, ~60 MB of it would stay cached.
    assert await store.read(_scan, memory_bytes=96 * MB) == await store.read(_scan)
    await store.read(_scan, memory_bytes=96 * MB)
    assert store.memory_bytes() <= KEEP_BYTES + MB  # pinned memory only (the catalog's)
    assert _limit(store) == "1.0 GiB"


async def test_a_report_meeting_an_exports_lower_limit_runs_again_under_the_full_one(store: AnalyticsStore) -> None:
    export = _Paused(_scan)

    def big_report(cur: duckdb.DuckDBPyConnection) -> int:
        # ~100 MB of list state: it cannot spill, so it fails under 48 MB and fits the full limit.
        row = cur.execute("SELECT len(list(range)) FROM range(12000000)").fetchone()
        assert row is not None
        return int(row[0])

    exporting = asyncio.ensure_future(store.read(export, memory_bytes=48 * MB))
    await export.started()
    assert _limit(store) == "48.0 MiB"
    assert await store.read(big_report) == 12_000_000
    assert _limit(store) == "1.0 GiB"  # widened for the report, for the rest of the export too
    export.release.set()
    assert (await exporting)[0] == ROWS * (ROWS - 1) // 2


async def test_an_export_too_big_for_its_lower_limit_runs_again_under_the_full_one(store: AnalyticsStore) -> None:
    def big_export(cur: duckdb.DuckDBPyConnection) -> int:
        row = cur.execute("SELECT len(list(range)) FROM range(12000000)").fetchone()
        assert row is not None
        return int(row[0])

    assert await store.read(big_export, memory_bytes=48 * MB) == 12_000_000
    assert _limit(store) == "1.0 GiB"


async def test_a_query_over_the_full_limit_is_still_a_503(tmp_path: Path) -> None:
    small = AnalyticsStore(str(tmp_path / "small.db"), DuckDBLimits(memory_bytes=32 * MB, threads=1))
    small.open()
    try:
        with pytest.raises(ServiceUnavailable):
            await small.read(lambda cur: cur.execute("SELECT list(range) FROM range(20000000)").fetchone())
        assert small.cache.epoch == 0  # no lower limit was in force: refused at once, not run twice
    finally:
        small.close()


async def test_an_idle_store_is_trimmed_by_its_background_task(store: AnalyticsStore) -> None:
    await store.read(_scan)
    assert store.memory_bytes() > 32 * MB
    trims = asyncio.create_task(store.keep_cache_trimmed())
    try:
        for _ in range(100):  # IDLE_S (2 s) without reads, looked at every second
            await asyncio.sleep(0.1)
            if store.cache.trims:
                break
    finally:
        trims.cancel()
    assert store.cache.trims == 1
    assert store.memory_bytes() <= KEEP_BYTES + MB  # pinned memory only (the catalog's)


async def test_a_write_runs_under_the_full_limit_while_a_read_holds_a_lower_one(
    read_bounded_store: AnalyticsStore,
) -> None:
    # DuckDB may checkpoint inside any COMMIT, and a checkpoint that fails for memory invalidates the database: a
    # rollup build's COMMIT under a report's 32 MB did, at -memorylimit 128MB (tests/e2e/test_memory_limit.py).
    store = read_bounded_store
    slow_read = _Paused(_limit_of)
    reading = asyncio.ensure_future(store.read(slow_read))
    await slow_read.started()
    assert _limit(store) == "48.0 MiB"
    epoch = store.cache.epoch
    assert await store.write(_limit_of) == "1.0 GiB"
    assert _limit(store) == "48.0 MiB"  # the read's lower limit is back once the write ends
    assert store.cache.epoch > epoch  # a read that failed meanwhile for memory is run again
    assert await store.write(_limit_of, small=True) == "48.0 MiB"  # an apply of hits shares it (a short WAL)
    slow_read.release.set()
    assert await reading == "48.0 MiB"
    assert _limit(store) == "1.0 GiB"


async def test_a_lower_limit_asked_for_during_a_write_starts_when_the_write_ends(
    read_bounded_store: AnalyticsStore,
) -> None:
    store = read_bounded_store
    slow_write = _Paused(_limit_of)
    write = asyncio.ensure_future(store.write(slow_write))
    await slow_write.started()
    inside, release = threading.Event(), threading.Event()

    def read_across_the_write(cur: duckdb.DuckDBPyConnection) -> tuple[str, str]:
        during = _limit_of(cur)
        inside.set()
        release.wait(10)
        return during, _limit_of(cur)

    reading = asyncio.ensure_future(store.read(read_across_the_write))
    await asyncio.to_thread(inside.wait, 10)
    slow_write.release.set()
    assert await write == "1.0 GiB"
    release.set()
    assert await reading == ("1.0 GiB", "48.0 MiB")
    assert _limit(store) == "1.0 GiB"


async def test_a_checkpoint_while_a_read_holds_a_lower_limit_leaves_the_database_open(
    read_bounded_store: AnalyticsStore,
) -> None:
    store = read_bounded_store
    await store.write(lambda cur: cur.execute("INSERT INTO wide SELECT range, md5(range::VARCHAR) FROM range(50000)"))
    slow_read = _Paused(_scan)
    reading = asyncio.ensure_future(store.read(slow_read))
    await slow_read.started()
    assert await store.checkpoint()
    assert store.wal_bytes() == 0
    slow_read.release.set()
    assert (await reading)[0] == ROWS * (ROWS - 1) // 2 + 50_000 * 49_999 // 2
    assert store.recoveries == 0


async def test_a_read_too_big_for_the_read_limit_answers_under_twice_as_much(
    read_bounded_store: AnalyticsStore,
) -> None:
    # Not the full limit at once: DuckDB keeps what a read reads cached up to the limit it runs under.
    tried: list[str] = []

    def report(cur: duckdb.DuckDBPyConnection) -> int:
        tried.append(_limit_of(cur))
        # List state cannot spill: 3M-4M of them fail under 48 MB and fit 96 MB (5M does not fit 96).
        row = cur.execute("SELECT len(list(range)) FROM range(3500000)").fetchone()
        assert row is not None
        return int(row[0])

    assert await read_bounded_store.read(report) == 3_500_000
    assert tried == ["48.0 MiB", "96.0 MiB"]
    assert _limit(read_bounded_store) == "1.0 GiB"
