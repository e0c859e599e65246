"""Stats benchmark: every endpoint over HTTP against the same SQL run straight on DuckDB, on a generated file.

    .venv/bin/python bench/stats.py [--rows 10000000] [--runs 7] [--big 100000000] [--baseline REV]

1. Generate (or reuse) an analytics file of --rows page views for one site over 2024 (bench/stats_data.py).
2. Raw: record the SQL each report runs for a full-year query without the hourly rollups, then time those
   statements on a plain DuckDB connection (p50 of --runs). The server reads the rollups (once built), so
   the ratio of /summary shows what they save.
3. HTTP: start `medama start` on the file, log in, register the site, time GET of every endpoint (p50).
4. Print both with the ratio and the targets: p50 ≤ 150 ms (the dashboard speed target) and ≤ 1.5× raw.
   The machine is shared, so read the medians and ratios of one run, not single samples.
--baseline REV instead times each endpoint over HTTP on two servers, this tree and the package as it was at git
revision REV (bench/stats_dashboard.py), samples alternating, and checks that every answer is byte-identical:
the ratio of one run says what a change saves whatever the load.
--big N additionally times /summary (raw and HTTP) on an N-row file, if the disk has room. The server's peak
RSS is printed after each file; --memorylimit passes the server's -memorylimit (DuckDB keeps the file's blocks
it read cached up to that limit, so the peak follows it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stats_dashboard import Instance, baseline_tree, wait_for_rollups  # noqa: E402
from stats_data import HOSTNAME, ensure  # noqa: E402

from medama_py.stats.params import parse_params  # noqa: E402
from medama_py.stats.reports import REPORTS  # noqa: E402
from medama_py.storage.analytics_file import configure_database  # noqa: E402
from tests.support.server import logged_in_client, register_website, start_server  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

YEAR = "start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z"
# What the dashboard asks for on a full-year view, in the heavier full (not summary) variant.
QUERIES = {
    "summary": f"{YEAR}&previous=true&interval=month",
    "pages": f"{YEAR}&limit=100",
    "time": f"{YEAR}&limit=100",
    "referrers": f"{YEAR}&limit=100",
    "sources": f"{YEAR}&limit=100",
    "mediums": f"{YEAR}&limit=100",
    "campaigns": f"{YEAR}&limit=100",
    "browsers": f"{YEAR}&limit=100",
    "os": f"{YEAR}&limit=100",
    "devices": f"{YEAR}&limit=100",
    "countries": f"{YEAR}&limit=100",
    "languages": f"{YEAR}&limit=100",
    "properties": f"{YEAR}&limit=100",
}
TARGET_MS = 150.0
TARGET_RATIO = 1.5


class _Recorder:
    """Stands in for a cursor: runs each statement and remembers it, so the raw timing runs the same SQL."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur
        self.statements: list[tuple[str, dict[str, object]]] = []

    def execute(self, sql: str, params: dict[str, object]) -> duckdb.DuckDBPyConnection:
        self.statements.append((sql, params))
        return self.cur.execute(sql, params)


def _statements(cur: duckdb.DuckDBPyConnection, endpoint: str) -> list[tuple[str, dict[str, object]]]:
    report = REPORTS[endpoint]
    params = parse_params(parse_qsl(QUERIES[endpoint]), HOSTNAME, accepts=report.accepts)
    recorder = _Recorder(cur)
    report.run(cast("duckdb.DuckDBPyConnection", recorder), params)
    return recorder.statements


class _Raw:
    """The same statements on a plain DuckDB connection to a copy of the file (the server holds the original)."""

    def __init__(self, path: Path) -> None:
        self.conn = duckdb.connect(str(path), read_only=True)
        self.conn.execute("LOAD icu")
        self.conn.execute("SET TimeZone = 'UTC'")
        # The server's instance settings, so both sides run the same plans.
        configure_database(self.conn)

    def runner(self, endpoint: str) -> Callable[[], object]:
        statements = _statements(self.conn, endpoint)

        def run() -> object:
            return [self.conn.execute(sql, params).fetchall() for sql, params in statements]

        return run


