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

With --kill, each round runs in a child process that is killed with SIGKILL at a random moment of the storm (as
the kernel's OOM killer would), and a hit writer is started on its files: every view the child saw acknowledged
must be stored exactly once after that restart (a COMMIT that raised just before the kill is checked at the
restart: storage/journal.InDoubt).

Usage: .venv/bin/python bench/recovery.py [--rounds 30] [--parallel 12] [--memorylimit 32MB] [--kill]
       make bench-recovery ARGS="--rounds 30"
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import random
import shutil
import signal
import subprocess
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
from medama_py.storage.journal import InDoubt  # noqa: E402
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
        # Told the numbers of the feeder's views each time a group of them is acknowledged (the --kill child says them).
        self.on_acked: Callable[[list[int]], None] = lambda _numbers: None

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
            acked = []
            for i, future in enumerate(futures):
                try:
                    await future
                    self.acked += 1
                    acked.append(n + i)
                except ServiceUnavailable:
                    self.seen["hit refused 503"] += 1
            self.on_acked(acked)
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
        if (Path(f"{self.store.path}.journal") / InDoubt.NAME).exists():
            self.seen["FAILED an in-doubt mark left after a stop with everything applied"] += 1
        if not rows == bids == self.acked:
            print(f"feed: {self.acked} acknowledged, {rows} rows stored, {bids} distinct bids", flush=True)
            self.lost, self.doubled = max(self.acked - bids, 0), max(rows - bids, 0)
        self.seen["checked applies (rows DuckDB lacked)"] += self.writer.stats.checked
        self.seen["rows applied by a check"] += self.writer.stats.checked_rows_applied
        return answered, self.store.recoveries, rows == bids == self.acked


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one write(2) per line: the parent reads them while the child is killed


async def child(path: Path, limits: DuckDBLimits, parallel: int, turn: int) -> None:
    """--child: one storm on `path`, saying which feeder views were acknowledged, until the parent kills it."""
    one = Round(path, limits, parallel, collections.Counter())
    one.on_acked = lambda numbers: say("acked " + " ".join(map(str, numbers)))
    await one.run(turn)
    say("finished")


async def crash_round(base: Path, work: Path, memory: str, parallel: int, turn: int) -> dict[str, int]:
    """One round in a child killed at a random moment, then a writer started on its files: what came back."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    path = work / "analytics.db"
    shutil.copyfile(base, path)
    command = [sys.executable, __file__, "--child", str(path), "--memorylimit", memory, "--parallel", str(parallel),
               "--turn", str(turn)]  # fmt: skip
    with (work.parent / f"child-{turn}.log").open("w") as log_file:  # DuckDB's warnings: read when a view was lost
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log_file, text=True)
    lines: list[str] = []
    reader = asyncio.create_task(asyncio.to_thread(lambda: lines.extend(process.stdout or [])))
    # A storm acknowledges ~30 groups of 20 views: the kill comes after a random number of them, whatever the load.
    groups = random.Random(turn).randint(1, 30)
    while sum(line.startswith("acked ") for line in lines) < groups and process.poll() is None:
        await asyncio.sleep(0.002)
    killed = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    await reader
    acked = {int(n) for line in lines if line.startswith("acked ") for n in line.split()[1:]}
    marked = (Path(f"{path}.journal") / InDoubt.NAME).exists()
    store = AnalyticsStore(str(path), DuckDBLimits(parse_size(memory), threads_for(parse_size(memory), 2)))
    store.open()
    writer = HitWriter(store)
    await writer.start()
    await writer.settled(timeout=60)
    sql = "SELECT bid, count(*) FROM views WHERE bid LIKE 'feed%' GROUP BY bid"
    counts = {str(bid): int(n) for bid, n in await store.read(lambda cur: cur.execute(sql).fetchall())}
    await writer.stop()
    store.close()
    return {
        "killed": killed,
        "acknowledged": len(acked),
        "lost": sum(1 for n in acked if f"feed{n}" not in counts),
        "doubled": sum(n - 1 for n in counts.values()),
        "in-doubt mark found": marked,
        "checked applies at restart": writer.stats.checked,
        "rows applied by those checks": writer.stats.checked_rows_applied,
        "finished before the kill": "finished\n" in lines,
    }


async def main_kill(rounds: int, parallel: int, memory: str) -> int:
    totals: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp:
        base = Path(tmp) / "seed.db"
        seed(base)
        for turn in range(rounds):
            found = await crash_round(base, Path(tmp) / "run", memory, parallel, turn)
            totals.update(found)
            print(f"round {turn + 1}: " + ", ".join(f"{key} {value}" for key, value in found.items()), flush=True)
            if found["lost"] or found["doubled"]:
                print((Path(tmp) / f"child-{turn}.log").read_text()[-3000:], flush=True)
    print(f"\n{rounds} rounds killed with SIGKILL during 2 x {parallel} parallel reports at memory_limit {memory}")
    for key, value in totals.items():
        print(f"  {value:8d}  {key}")
    print(f"acknowledged views lost: {totals['lost']}, stored twice: {totals['doubled']} (target 0 and 0)")
    return 1 if totals["lost"] or totals["doubled"] else 0


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
    parser.add_argument("--kill", action="store_true", help="kill each round's process at a random moment")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--turn", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    memory = parse_size(args.memorylimit)
    if args.child is not None:
        asyncio.run(child(args.child, DuckDBLimits(memory, threads_for(memory, 2)), args.parallel, args.turn))
        sys.exit(0)
    if args.kill:
        sys.exit(asyncio.run(main_kill(args.rounds, args.parallel, args.memorylimit)))
    sys.exit(asyncio.run(main(args.rounds, args.parallel, memory)))
