"""Data benchmark (`make bench-data`): export, import and backup on the bench-stats analytics file.

1. Generate (or reuse) the file of --rows page views that bench/stats.py uses (bench/stats_data.py), and
   copy it into a fresh data directory (the cached file is shared, so it is never opened by a server).
2. Once the server is idle (it builds the sites' rollups after they are registered), export the file through
   it as Parquet and CSV (GET /api/website/{hostname}/export, no range): rows/s, and the server's peak RSS
   during each export (VmHWM reset just before it; target <= 300 MB), with its RSS sampled every 5 s.
3. Backup under load: wrk sends the bench-ingest tracker mix in back-to-back slices of --slice s; first
   --baseline slices alone, then slices while POST /api/backup runs. Hits/s of the slices that lie mostly
   inside the backup, over the median of the baseline slices (target >= 0.7x), and the backup's duration.
4. Stop the server; `medama import` each exported file into a new analytics file: rows/s, and the row
   count checked against the export's.

All figures and ratios come from one run; the machine is shared, so the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import psutil

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from ingest import DRAIN_MS, peak_rss_mb, run_wrk  # noqa: E402  (sibling modules: bench/ is not a package)
from ingest_wrk import SITES  # noqa: E402
from stats_data import HOSTNAME, ensure  # noqa: E402

from tests.support.server import Server, logged_in_client, medama_command, register_website, start_server  # noqa: E402

if TYPE_CHECKING:
    import httpx

RSS_TARGET_MB = 300
SAMPLE_SECONDS = 5.0
BACKUP_RATIO_TARGET = 0.7


def count_rows(path: Path, file_format: str) -> int:
    reader = {"parquet": "read_parquet", "csv": "read_csv_auto"}[file_format]
    found = duckdb.execute(f"SELECT count(*) FROM {reader}(?)", [str(path)]).fetchone()
    assert found is not None
    return int(found[0])


def export_once(client: httpx.Client, file_format: str, out: Path) -> float:
    """Stream the whole export to `out`; return the seconds it took, first byte of the request to last."""
    began = time.perf_counter()
    with client.stream("GET", f"/api/website/{HOSTNAME}/export", params={"format": file_format}, timeout=3600) as resp:
        resp.raise_for_status()
        with out.open("wb") as handle:
            for chunk in resp.iter_bytes(1 << 20):
                handle.write(chunk)
    return time.perf_counter() - began


@dataclass
class Slice:
    began: float
    ended: float
    hits_per_s: float


def wrk_slices(server: Server, seconds: int, connections: int, workdir: Path, stop: threading.Event) -> list[Slice]:
    """Back-to-back wrk runs until `stop` is set; each reports its acknowledged hits/s."""
    slices: list[Slice] = []
    while not stop.is_set():
        began = time.monotonic()
        result = run_wrk(server.base_url, seconds, connections, 1, workdir)
        slices.append(Slice(began, time.monotonic(), result.hits_per_s))
    return slices


def backup_under_load(server: Server, client: httpx.Client, args: argparse.Namespace, workdir: Path) -> None:
    baseline = [
        run_wrk(server.base_url, args.slice, args.connections, 1, workdir).hits_per_s for _ in range(args.baseline)
    ]
    stop = threading.Event()
    during: list[Slice] = []
    loader = threading.Thread(
        target=lambda: during.extend(wrk_slices(server, args.slice, args.connections, workdir, stop))
    )
    loader.start()
    time.sleep(args.slice / 2)
    began = time.monotonic()
    size = 0
    with client.stream("POST", "/api/backup", timeout=3600) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_bytes(1 << 20):
            size += len(chunk)
    ended = time.monotonic()
    stop.set()
    loader.join()
    took = ended - began
    # A slice counts as "during" when more than half of its real phase lies inside the backup.
    inside = [s for s in during if min(s.ended, ended) - max(s.began, began) > (s.ended - s.began) / 2]
    base = statistics.median(baseline)
    print(f"\nbackup under load: {took:.1f} s, archive {size / 1e6:.0f} MB")
    print(
        f"  hits/s without backup (median of {len(baseline)} x {args.slice} s): {base:,.0f}"
        f"  {[round(b) for b in baseline]}"
    )
    if not inside:
        print("  no wrk slice lay mostly inside the backup: lower --slice to compare")
        return
    load = statistics.median(s.hits_per_s for s in inside)
    ratio = load / base if base else 0.0
    ok = "ok" if ratio >= BACKUP_RATIO_TARGET else "MISSED"
    print(
        f"  hits/s during backup (median of {len(inside)} slices): {load:,.0f}  {[round(s.hits_per_s) for s in inside]}"
    )
    print(f"  ratio {ratio:.2f}x (target >= {BACKUP_RATIO_TARGET}x)  {ok}")


def duckdb_memory_mb(client: httpx.Client) -> float:
    """What DuckDB holds now (GET /api/user/usage): after a scan, mostly the file's blocks it keeps cached."""
    return float(client.get("/api/user/usage").json()["analytics"]["memoryUsed"]) / 1e6


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key}")


