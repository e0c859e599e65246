"""Soak benchmark: sustained ingestion plus dashboard queries against the real server, watching its memory.

wrk sends the ingest benchmark's tracker mix (bench/ingest_wrk.py) paced at a fixed rate (default 5,500
hits/s) for DURATION seconds (default 600), while in the same run:
- a dashboard client asks one stats report every 0.2 s (summary with series and previous period, pages,
  referrers, ... in turn) and records each answer's latency and status;
- a probe sends one load every 20 ms on its own connection: its latencies show stalls (an answer over
  100 ms) that wrk's percentiles hide, and its bids are checked one by one in DuckDB afterwards;
- the server's RSS and WAL size are sampled every 5 s;
- a disk probe, outside the server, overwrites 2 kB of a file next to the server's and fdatasyncs it every 20 ms.
  A hit is answered only after the journal's fdatasync, so when the disk's flush stalls every answer waits: a
  probe stall that this independent writer saw at the same moment is the disk's, not the server's.

Then it prints the RSS series, peak and final RSS, hit p50/p99, query p50/p99, stalls, and acknowledged
against stored loads, each next to its target (issue 21).

With --trace FILE the server runs with bench/latency_trace/sitecustomize.py, which records what ran long inside it
(event-loop lag, fsyncs, writer-thread jobs, reads, GC), and each probe stall is printed with what overlapped it.
With --server-env MEDAMA_TRACE_RSS_MB=N too, it samples the server's RSS every 2 ms (samples over N MB are listed
with the operations running then) and prints how far the RSS rose during each checkpoint; it costs the server CPU,
so compare traced runs with traced runs only.

--prefill N stores N page views in the last closed hour first (the rollup job then builds that hour during the run);
--prefill-open N stores them in the current hour up to the start, which every report reads raw: a short run then
sees what a long one sees late in an hour (at 5,500 hits/s an hour holds ~12M page views).

Usage: .venv/bin/python bench/soak.py [--duration 600] [--rate 5500] [--memorylimit 128MB] [--trace FILE]
       DURATION=60 make bench-soak ARGS="--memorylimit 128MB"
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from ingest_wrk import SITES, lua_script, paced, read_result  # noqa: E402  (a sibling module: bench/ is not a package)

from tests.support.server import BROWSER_UA, Server, logged_in_client, register_website, start_server  # noqa: E402

TARGET_RATE = 5_000
TARGET_RSS_MB = 256
TARGET_RSS_LIMITED_MB = 200
TARGET_HIT_P99_MS = 50
TARGET_QUERY_P99_MS = 500
STALL_MS = 100
TARGET_MAX_STALL_MS = 250
DRAIN_MS = 1500
SAMPLE_SECONDS = float(os.environ.get("SOAK_SAMPLE_SECONDS", "5"))
QUERY_EVERY_S = 0.2
PROBE_EVERY_S = 0.02
PROBE_SITE = SITES[0]
DISK_PROBE_EVERY_S = 0.02
DISK_PROBE_BYTES = 1 << 20
_TEXT = {"content-type": "text/plain", "user-agent": BROWSER_UA}

REPORTS = ("summary", "pages", "referrers", "browsers", "countries", "time", "sources", "languages")


@dataclass
class Samples:
    """What the side threads record while wrk runs."""

    # (seconds, RSS MB, the interval's peak RSS MB, WAL MB, and from /api/user/usage: DuckDB's accounted memory MB,
    # what its allocator (jemalloc) holds resident MB)
    rss_mb: list[tuple[float, float, float, float, float, float]] = field(default_factory=list)
    query_ms: list[float] = field(default_factory=list)
    query_status: dict[int, int] = field(default_factory=dict)
    probe_ms: list[float] = field(default_factory=list)
    probe_at: list[float] = field(default_factory=list)  # each probe's send time (time.monotonic)
    probe_acknowledged: list[str] = field(default_factory=list)
    probe_refused: int = 0
    probe_errors: int = 0
    disk_ms: list[float] = field(default_factory=list)  # the disk probe's fdatasync latencies
    disk_at: list[float] = field(default_factory=list)  # when each began (time.monotonic)


def _status_line(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak(pid: int) -> None:
    """Restart VmHWM from the current RSS (Linux clear_refs 5), so each sample's peak covers its own interval."""
    with contextlib.suppress(OSError):  # not allowed here: the peaks then run from the start
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def _wal_mb(server: Server) -> float:
    try:
        return Path(f"{server.analyticsdb}.wal").stat().st_size / 2**20
    except FileNotFoundError:
        return 0.0


