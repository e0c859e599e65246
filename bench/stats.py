"""Stats benchmark: every endpoint over HTTP against the same SQL run straight on DuckDB, on a generated file.

    .venv/bin/python bench/stats.py [--rows 10000000] [--runs 7] [--big 100000000]

1. Generate (or reuse) an analytics file of --rows page views for one site over 2024 (bench/stats_data.py).
2. Raw: record the SQL each report runs for a full-year query, then time those statements on a plain DuckDB
   connection (p50 of --runs).
3. HTTP: start `medama start` on the file, log in, register the site, time GET of every endpoint (p50).
4. Print both with the ratio and the targets: p50 ≤ 300 ms and ≤ 1.5× raw. The machine is shared, so read
   the medians and ratios of one run, not single samples.
--big N additionally times /summary (raw and HTTP) on an N-row file, if the disk has room.
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

from medama_py.stats.params import parse_params  # noqa: E402
from medama_py.stats.reports import REPORTS  # noqa: E402
from stats_data import HOSTNAME, ensure  # noqa: E402
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
TARGET_MS = 300.0
TARGET_RATIO = 1.5


class _Recorder:
    """Stands in for a cursor: runs each statement and remembers it, so the raw timing runs the same SQL."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur
        self.statements: list[tuple[str, dict[str, object]]] = []

    def execute(self, sql: str, params: dict[str, object]) -> duckdb.DuckDBPyConnection:
        self.statements.append((sql, params))
        return self.cur.execute(sql, params)


def _p50(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: file pages into the OS cache, plans, connections
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def _statements(cur: duckdb.DuckDBPyConnection, endpoint: str) -> list[tuple[str, dict[str, object]]]:
    report = REPORTS[endpoint]
    params = parse_params(parse_qsl(QUERIES[endpoint]), HOSTNAME, accepts=report.accepts)
    recorder = _Recorder(cur)
    report.run(cast("duckdb.DuckDBPyConnection", recorder), params)
    return recorder.statements


def time_raw(path: Path, endpoints: list[str], runs: int) -> dict[str, float]:
    """p50 of each endpoint's statements run directly on DuckDB (execute + fetchall)."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as conn:
        conn.execute("LOAD icu")
        conn.execute("SET TimeZone = 'UTC'")
        for endpoint in endpoints:
            statements = _statements(conn, endpoint)

            def run(statements: list[tuple[str, dict[str, object]]] = statements) -> None:
                for sql, params in statements:
                    conn.execute(sql, params).fetchall()

            out[endpoint] = _p50(run, runs)
    return out


def time_http(path: Path, endpoints: list[str], runs: int) -> dict[str, float]:
    """p50 of GET /api/website/{hostname}/<endpoint> on a real server over the same file."""
    data_dir = Path(tempfile.mkdtemp(prefix="medama-bench-"))
    (data_dir / "me_analytics.db").symlink_to(path)
    server = start_server(data_dir)
    try:
        client = logged_in_client(server)
        try:
            register_website(client, HOSTNAME)
            out = {}
            for endpoint in endpoints:
                url = f"/api/website/{HOSTNAME}/{endpoint}?{QUERIES[endpoint]}"

                def get(url: str = url) -> Any:
                    response = client.get(url, timeout=120)
                    response.raise_for_status()
                    return response.content

                out[endpoint] = _p50(get, runs)
            return out
        finally:
            client.close()
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _table(title: str, raw: dict[str, float], http: dict[str, float]) -> None:
    print(f"\n{title}")
    print(f"{'endpoint':<12} {'http p50 ms':>12} {'raw p50 ms':>11} {'ratio':>6}  target (≤{TARGET_MS:.0f} ms, ≤{TARGET_RATIO}×)")
    for endpoint, ms in http.items():
        ratio = ms / raw[endpoint] if raw[endpoint] else float("inf")
        ok = "ok" if ms <= TARGET_MS and ratio <= TARGET_RATIO else "MISSED"
        print(f"{endpoint:<12} {ms:>12.1f} {raw[endpoint]:>11.1f} {ratio:>6.2f}  {ok}")


def bench(rows: int, runs: int, endpoints: list[str], cache: Path) -> None:
    path = cache / f"stats-{rows}.duckdb"
    took = ensure(path, rows)
    size = path.stat().st_size / 1e6
    print(f"{rows:,} rows in {path} ({size:.0f} MB)" + (f", generated in {took:.1f} s" if took else ", reused"))
    raw = time_raw(path, endpoints, runs)
    http = time_http(path, endpoints, runs)
    _table(f"{rows:,} rows, one site, full-year queries, p50 of {runs} runs", raw, http)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--big", type=int, default=0, help="also time /summary on a file of this many rows")
    parser.add_argument("--only", nargs="*", default=list(QUERIES), choices=list(QUERIES))
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("MEDAMA_BENCH_DIR", tempfile.gettempdir())) / "medama_bench")
    args = parser.parse_args()
    bench(args.rows, args.runs, args.only, args.cache)
    if args.big:
        free = shutil.disk_usage(args.cache).free
        if free < args.big * 40:  # about 21 bytes a row on disk, twice that while generating
            print(f"\nskipping {args.big:,} rows: only {free / 1e9:.0f} GB free")
            return
        bench(args.big, max(3, args.runs // 2), ["summary"], args.cache)


if __name__ == "__main__":
    main()
