"""Dashboard benchmark: the stats requests of the dashboard's first screen, sent at once, on a generated file.

    .venv/bin/python bench/stats_dashboard.py [--rows 10000000] [--runs 11] [--baseline REV]

1. Generate (or reuse) the bench-stats file (bench/stats_data.py: --rows page views of one site over 2024).
2. Start `medama start` on a copy of it; with --baseline REV, a second server runs the package as it was at
   git revision REV (extracted with `git archive`) on its own copy, so both are timed in the same run.
3. First screen: the 6 requests the issue names (summary with previous + interval, then pages, referrers,
   browsers and countries summary cards, and the properties list), sent concurrently; the time until the last
   answer. Other tabs: each remaining card's request alone. Runs alternate between the servers.
4. Print p50s against the targets (first screen ≤ 400 ms, other tabs ≤ 150 ms) and the ratios to the
   baseline; with --baseline, every answer is also compared byte for byte (numbers must not change).
The machine may be shared: read the medians and the ratios of one run, not single samples.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stats_data import HOSTNAME, ensure  # noqa: E402

from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, free_port  # noqa: E402

YEAR = "start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z"
FIRST_SCREEN = [
    f"summary?{YEAR}&previous=true&interval=month",
    f"pages?{YEAR}&summary=true&limit=5",
    f"referrers?{YEAR}&summary=true&grouped=true&limit=5",
    f"browsers?{YEAR}&summary=true&limit=5",
    f"countries?{YEAR}&summary=true&limit=5",
    f"properties?{YEAR}",
]
OTHER_TABS = [
    f"time?{YEAR}&summary=true&limit=5",
    f"sources?{YEAR}&summary=true&limit=5",
    f"mediums?{YEAR}&summary=true&limit=5",
    f"campaigns?{YEAR}&summary=true&limit=5",
    f"os?{YEAR}&summary=true&limit=5",
    f"devices?{YEAR}&limit=5",  # the dashboard sends no summary flag to devices
    f"languages?{YEAR}&summary=true&locale=false&limit=5",
]
FIRST_SCREEN_TARGET_MS = 400.0
TAB_TARGET_MS = 150.0


class Instance:
    """One `medama start` from a source tree, on its own copy of the analytics file, logged in."""

    def __init__(self, name: str, source: Path, data_file: Path) -> None:
        self.name = name
        self.source = source
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"medama-dash-{name}-"))
        shutil.copyfile(data_file, self.data_dir / "me_analytics.db")
        port = free_port()
        self.log = (self.data_dir / "server.log").open("wb")
        command = [sys.executable, "-m", "medama_py", "start", "-port", str(port)]
        command += ["-appdb", str(self.data_dir / "me_meta.db"), "-analyticsdb", str(self.data_dir / "me_analytics.db")]
        # The working directory comes first on sys.path, so `-m medama_py` imports that tree's package.
        self.process = subprocess.Popen(command, cwd=source, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.base, timeout=300)
        self._wait_and_log_in()

    def _wait_and_log_in(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.client.get("/openapi.yaml").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        login = self.client.post("/api/auth/login", json={"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD})
        login.raise_for_status()
        self.client.post("/api/websites", json={"hostname": HOSTNAME}).raise_for_status()
        if (self.source / "medama_py" / "storage" / "rollup_job.py").exists():
            wait_for_rollups(self.data_dir / "server.log")

    def get(self, request: str) -> bytes:
        response = self.client.get(f"/api/website/{HOSTNAME}/{request}")
        response.raise_for_status()
        return response.content

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(30)
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def wait_for_rollups(log: Path, timeout: float = 1800) -> None:
    """Wait until the server's rollup job says every closed hour is built (a tree without rollups skips this)."""
    began = time.monotonic()
    while "rollups up to date" not in log.read_text(errors="replace"):
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"the rollups were not built within {timeout:.0f} s")
        time.sleep(1)
    print(f"rollups built in {time.monotonic() - began:.0f} s after the site was registered")


def first_screen(instance: Instance, pool: ThreadPoolExecutor) -> tuple[float, list[bytes]]:
    began = time.perf_counter()
    answers = list(pool.map(instance.get, FIRST_SCREEN))
    return (time.perf_counter() - began) * 1000, answers


def alone(instance: Instance, request: str) -> tuple[float, bytes]:
    began = time.perf_counter()
    answer = instance.get(request)
    return (time.perf_counter() - began) * 1000, answer


def baseline_tree(revision: str) -> Path:
    """The package as it was at `revision`, extracted next to nothing else (no .git, no venv)."""
    target = Path(tempfile.mkdtemp(prefix="medama-dash-baseline-"))
    command = ["git", "-C", str(ROOT), "archive", revision, "medama_py"]
    archive = subprocess.run(command, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def run(instances: list[Instance], runs: int) -> dict[str, dict[str, list[float]]]:
    """Samples per instance and request; answers of every instance must equal the first one's."""
    samples: dict[str, dict[str, list[float]]] = {i.name: {} for i in instances}
    reference: dict[str, bytes] = {}

    def check(request: str, answer: bytes) -> None:
        if reference.setdefault(request, answer) != answer:
            raise AssertionError(f"{request}: the answers differ between the servers")

    with ThreadPoolExecutor(len(FIRST_SCREEN)) as pool:
        for instance in instances:  # warm-up: file pages into the OS cache, plans, connections
            first_screen(instance, pool)
        for _ in range(runs):
            for instance in instances:
                took, answers = first_screen(instance, pool)
                samples[instance.name].setdefault("first screen (6 at once)", []).append(took)
                for request, answer in zip(FIRST_SCREEN, answers, strict=True):
                    check(request, answer)
                for request in OTHER_TABS:
                    took, answer = alone(instance, request)
                    samples[instance.name].setdefault(request.split("?", 1)[0], []).append(took)
                    check(request, answer)
    return samples


def report(samples: dict[str, dict[str, list[float]]], runs: int) -> None:
    names = list(samples)
    print(f"\np50 of {runs} runs in ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = f"{'request':<26}" + "".join(f"{n:>12}" for n in names)
    print(header + ("  ratio" if len(names) == 2 else "") + "  target")
    for request in samples[names[0]]:
        p50 = [statistics.median(samples[n][request]) for n in names]
        target = FIRST_SCREEN_TARGET_MS if request.startswith("first") else TAB_TARGET_MS
        line = f"{request:<26}" + "".join(f"{p:>12.1f}" for p in p50)
        if len(names) == 2:
            line += f"  {p50[0] / p50[1]:5.2f}"
        print(line + f"  ≤{target:.0f} {'ok' if p50[0] <= target else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--baseline", help="git revision to time in the same run (e.g. main or a commit id)")
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("MEDAMA_BENCH_DIR", tempfile.gettempdir())) / "medama_bench"
    )
    args = parser.parse_args()
    data_file = args.cache / f"stats-{args.rows}.duckdb"
    ensure(data_file, args.rows)
    instances = [Instance("this tree", ROOT, data_file)]
    source = baseline_tree(args.baseline) if args.baseline else None
    try:
        if source is not None:
            instances.append(Instance(args.baseline, source, data_file))
        print(f"{args.rows:,} rows of one site, full-year view; servers: {', '.join(i.name for i in instances)}")
        report(run(instances, args.runs), args.runs)
        if source is not None:
            print("every answer was byte-identical between the two servers")
    finally:
        for instance in instances:
            instance.stop()
        if source is not None:
            shutil.rmtree(source, ignore_errors=True)


if __name__ == "__main__":
    main()