def _reset_peak(pid: int) -> None:
    """Restart VmHWM from the current RSS (Linux clear_refs 5): the peak then covers what follows only."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _wait_until_idle(pid: int, limit_s: float = 300.0) -> None:
    """Wait until the start-up work (the rollups of the sites just registered) is done: < 10% CPU for 1 s."""
    process = psutil.Process(pid)
    began = time.perf_counter()
    while process.cpu_percent(interval=1.0) >= 10.0 and time.perf_counter() - began < limit_s:
        pass
    print(f"server idle after {time.perf_counter() - began:.0f} s")


def _sample_rss(pid: int, series: list[float], stop: threading.Event) -> None:
    while not stop.wait(SAMPLE_SECONDS):
        series.append(_status_mb(pid, "VmRSS:"))


def exports(server: Server, client: httpx.Client, rows: int, workdir: Path) -> dict[str, Path]:
    files = {}
    pid = server.process.pid
    _wait_until_idle(pid)
    print(
        f"\nexport through the server ({rows:,} rows): peak RSS of start-up, rollup builds and logins"
        f" {peak_rss_mb(pid):.0f} MB; RSS now {_status_mb(pid, 'VmRSS:'):.0f} MB, DuckDB memory"
        f" {duckdb_memory_mb(client):.0f} MB. Each export's peak is its own (VmHWM reset before it)."
    )
    for file_format in ("parquet", "csv"):
        out = workdir / f"views.{file_format}"
        _reset_peak(pid)
        series: list[float] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(pid, series, stop), daemon=True)
        sampler.start()
        took = export_once(client, file_format, out)
        stop.set()
        sampler.join()
        rss = peak_rss_mb(pid)
        written = count_rows(out, file_format)
        ok = "ok" if rss <= RSS_TARGET_MB and written == rows else "MISSED"
        print(
            f"  {file_format:<8} {took:6.1f} s  {written / took:>12,.0f} rows/s  {out.stat().st_size / 1e6:6.0f} MB"
            f"  rows {written:,}  server peak RSS {rss:.0f} MB (target <= {RSS_TARGET_MB})  {ok}"
            f"  DuckDB memory after {duckdb_memory_mb(client):.0f} MB"
        )
        median = statistics.median(series) if series else float("nan")
        print(f"    RSS MB every {SAMPLE_SECONDS:.0f} s (median {median:.0f}): {', '.join(f'{m:.0f}' for m in series)}")
        files[file_format] = out
    return files


def imports(files: dict[str, Path], rows: int, workdir: Path) -> None:
    print("\nmedama import into a new analytics file")
    for file_format, path in files.items():
        target = workdir / f"imported-{file_format}.duckdb"
        command = [*medama_command(), "import", "-analyticsdb", str(target), "-table", "views", str(path)]
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        took = time.perf_counter() - began
        if done.returncode != 0:
            print(f"  {file_format:<8} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
            continue
        with duckdb.connect(str(target), read_only=True) as conn:
            found = conn.execute("SELECT count(*) FROM views").fetchone()
        stored = int(found[0]) if found else 0
        ok = "ok" if stored == rows else "MISSED"
        print(f"  {file_format:<8} {took:6.1f} s  {stored / took:>12,.0f} rows/s  rows {stored:,}  {ok}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("ROWS", "10000000")))
    parser.add_argument("--slice", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--baseline", type=int, default=3, help="wrk runs without a backup")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--steps", default="export,backup,import", help="which steps to run (import needs export), comma-separated"
    )
    parser.add_argument("--memorylimit", default="", help="the server's -memorylimit (default: its own policy)")
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("MEDAMA_BENCH_DIR", tempfile.gettempdir())) / "medama_bench"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: sudo apt-get install wrk", file=sys.stderr)
        return 1
    args.cache.mkdir(parents=True, exist_ok=True)
    cached = args.cache / f"stats-{args.rows}.duckdb"
    took = ensure(cached, args.rows)
    print(f"{args.rows:,} rows in {cached}" + (f", generated in {took:.1f} s" if took else ", reused"))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; wrk drain {DRAIN_MS} ms per slice")
    print(f"server -memorylimit: {args.memorylimit or 'its default (a share of RAM)'}")
    workdir = Path(tempfile.mkdtemp(prefix="medama-bench-data-"))
    try:
        (workdir / "data").mkdir()
        shutil.copyfile(cached, workdir / "data" / "me_analytics.db")
        steps = set(args.steps.split(","))
        limit = ("-memorylimit", args.memorylimit) if args.memorylimit else ()
        server = start_server(workdir / "data", "-level", "warn", *limit, timeout=120)
        try:
            client = logged_in_client(server)
            for site in (HOSTNAME, *SITES):
                register_website(client, site)
            files = exports(server, client, args.rows, workdir) if "export" in steps else {}
            if "backup" in steps:
                backup_under_load(server, client, args, workdir)
            print(f"server peak RSS over the whole run: {peak_rss_mb(server.process.pid):.0f} MB")
            client.close()
        finally:
            server.stop()
        if "import" in steps:
            imports(files, args.rows, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
