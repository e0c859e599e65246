"""Benchmark of the one-file executable (`make bench-binary`): size, cold start, idle RSS.

- size: bytes of dist/medama (target <= 80 MB).
- cold start: wall time from exec to the first 200 on /openapi.yaml, polling every 5 ms; the median
  of 5 starts on an existing data directory, each a new process (target <= 1.5 s). The CPU time the
  process tree used until then is reported too: it does not depend on what else the machine runs.
- idle RSS: resident memory of the whole process tree (a one-file PyInstaller binary is a small
  bootloader plus the server it starts) 2 s after the first 200, median of the same 5 runs
  (target <= 100 MB).
- version: wall time of `medama version` (interpreter start without the server), and the same on
  an empty cache directory (MEDAMA_CACHE_DIR): the one-off unpacking of a new build on its first run.

Writes bench/results/binary.json and prints a table. MEDAMA_BIN overrides the binary path.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "binary.json"
TARGET_SIZE_MB = 80.0
TARGET_START_S = 1.5
TARGET_RSS_MB = 100.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class Start:
    seconds: float
    cpu_seconds: float
    rss_mb: float
    processes: int


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (the onefile bootloader and the server it runs)."""
    pids = [pid]
    for candidate in pids:
        children = Path(f"/proc/{candidate}/task/{candidate}/children")
        try:
            pids.extend(int(child) for child in children.read_text().split())
        except OSError:
            continue
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLOCK_TICKS


def _rss_mb(pids: list[int]) -> float:
    total_pages = 0
    for pid in pids:
        try:
            total_pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            continue
    return total_pages * _PAGE_KB / 1024


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_once(binary: Path, data_dir: Path, settle: float) -> Start:
    """Start the binary, time the first 200 on /openapi.yaml, measure, stop it with SIGTERM."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/openapi.yaml"
    command = [
        str(binary),
        "start",
        "-port",
        str(port),
        "-appdb",
        str(data_dir / "me_meta.db"),
        "-analyticsdb",
        str(data_dir / "me_analytics.db"),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _answers(url):
            if process.poll() is not None:
                raise SystemExit(f"ERROR: {binary} exited with {process.returncode} before answering")
            if time.perf_counter() - started > 60:
                raise SystemExit(f"ERROR: {binary} did not answer within 60 s")
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        pids = _tree(process.pid)
        cpu = _cpu_seconds(pids)
        time.sleep(settle)
        pids = _tree(process.pid)
        return Start(seconds, cpu, _rss_mb(pids), len(pids))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def version_seconds(binary: Path, cache_dir: Path | None = None) -> float:
    env = {**os.environ, "MEDAMA_CACHE_DIR": str(cache_dir)} if cache_dir else None
    started = time.perf_counter()
    subprocess.run([str(binary), "version"], capture_output=True, check=True, timeout=120, env=env)
    return time.perf_counter() - started


def first_run_seconds(binary: Path) -> float:
    """`medama version` on an empty cache: unpacking included."""
    with tempfile.TemporaryDirectory(prefix="medama-cache-") as cache:
        return version_seconds(binary, Path(cache))


def _verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Size, cold start and idle RSS of the one-file binary.")
    parser.add_argument("--binary", type=Path, default=Path(os.environ.get("MEDAMA_BIN", ROOT / "dist" / "medama")))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after the first 200 before RSS")
    args = parser.parse_args(argv)
    binary: Path = args.binary.resolve()
    if not binary.is_file():
        print(f"ERROR: {binary} not found; run `make binary` first", file=sys.stderr)
        return 1

    size_mb = binary.stat().st_size / 1e6
    first_runs = [first_run_seconds(binary) for _ in range(3)]
    versions = [version_seconds(binary) for _ in range(args.runs)]
    with tempfile.TemporaryDirectory(prefix="medama-bench-") as tmp:
        data_dir = Path(tmp)
        start_once(binary, data_dir, 0.0)  # first run creates the databases and the admin user
        starts = [start_once(binary, data_dir, args.settle) for _ in range(args.runs)]

    start_s = statistics.median(s.seconds for s in starts)
    cpu_s = statistics.median(s.cpu_seconds for s in starts)
    rss_mb = statistics.median(s.rss_mb for s in starts)
    result = {
        "binary": str(binary),
        "size_mb": round(size_mb, 1),
        "cold_start_s_median": round(start_s, 3),
        "cold_start_cpu_s_median": round(cpu_s, 3),
        "idle_rss_mb_median": round(rss_mb, 1),
        "version_s_median": round(statistics.median(versions), 3),
        "first_run_unpack_s_median": round(statistics.median(first_runs), 3),
        "runs": [asdict(s) for s in starts],
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "targets": {"size_mb": TARGET_SIZE_MB, "cold_start_s": TARGET_START_S, "idle_rss_mb": TARGET_RSS_MB},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")

    print(f"binary      {binary}")
    print(f"size        {size_mb:7.1f} MB   target <= {TARGET_SIZE_MB:g} MB   {_verdict(size_mb, TARGET_SIZE_MB)}")
    print(
        f"cold start  {start_s:7.3f} s    target <= {TARGET_START_S:g} s    {_verdict(start_s, TARGET_START_S)}"
        f"   (median of {args.runs}; CPU {cpu_s:.3f} s; runs " + ", ".join(f"{s.seconds:.2f}" for s in starts) + ")"
    )
    print(f"idle RSS    {rss_mb:7.1f} MB   target <= {TARGET_RSS_MB:g} MB  {_verdict(rss_mb, TARGET_RSS_MB)}")
    print(f"version     {statistics.median(versions):7.3f} s    (interpreter start, no server)")
    print(f"first run   {statistics.median(first_runs):7.3f} s    (`version` on an empty cache: one-off unpack)")
    print(f"load avg    {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"written to  {RESULTS.relative_to(ROOT)}")
    within = size_mb <= TARGET_SIZE_MB and start_s <= TARGET_START_S and rss_mb <= TARGET_RSS_MB
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