def _duckdb_memory_mb(client: httpx.Client) -> tuple[float, float]:
    """DuckDB's accounted memory and its allocator's resident bytes, in MB (nan when not known)."""
    try:
        analytics = client.get("/api/user/usage", timeout=30).json()["analytics"]
    except (httpx.HTTPError, KeyError, ValueError):
        return float("nan"), float("nan")
    resident = analytics.get("memoryResident")
    return analytics["memoryUsed"] / 2**20, float("nan") if resident is None else resident / 2**20


def sample_memory(server: Server, client: httpx.Client, samples: Samples, stop: threading.Event) -> None:
    started = time.monotonic()
    try:
        while True:
            duckdb_mb, resident_mb = _duckdb_memory_mb(client)
            rss = _status_line(server.process.pid, "VmRSS:")
            peak = _status_line(server.process.pid, "VmHWM:")
            _reset_peak(server.process.pid)
            samples.rss_mb.append((time.monotonic() - started, rss, peak, _wal_mb(server), duckdb_mb, resident_mb))
            if stop.wait(SAMPLE_SECONDS):
                return
    finally:
        client.close()


def _report_params(report: str, now: datetime) -> dict[str, str]:
    start = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {"start": start, "end": end}
    if report == "summary":
        params.update(previous="true", interval="hour")
    return params


def query_dashboard(server: Server, client: httpx.Client, samples: Samples, stop: threading.Event) -> None:
    try:
        for report in itertools.cycle(REPORTS):
            started = time.monotonic()
            site = SITES[len(samples.query_ms) % len(SITES)]
            url = f"/api/website/{site}/{report}"
            try:
                response = client.get(url, params=_report_params(report, datetime.now(UTC)), timeout=30)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            elapsed = time.monotonic() - started
            samples.query_ms.append(elapsed * 1000)
            samples.query_status[status] = samples.query_status.get(status, 0) + 1
            if stop.wait(max(0.0, QUERY_EVERY_S - elapsed)):
                return
    finally:
        client.close()


def probe_hits(server: Server, client: httpx.Client, samples: Samples, stop: threading.Event) -> None:
    with client:
        for n in itertools.count():
            bid = f"probe{n}"
            body = f'{{"b":"{bid}","e":"load","u":"https://{PROBE_SITE}/probe","p":true,"q":true,"t":"UTC"}}'
            started = time.monotonic()
            try:
                response = client.post("/api/event/hit", content=body)
            except httpx.HTTPError:
                samples.probe_errors += 1
                continue
            elapsed = time.monotonic() - started
            samples.probe_ms.append(elapsed * 1000)
            samples.probe_at.append(started)
            if response.status_code == 204:
                samples.probe_acknowledged.append(bid)
            elif response.status_code == 503:
                samples.probe_refused += 1
            if stop.wait(max(0.0, PROBE_EVERY_S - elapsed)):
                return


