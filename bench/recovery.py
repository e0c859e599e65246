"""Stress under a tiny memory limit: heavy reports in parallel while the rollup job builds and hits arrive.

At `-memorylimit 32MB` a dozen reports at once during the rollup job's builds run DuckDB out of memory, and
once in a while even a ROLLBACK finds none: DuckDB then raises FatalException and invalidates the database,
which the store recovers from by opening its file again (docs/architecture.md#failures). Each round copies
a seeded year of 400,000 views with ~all-distinct pages and referrers (tests/support/heavy.py: the reports'
hash tables far exceed 32 MB), opens the store and the hit writer on the copy, starts the rollup job, and then, twice,
runs PARALLEL reports at once through `AnalyticsStore.read` while a feeder keeps adding views. Afterwards:

- every report answered or failed with a 503 (memory, or the file reopening): anything else is a failure;
- a lasting failure is a round whose store does not answer a small report within 10 s after the storm;
- every acknowledged view of the feeder is stored exactly once: views lost and views stored twice are counted,
  and so are the hit writer's checked applies (after a failed one: only the rows DuckDB lacked, see
  storage/batch_check.py).

Usage: .venv/bin/python bench/recovery.py [--rounds 30] [--parallel 12] [--memorylimit 32MB]
       make bench-recovery ARGS="--rounds 30"
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from medama_py.config import parse_size  # noqa: E402
from medama_py.errors import AnalyticsReopening, ServiceUnavailable  # noqa: E402
from medama_py.model import ViewRow  # noqa: E402
from medama_py.stats.params import parse_params  # noqa: E402
from medama_py.stats.reports import REPORTS  # noqa: E402
from medama_py.storage.analytics import AnalyticsStore  # noqa: E402
from medama_py.storage.limits import DuckDBLimits, threads_for  # noqa: E402
from medama_py.storage.rollup_job import RollupJob  # noqa: E402
from medama_py.storage.writer import HitWriter  # noqa: E402
from tests.support.heavy import HEAVY_YEAR, add_heavy_year  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

SITE = "heavy.example"
YEAR = "&".join(f"{key}={value}" for key, value in HEAVY_YEAR.items())
REPORT_MIX = [
    ("summary", f"{YEAR}&previous=true&interval=day"),
    ("pages", YEAR),
    ("referrers", YEAR),
    ("sources", YEAR),
    ("campaigns", YEAR),
    ("time", YEAR),
    ("pages", f"{YEAR}&limit=5000"),
    ("browsers", YEAR),
]
SMALL = ("summary", "start=2024-12-30T00:00:00Z&end=2024-12-31T00:00:00Z")
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def seed(path: Path) -> None:
    store = AnalyticsStore(str(path))
    store.open()
    store.close()
    add_heavy_year(path, SITE)


def report(name: str, query: str) -> Callable[[duckdb.DuckDBPyConnection], object]:
    params = parse_params(parse_qsl(query), SITE, accepts=REPORTS[name].accepts)
    return lambda cur: REPORTS[name].run(cur, params)


def feeder_view(n: int) -> ViewRow:
    return ViewRow(
        bid=f"feed{n}", hostname=SITE, pathname=f"/fed/{n % 50}", is_unique_user=True, is_unique_page=True,
        referrer_host="", referrer_group="", country="", language_base="", language_dialect="",
        ua_browser="Firefox", ua_os="Linux", ua_device_type="Desktop", utm_source="", utm_medium="",
        utm_campaign="", date_created=datetime(2024, 12, 31, 12, tzinfo=UTC) + timedelta(milliseconds=n),
    )  # fmt: skip


class Round:
    """One store on a fresh copy: the storm, then the checks."""

    def __init__(self, path: Path, limits: DuckDBLimits, parallel: int, seen: collections.Counter[str]) -> None:
        self.store = AnalyticsStore(str(path), limits)
        self.writer = HitWriter(self.store)
        self.parallel = parallel
        self.seen = seen
        self.acked = 0
        self.lost = self.doubled = 0
        self.storming = True

    async def one_read(self, name: str, query: str) -> None:
        try:
            await self.store.read(report(name, query))
            self.seen["ok"] += 1
        except AnalyticsReopening:
            self.seen["503 reopening"] += 1
        except ServiceUnavailable:
            self.seen["503 memory"] += 1
        except Exception as exc:  # a 500 in the server: what this bench is here to find
            key = f"FAILED {type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
            if key not in self.seen:
                traceback.print_exc()
            self.seen[key] += 1

    async def feed(self) -> None:
        n = 0
        while self.storming:
            futures = [self.writer.add_view(feeder_view(n + i)) for i in range(20)]
            for future in futures:
                try:
                    await future
                    self.acked += 1
                except ServiceUnavailable:
                    self.seen["hit refused 503"] += 1
            n += 20
            await asyncio.sleep(0.01)

    async def answers_after(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                await self.store.read(report(*SMALL))
                return True
            except ServiceUnavailable:
                await asyncio.sleep(0.2)
        return False

    async def stored_feed(self) -> tuple[int, int]:
        await self.writer.settled(timeout=30)
        sql = "SELECT count(*), count(DISTINCT bid) FROM views WHERE bid LIKE 'feed%'"
        row = await self.store.read(lambda cur: cur.execute(sql).fetchone())
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def run(self, turn: int) -> tuple[bool, int, bool]:
        """(answered after the storm, recoveries, every acknowledged view stored once)."""
        self.store.open()
        await self.writer.start()
        job = asyncio.create_task(RollupJob(self.store, [SITE], lambda: NOW).run())
        feeder = asyncio.create_task(self.feed())
        try:
            for _ in range(2):
                mix = [REPORT_MIX[(i + turn) % len(REPORT_MIX)] for i in range(self.parallel)]
                await asyncio.gather(*(self.one_read(name, query) for name, query in mix))
        finally:
            self.storming = False
            await feeder
            job.cancel()
        answered = await self.answers_after()
        rows, bids = await self.stored_feed() if answered else (-1, -1)
        await self.writer.stop()
        self.store.close()
        if not rows == bids == self.acked:
            print(f"feed: {self.acked} acknowledged, {rows} rows stored, {bids} distinct bids", flush=True)
            self.lost, self.doubled = max(self.acked - bids, 0), max(rows - bids, 0)
        self.seen["checked applies (rows DuckDB lacked)"] += self.writer.stats.checked
        self.seen["rows applied by a check"] += self.writer.stats.checked_rows_applied
        return answered, self.store.recoveries, rows == bids == self.acked


async def main(rounds: int, parallel: int, memory: int) -> int:
    limits = DuckDBLimits(memory, threads_for(memory, 2))
    seen: collections.Counter[str] = collections.Counter()
    lasting = recoveries = lost = lost_views = doubled_views = 0
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp:
        base, work = Path(tmp) / "seed.db", Path(tmp) / "run"
        seed(base)
        for turn in range(rounds):
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            shutil.copyfile(base, work / "analytics.db")
            one = Round(work / "analytics.db", limits, parallel, seen)
            answered, recovered, exact = await one.run(turn)
            lost_views, doubled_views = lost_views + one.lost, doubled_views + one.doubled
            lasting += not answered
            recoveries += recovered
            lost += not exact
            print(f"round {turn + 1}: {'answers' if answered else 'DOES NOT ANSWER'}, recoveries {recovered}, "
                  f"feed {'stored once' if exact else 'NOT stored exactly once'}", flush=True)  # fmt: skip
    failed = sum(count for key, count in seen.items() if key.startswith("FAILED"))
    print(f"\n{rounds} rounds x 2 x {parallel} parallel reports at memory_limit {memory // 2**20} MB")
    for key, count in seen.most_common():
        print(f"  {count:6d}  {key}")
    print(f"recoveries (database reopened): {recoveries}")
    print(f"reports failed other than 503: {failed} (target 0)")
    print(f"lasting failures (no answer 10 s after the storm): {lasting} (target 0)")
    print(f"rounds whose acknowledged views were not stored exactly once: {lost} (target 0)")
    print(f"acknowledged views lost: {lost_views}, stored twice: {doubled_views} (target 0 and 0)")
    return 1 if failed or lasting or lost else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=12)
    parser.add_argument("--memorylimit", default="32MB")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(main(args.rounds, args.parallel, parse_size(args.memorylimit))))