def time_both(
    path: Path, endpoints: list[str], runs: int, server_args: tuple[str, ...] = ()
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """p50 of raw SQL and of GET /api/website/{hostname}/<endpoint>, samples interleaved so both see the same load."""
    copy = path.with_name(path.stem + ".raw.duckdb")
    if not copy.exists() or copy.stat().st_mtime < path.stat().st_mtime:
        shutil.copyfile(path, copy)
    raw_db = _Raw(copy)
    data_dir = Path(tempfile.mkdtemp(prefix="medama-bench-"))
    # A copy: the server writes its rollups into the file, and the cached original must stay as generated.
    shutil.copyfile(path, data_dir / "me_analytics.db")
    server = start_server(data_dir, *server_args)
    client = logged_in_client(server)
    try:
        register_website(client, HOSTNAME)
        wait_for_rollups(server.log_path)
        raw, http, cpu_ms = {}, {}, {}
        for endpoint in endpoints:
            url = f"/api/website/{HOSTNAME}/{endpoint}?{QUERIES[endpoint]}"

            def get(url: str = url) -> Any:
                response = client.get(url, timeout=300)
                response.raise_for_status()
                return response.content

            run_raw = raw_db.runner(endpoint)
            samples: dict[str, list[float]] = {"raw": [], "http": [], "cpu": []}
            run_raw(), get()  # warm-up: file pages into the OS cache, plans, connections
            for _ in range(runs):
                for kind, fn in (("raw", run_raw), ("http", get)):
                    began, cpu = time.perf_counter(), time.process_time()
                    fn()
                    samples[kind].append((time.perf_counter() - began) * 1000)
                    if kind == "raw":
                        # CPU time of DuckDB's threads in this process: what the query costs, whatever the load.
                        samples["cpu"].append((time.process_time() - cpu) * 1000)
            raw[endpoint] = statistics.median(samples["raw"])
            http[endpoint] = statistics.median(samples["http"])
            cpu_ms[endpoint] = statistics.median(samples["cpu"])
        print(f"server peak RSS (VmHWM): {_peak_rss_mb(server.process.pid):.0f} MB")
        return raw, http, cpu_ms
    finally:
        client.close()
        server.stop()
        raw_db.conn.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def time_against(path: Path, endpoints: list[str], runs: int, baseline: str) -> None:
    """p50 of GET of every endpoint on this tree's server and on `baseline`'s, alternating; answers must match."""
    source = baseline_tree(baseline)
    instances: list[Instance] = []
    try:
        instances = [Instance("this tree", ROOT, path), Instance(baseline, source, path)]
        p50: dict[str, list[float]] = {}
        for endpoint in endpoints:
            request = f"{endpoint}?{QUERIES[endpoint]}"
            answers = {instance.get(request) for instance in instances}  # warm-up, and the answers compared
            samples: list[list[float]] = [[] for _ in instances]
            for run in range(runs):
                # Each server goes first every other run: the one timed second ran slower in one run (summary,
                # the same code on both: 0.85).
                for n, instance in sorted(enumerate(instances), reverse=run % 2 == 1):
                    began = time.perf_counter()
                    answers.add(instance.get(request))
                    samples[n].append((time.perf_counter() - began) * 1000)
            if len(answers) != 1:
                raise AssertionError(f"{endpoint}: the answers differ between the servers")
            p50[endpoint] = [statistics.median(s) for s in samples]
        load = os.getloadavg()[0]
        print(f"\nHTTP p50 of {runs} runs, ms; load average {load:.1f}; every answer byte-identical")
        print(f"{'endpoint':<12} {'this tree':>10} {baseline[:12]:>12} {'ratio':>6}  target (≤{TARGET_MS:.0f} ms)")
        for endpoint, (this, before) in p50.items():
            ok = "ok" if this <= TARGET_MS else "MISSED"
            print(f"{endpoint:<12} {this:>10.1f} {before:>12.1f} {this / before:>6.2f}  {ok}")
    finally:
        for instance in instances:
            instance.stop()
        shutil.rmtree(source, ignore_errors=True)


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far, from /proc (Linux); 0 where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _table(title: str, raw: dict[str, float], http: dict[str, float], cpu: dict[str, float]) -> None:
    load = os.getloadavg()[0]
    print(f"\n{title}; load average {load:.1f} on {os.cpu_count()} cores")
    print(
        f"{'endpoint':<12} {'http p50 ms':>12} {'raw p50 ms':>11} {'ratio':>6} {'raw CPU ms':>11}"
        f"  target (≤{TARGET_MS:.0f} ms, ≤{TARGET_RATIO}×)"
    )
    for endpoint, ms in http.items():
        ratio = ms / raw[endpoint] if raw[endpoint] else float("inf")
        ok = "ok" if ms <= TARGET_MS and ratio <= TARGET_RATIO else "MISSED"
        print(f"{endpoint:<12} {ms:>12.1f} {raw[endpoint]:>11.1f} {ratio:>6.2f} {cpu[endpoint]:>11.1f}  {ok}")


def bench(rows: int, runs: int, endpoints: list[str], cache: Path, server_args: tuple[str, ...] = ()) -> None:
    path = cache / f"stats-{rows}.duckdb"
    took = ensure(path, rows)
    size = path.stat().st_size / 1e6
    print(f"{rows:,} rows in {path} ({size:.0f} MB)" + (f", generated in {took:.1f} s" if took else ", reused"))
    raw, http, cpu = time_both(path, endpoints, runs, server_args)
    _table(f"{rows:,} rows, one site, full-year queries, p50 of {runs} runs", raw, http, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--big", type=int, default=0, help="also time /summary on a file of this many rows")
    parser.add_argument("--only", nargs="*", default=list(QUERIES), choices=list(QUERIES))
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("MEDAMA_BENCH_DIR", tempfile.gettempdir())) / "medama_bench"
    )
    parser.add_argument("--memorylimit", default="", help="the server's -memorylimit (default: its own policy)")
    parser.add_argument("--baseline", help="git revision to time against over HTTP in the same run (e.g. main)")
    args = parser.parse_args()
    if args.baseline:
        path = args.cache / f"stats-{args.rows}.duckdb"
        ensure(path, args.rows)
        time_against(path, args.only, args.runs, args.baseline)
        return
    server_args = ("-memorylimit", args.memorylimit) if args.memorylimit else ()
    print(f"server -memorylimit: {args.memorylimit or 'its default (a share of RAM)'}")
    bench(args.rows, args.runs, args.only, args.cache, server_args)
    if args.big:
        free = shutil.disk_usage(args.cache).free
        if free < args.big * 40:  # about 21 bytes a row on disk, twice that while generating
            print(f"\nskipping {args.big:,} rows: only {free / 1e9:.0f} GB free")
            return
        bench(args.big, max(3, args.runs // 2), ["summary"], args.cache, server_args)


if __name__ == "__main__":
    main()