def probe_disk(directory: Path, samples: Samples, stop: threading.Event) -> None:
    """fdatasync 2 kB overwritten in a zero-filled file every DISK_PROBE_EVERY_S, on the server's filesystem.

    It overwrites rather than appends, as the hit journal does (storage/journal.py), so its fdatasync waits for the
    device's flush and not for the filesystem's own journal.
    """
    fd = os.open(directory / "disk-probe.bin", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.write(fd, bytes(DISK_PROBE_BYTES))
        os.fsync(fd)
        for n in itertools.count():
            os.pwrite(fd, os.urandom(2048), n * 4096 % DISK_PROBE_BYTES)
            started = time.monotonic()
            os.fdatasync(fd)
            samples.disk_ms.append((time.monotonic() - started) * 1000)
            samples.disk_at.append(started)
            if stop.wait(DISK_PROBE_EVERY_S):
                return
    finally:
        os.close(fd)


def disk_stalled(samples: Samples, at: float, ms: float) -> bool:
    """Whether the disk probe had an fdatasync over STALL_MS overlapping [at, at + ms]."""
    return any(
        began < at + ms / 1000 and began + took / 1000 > at
        for began, took in zip(samples.disk_at, samples.disk_ms, strict=True)
        if took > STALL_MS
    )


def run_wrk(args: argparse.Namespace, base_url: str, workdir: Path) -> dict[str, int]:
    script = workdir / "soak.lua"
    script.write_text(paced(lua_script(args.duration * 1000, DRAIN_MS), args.rate, args.threads))
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
        "--latency", "-s", str(script), base_url,
    ]  # fmt: skip
    return read_result(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# Views of the soak's sites spread evenly over `$span_us` from `$start`, for `--prefill` (the last closed UTC hour) and
# `--prefill-open` (the current hour so far), with bids 'prefill…' (both), not counted as wrk's loads. Run in a child
# process: this one must not map DuckDB's library before the run (see stored_loads).
_PREFILL_SQL = """
INSERT INTO views (bid, hostname, pathname, is_unique_user, is_unique_page, referrer_host, referrer_group, country,
                   language_base, language_dialect, ua_browser, ua_os, ua_device_type, utm_source, utm_medium,
                   utm_campaign, duration_ms, date_created)
SELECT $bid_prefix || i::VARCHAR, $sites[1 + (i % len($sites))::BIGINT], '/page/' || (hash(i, 1) % 40)::VARCHAR,
       hash(i, 2) % 3 = 0, hash(i, 3) % 2 = 0, CASE WHEN hash(i, 4) % 3 = 0 THEN '' ELSE 'news.example.org' END, '',
       'Country ' || (hash(i, 5) % 60)::VARCHAR, 'English', 'English (A)', 'Chrome', 'Windows', 'Desktop', '', '', '',
       CASE WHEN hash(i, 6) % 5 = 0 THEN NULL ELSE (hash(i, 7) % 600000)::UINTEGER END,
       $start::TIMESTAMPTZ + to_microseconds((i::HUGEINT * $span_us // $rows)::BIGINT)
FROM range($rows) AS t(i)
"""


def prefill_hour(path: Path, rows: int, now: datetime, *, open_hour: bool) -> None:
    """Store `rows` page views in the hour before `now`'s (the rollup job builds a full hour during the run), or
    with `open_hour` in `now`'s own hour up to `now`, as a long run has by its end (that hour is always read raw).

    At 5,500 hits/s an hour holds ~12M views; a run of 10 minutes never sees the job build one that big, nor its
    reports read an open hour that big.
    """
    hour = now.replace(minute=0, second=0, microsecond=0)
    start = hour if open_hour else hour - timedelta(hours=1)
    span_us = int((now - hour).total_seconds() * 1_000_000) if open_hour else 3_600_000_000
    script = (
        "import duckdb, sys\n"
        "with duckdb.connect(sys.argv[1]) as conn:\n"
        "    conn.execute('SET enable_progress_bar = false')\n"
        "    conn.execute(sys.argv[2], {'sites': sys.argv[3].split(','), 'rows': int(sys.argv[4]),"
        " 'start': sys.argv[5], 'span_us': int(sys.argv[6]), 'bid_prefix': sys.argv[7]})\n"
        "    conn.execute('CHECKPOINT')\n"
    )
    args = [
        str(path),
        _PREFILL_SQL,
        ",".join(SITES),
        str(rows),
        start.isoformat(),
        str(max(1, span_us)),
        "prefill-open-" if open_hour else "prefill",
    ]
    subprocess.run([sys.executable, "-c", script, *args], check=True)


def stored_loads(server: Server) -> tuple[int, set[str]]:
    """Views stored by wrk's loads, and the probe's bids that are stored."""
    # Imported only now, after the server stopped: while this process mapped DuckDB's library too, the pages both
    # touched stayed in the server's RSS, where the kernel otherwise reclaims those the server no longer runs (on this
    # 2-core VM, DuckDB's library in the server after 12 s of hits and reports: 39 MB resident beside a process that
    # had imported duckdb, 26-27 MB alone).
    import duckdb

    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        total = conn.execute(
            "SELECT count(*) FROM views WHERE bid NOT LIKE 'probe%' AND bid NOT LIKE 'prefill%'"
        ).fetchone()
        probes = {row[0] for row in conn.execute("SELECT bid FROM views WHERE bid LIKE 'probe%'").fetchall()}
    assert total is not None
    return int(total[0]), probes


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _line(label: str, value: str, target: str, ok: bool | None) -> None:
    mark = "" if ok is None else verdict(ok)
    print(f"  {label:36} {value:>16}  {target:14} {mark}")


@dataclass
class Outcome:
    wrk: dict[str, int]
    samples: Samples
    peak_rss_mb: float
    start_peak_rss_mb: float
    stored: int
    probes_stored: set[str]
    # Checkpoints DuckDB refused ("there are other write transactions active"), from the server's log.
    checkpoint_refusals: int = 0


def report(args: argparse.Namespace, outcome: Outcome) -> bool:
    wrk, samples = outcome.wrk, outcome.samples
    seconds = wrk["real_ms"] / 1000
    rate = (wrk["load"] + wrk["unload"] + wrk["custom"]) / seconds
    print(
        f"\nEvery {SAMPLE_SECONDS} s, seconds: RSS MB / peak RSS MB since the last sample / WAL MB / DuckDB MB"
        " (accounted) / DuckDB allocator MB (resident):"
    )
    series = samples.rss_mb
    cells = (f"{t:.0f}: {rss:.0f}/{peak:.0f}/{wal:.1f}/{duck:.0f}/{je:.0f}" for t, rss, peak, wal, duck, je in series)
    print("  " + ", ".join(cells))
    limited = args.memorylimit is not None
    rss_target = TARGET_RSS_LIMITED_MB if limited else TARGET_RSS_MB
    final_rss = samples.rss_mb[-1][1] if samples.rss_mb else float("nan")
    stalls = [ms for ms in samples.probe_ms if ms > STALL_MS]
    longest = max(samples.probe_ms, default=0.0)
    refused = wrk["other"] + samples.probe_refused
    wrk_exact = wrk["ok"] == wrk["load"] + wrk["unload"] + wrk["custom"] and wrk["other"] == 0 and wrk["errors"] == 0
    probe_missing = set(samples.probe_acknowledged) - outcome.probes_stored
    setting = f"-memorylimit {args.memorylimit}" if limited else "default settings"
    print(f"\n{setting}; wrk {args.threads} thread(s), {args.connections} connections, {args.duration} s")
    _line("hits sent per second", f"{rate:,.0f}", f">= {TARGET_RATE:,}", rate >= TARGET_RATE)
    _line(
        "peak RSS during the run (VmHWM)",
        f"{outcome.peak_rss_mb:.0f} MB",
        f"<= {rss_target} MB",
        outcome.peak_rss_mb <= rss_target,
    )
    _line("final RSS", f"{final_rss:.0f} MB", "", None)
    if series:
        _line("median RSS of the samples", f"{statistics.median(s[1] for s in series):.0f} MB", "", None)
        # The first sample of each minute: the series above, thinned for a closing note.
        minutes = [series[0]] + [now for before, now in itertools.pairwise(series) if now[0] // 60 != before[0] // 60]
        print(f"  {'RSS MB at each minute':36} " + ", ".join(f"{t:.0f} s: {rss:.0f}" for t, rss, *_ in minutes))
    _line("peak RSS of start-up and 3 logins", f"{outcome.start_peak_rss_mb:.0f} MB", "(before the run)", None)
    _line("hit latency p50 / p99 (wrk)", f"{wrk['p50_us'] / 1000:.1f} / {wrk['p99_us'] / 1000:.1f} ms",
          f"p99 <= {TARGET_HIT_P99_MS} ms", wrk["p99_us"] / 1000 <= TARGET_HIT_P99_MS)  # fmt: skip
    _line("hit latency max (wrk)", f"{wrk['max_us'] / 1000:.0f} ms", "", None)
    query_p50, query_p99 = _percentile(samples.query_ms, 0.5), _percentile(samples.query_ms, 0.99)
    _line("query latency p50 / p99", f"{query_p50:.0f} / {query_p99:.0f} ms",
          f"p99 <= {TARGET_QUERY_P99_MS} ms", query_p99 <= TARGET_QUERY_P99_MS)  # fmt: skip
    print(f"  {'query answers by status':36} {samples.query_status}")
    _line(f"probe stalls over {STALL_MS} ms", f"{len(stalls)} of {len(samples.probe_ms)}", "", None)
    _line("longest probe answer", f"{longest:.0f} ms", f"<= {TARGET_MAX_STALL_MS} ms", longest <= TARGET_MAX_STALL_MS)
    disk = sorted(samples.disk_ms)
    if disk:
        spread = f"{_percentile(disk, 0.5):.1f} / {_percentile(disk, 0.999):.0f} / {disk[-1]:.0f} ms"
        _line("disk probe fdatasync p50/p99.9/max", spread, "", None)
        slow_disk = sum(1 for ms in disk if ms > TARGET_MAX_STALL_MS)
        _line(f"disk probe fdatasyncs > {TARGET_MAX_STALL_MS} ms", f"{slow_disk} of {len(disk)}", "", None)
        timed = list(zip(samples.probe_at, samples.probe_ms, strict=True))
        # Each probe answer: whether it was a stall that the disk probe saw too (looked up once per stall).
        disk_seen = [ms > STALL_MS and disk_stalled(samples, at, ms) for at, ms in timed]
        _line("probe stalls the disk probe saw too", f"{sum(disk_seen)} of {len(stalls)}", "", None)
        own = max((ms for (_, ms), seen in zip(timed, disk_seen, strict=True) if not seen), default=0.0)
        _line("longest probe without a disk stall", f"{own:.0f} ms", "", None)
    _line("hits refused with 503", f"{refused}", "", None)
    _line("checkpoints DuckDB refused (log)", f"{outcome.checkpoint_refusals}", "", None)
    if wrk_exact:
        _line(
            "wrk loads stored / acknowledged",
            f"{outcome.stored} / {wrk['load']}",
            "equal",
            outcome.stored == wrk["load"],
        )
    else:
        # Refused or failed hits leave wrk's per-type acknowledgements unknown: only the probe checks exactly.
        print(f"  wrk answers not all 204 ({wrk['other']} other, {wrk['errors']} errors): stored {outcome.stored}")
    _line("probe loads stored / acknowledged",
          f"{len(samples.probe_acknowledged) - len(probe_missing)} / {len(samples.probe_acknowledged)}",
          "equal", not probe_missing)  # fmt: skip
    return wrk_exact and outcome.stored == wrk["load"] and not probe_missing


def soak(args: argparse.Namespace, workdir: Path) -> Outcome:
    extra = ["-level", args.level, *(["-memorylimit", args.memorylimit] if args.memorylimit else [])]
    env = dict(item.split("=", 1) for item in args.server_env)
    if args.trace:
        # bench/latency_trace/sitecustomize.py loads into the server alone and records what ran long.
        env.update(PYTHONPATH=str(BENCH_DIR / "latency_trace"), MEDAMA_TRACE=str(Path(args.trace).resolve()))
    server = start_server(workdir / "data", *extra, env=env)
    samples, stop = Samples(), threading.Event()
    try:
        admin = logged_in_client(server)
        for site in SITES:
            register_website(admin, site)
        admin.close()
        if args.prefill or args.prefill_open:
            server.stop()
            if args.prefill:
                prefill_hour(server.analyticsdb, args.prefill, datetime.now(UTC), open_hour=False)
            if args.prefill_open:
                prefill_hour(server.analyticsdb, args.prefill_open, datetime.now(UTC), open_hour=True)
            server = start_server(workdir / "data", *extra, env=env)
        # The parser tables load with the first hit; an unregistered site answers 404 and stores nothing.
        warm_up = b'{"b":"warm-up","e":"load","u":"https://unregistered.invalid/","p":true,"q":true}'
        httpx.post(f"{server.base_url}/api/event/hit", content=warm_up, headers=_TEXT, timeout=10)
        # Logged in one after the other before the run: each login hashes with Argon2id at Medama's 64 MiB, so
        # logins at once would show in the peak as 64 MiB each. The start-up peak is reported on its own.
        clients = [logged_in_client(server), logged_in_client(server)]
        clients.append(httpx.Client(base_url=server.base_url, headers=_TEXT, timeout=30))
        start_peak = _status_line(server.process.pid, "VmHWM:")
        _reset_peak(server.process.pid)
        sides = [
            threading.Thread(target=fn, args=(server, client, samples, stop), daemon=True)
            for fn, client in zip((sample_memory, query_dashboard, probe_hits), clients, strict=True)
        ]
        sides.append(threading.Thread(target=probe_disk, args=(workdir, samples, stop), daemon=True))
        for thread in sides:
            thread.start()
        result = run_wrk(args, server.base_url, workdir)
        stop.set()
        for thread in sides:
            thread.join(60)
        peak = max([_status_line(server.process.pid, "VmHWM:")] + [sample[2] for sample in samples.rss_mb])
    finally:
        stop.set()
        code = server.stop()
    if code != 0:
        raise RuntimeError(f"server exited with {code}\n{server.log()[-2000:]}")
    log = server.log()
    problems = [line for line in log.splitlines() if '"level": "error"' in line or "ERROR" in line]
    for line in problems[:5]:
        print(f"server log: {line[:600]}")
    rollup_lines = [line for line in log.splitlines() if "rollup" in line]
    for line in rollup_lines[:20]:
        print(f"server log: {line[:300]}")
    stored, probes = stored_loads(server)
    refusals = log.count("Cannot CHECKPOINT")
    return Outcome(result, samples, peak, start_peak, stored, probes, refusals)


def show_stalls(trace: Path, samples: Samples) -> None:
    """Each probe answer over STALL_MS, with the trace's events that overlapped it (bench/latency_trace)."""
    events: list[tuple[float, float, str, str]] = []
    for line in trace.read_text().splitlines():
        name, begun, took, *detail = line.split()
        events.append((float(begun), float(took) / 1000, name, " ".join(detail)))
    fsyncs = [seconds for _, seconds, name, _ in events if name == "fdatasync"]
    print(f"\ntrace: {len(events)} events; journal fdatasyncs over 1 ms: {len(fsyncs)}, longest"
          f" {max(fsyncs, default=0) * 1000:.0f} ms")  # fmt: skip
    for kind in sorted({name for _, _, name, _ in events}):
        durations = sorted(seconds * 1000 for _, seconds, name, _ in events if name == kind)
        print(f"  {kind:34} {len(durations):6} over its floor, p50 {_percentile(durations, 0.5):7.1f} ms,"
              f" max {durations[-1]:7.1f} ms")  # fmt: skip
    show_checkpoint_rss(events)
    for at, ms in zip(samples.probe_at, samples.probe_ms, strict=True):
        if ms <= STALL_MS:
            continue
        print(f"probe at {at:.3f} took {ms:.0f} ms; overlapping:")
        for start, seconds, name, note in sorted(events):
            if start < at + ms / 1000 and start + seconds > at - 0.05:
                print(f"    {name:34} {start - at:+8.3f} s  {seconds * 1000:8.1f} ms  {note}")


def show_checkpoint_rss(events: list[tuple[float, float, str, str]]) -> None:
    """How far the RSS rose above its value at each checkpoint's start (`ckrss`, with MEDAMA_TRACE_RSS_MB)."""
    rises = []
    for _, seconds, name, note in events:
        if name == "ckrss":
            fields = dict(item.split("=", 1) for item in note.split())
            rises.append((float(fields["peak"]) - float(fields["before"]), seconds * 1000))
    if not rises:
        return
    rise_mb = [rise for rise, _ in rises]
    big = [ms for rise, ms in rises if rise > 15]
    print(
        f"  checkpoints: {len(rises)}; RSS rise during one p50 {_percentile(rise_mb, 0.5):.1f} /"
        f" p90 {_percentile(rise_mb, 0.9):.1f} / max {max(rise_mb):.1f} MB; {len(big)} rose over 15 MB"
        f" (their median length {_percentile(big, 0.5) if big else 0:.0f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("DURATION", "600")), help="seconds")
    parser.add_argument("--rate", type=int, default=5_500, help="hits per second wrk paces itself to")
    # Enough that the pacing, not the answers' latency, sets the rate: 5,500 hits/s x 40 ms = 220 in flight.
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--memorylimit", default=os.environ.get("MEMORY_LIMIT"), help="e.g. 128MB")
    parser.add_argument("--server-env", action="append", default=[], help="NAME=value for the server's environment")
    parser.add_argument("--level", default="warn", help="the server's log level (info shows the rollup builds)")
    parser.add_argument(
        "--prefill", type=int, default=0, help="page views to store in the last closed hour first (its rollup build)"
    )
    parser.add_argument(
        "--prefill-open", type=int, default=0, help="page views to store in the current hour up to now first (read raw)"
    )
    parser.add_argument("--trace", help="file for the server's latency trace; each probe stall is shown with it")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: sudo apt-get install wrk", file=sys.stderr)
        return 1
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (other work on this machine skews the figures)")
    with tempfile.TemporaryDirectory(prefix="medama-soak-") as tmp:
        outcome = soak(args, Path(tmp))
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    ok = report(args, outcome)
    if args.trace:
        show_stalls(Path(args.trace), outcome.samples)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
