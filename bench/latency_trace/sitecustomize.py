"""Latency tracer for bench/soak.py --trace: loaded into the server only (PYTHONPATH), never part of medama_py.

Python imports `sitecustomize` at start when it is on the path; this one wraps a few of the server's functions
and records, with CLOCK_MONOTONIC timestamps (the same clock as the soak's probe), what ran long:
- `loop`: the event loop woke late from a 5 ms sleep, with its thread's CPU time and its time runnable but waiting
  for a CPU meanwhile (Linux schedstat): the rest of the lag is waiting for the GIL;
- `thread`: a plain Python thread woke late from a 2 ms sleep (someone held the GIL, or the CPU was not ours);
- `fsync` / `fdatasync`: the call's own duration (the journal's, InDoubt's, a new segment's directory);
- `journal`: a whole journal append (pickling + write + fdatasync), on the journal thread;
- `prepare`: prepare_batch on the event loop;
- `write:<fn>`: a job on the DuckDB writer thread (apply, checkpoint + trim, ...), and `queued` its wait before;
- `read`: a report's snapshot on a worker thread;
- `barrier`: a read's wait for the hits acknowledged before it to be applied (`HitWriter.settled`), over 1 ms;
- `gc<gen>`: a garbage collection;
- `majflt`: page faults of the process that read from disk (a page the kernel reclaimed), per 20 ms;
- `rss`: with MEDAMA_TRACE_RSS_MB set, the process's RSS read every 2 ms whenever it is at least that many MB,
  with the writer jobs, reads, journal appends and batch preparations running at that moment (and for how long).
Lines are "kind start_s duration_ms detail", flushed every 0.5 s to $MEDAMA_TRACE. Only events past a floor
are written (1 ms for fsyncs, more for the rest), plus a count of every fsync.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import itertools
import os
import threading
import time

_PATH = os.environ.get("MEDAMA_TRACE")
_events: list[str] = []
_now = time.monotonic


def _note(kind: str, start: float, seconds: float, detail: str = "") -> None:
    _events.append(f"{kind} {start:.6f} {seconds * 1000:.3f} {detail}\n")


# What runs now, for the RSS sampler: a key per operation -> (its label, when it began).
_active: dict[int, tuple[str, float]] = {}
_keys = itertools.count()


def _begin(label: str) -> int:
    key = next(_keys)
    _active[key] = (label, _now())
    return key


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 1048576
_STATM = os.open("/proc/self/statm", os.O_RDONLY)
# The highest RSS the sampler saw during each running checkpoint (key -> MB).
_checkpoint_peaks: dict[int, float] = {}


def _rss_mb() -> float:
    return int(os.pread(_STATM, 64, 0).split()[1]) * _PAGE_MB


def _rss_sampler(floor_mb: float) -> None:
    while True:
        time.sleep(0.002)
        rss_mb = _rss_mb()
        for key in list(_checkpoint_peaks):
            _checkpoint_peaks[key] = max(_checkpoint_peaks.get(key, 0.0), rss_mb)
        if rss_mb >= floor_mb:
            now = _now()
            running = ",".join(f"{label}@{(now - began) * 1000:.0f}" for label, began in list(_active.values()))
            _note("rss", now, 0, f"mb={rss_mb:.1f} active={running or '-'}")


_stores: list[object] = []


def _duckdb_memory() -> None:
    """Every 5 s, and every 50 ms during a checkpoint: DuckDB's accounted memory by tag, its jemalloc's byte counts."""
    from medama_py.duckdb_allocator import allocator_stats

    last = 0.0
    while True:
        time.sleep(0.05)
        if not _stores or (not _checkpoint_peaks and _now() - last < 5):
            continue
        last = _now()
        try:
            cur = _stores[-1].cursor()  # type: ignore[attr-defined]
            rows = cur.execute(
                "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0"
            ).fetchall()
            cur.close()
        except Exception as error:
            _note("duckmem", _now(), 0, f"error={error!r}")
            continue
        tags = " ".join(f"{tag}={size / 1048576:.1f}" for tag, size in rows)
        during = "ckpt " if _checkpoint_peaks else ""
        held = " ".join(f"je_{name}={size / 1048576:.1f}" for name, size in (allocator_stats() or {}).items())
        _note("duckmem", _now(), 0, f"{during}rss={_rss_mb():.1f} {held} {tags}")


def _flush_forever() -> None:
    assert _PATH is not None
    with open(_PATH, "a", buffering=1) as out:  # noqa: PTH123
        while True:
            time.sleep(0.5)
            taken = len(_events)
            if taken:
                out.write("".join(_events[:taken]))
                del _events[:taken]


def _thread_lag() -> None:
    while True:
        start = _now()
        time.sleep(0.002)
        lag = _now() - start - 0.002
        if lag > 0.01:
            _note("thread", start + 0.002, lag)


def _schedstat() -> tuple[float, float]:
    """This thread's CPU time and time spent runnable but waiting for a CPU, in ms (Linux schedstat)."""
    with open("/proc/thread-self/schedstat") as stat:  # noqa: PTH123
        cpu, waiting, _ = stat.read().split()
    return int(cpu) / 1e6, int(waiting) / 1e6


def _major_faults(stat_path: str) -> int:
    """Page faults that had to read from disk (a page the kernel had reclaimed), from a /proc .../stat file."""
    with open(stat_path) as stat:  # noqa: PTH123
        return int(stat.read().rsplit(")", 1)[1].split()[9])


async def _loop_lag() -> None:
    while True:
        start = _now()
        cpu, waiting = _schedstat()
        faults = _major_faults("/proc/thread-self/stat")
        await asyncio.sleep(0.005)
        lag = _now() - start - 0.005
        if lag > 0.01:
            cpu_after, waiting_after = _schedstat()
            faulted = _major_faults("/proc/thread-self/stat") - faults
            detail = f"cpu={cpu_after - cpu:.0f} runq={waiting_after - waiting:.0f} majflt={faulted}"
            _note("loop", start + 0.005, lag, detail)


def _process_faults() -> None:
    before = _major_faults("/proc/self/stat")
    while True:
        start = _now()
        time.sleep(0.02)
        now = _major_faults("/proc/self/stat")
        if now > before:
            _note("majflt", start, _now() - start, f"n={now - before}")
        before = now


_gc_started: list[float] = [0.0]


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = _now()
        return
    seconds = _now() - _gc_started[0]
    if seconds > 0.002:
        _note(f"gc{info['generation']}", _gc_started[0], seconds, f"collected={info['collected']}")


def _timed_os(name: str, floor: float) -> None:
    original = getattr(os, name)
    counts = [0]

    def timed(fd: int) -> None:
        start = _now()
        try:
            original(fd)
        finally:
            seconds = _now() - start
            counts[0] += 1
            if seconds > floor:
                _note(name, start, seconds, f"n={counts[0]}")

    setattr(os, name, timed)


def _fn_name(fn: object) -> str:
    while isinstance(fn, functools.partial):
        fn = fn.args[0] if fn.func.__name__ == "_with_appenders" else fn.func
    return getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))


def _install() -> None:
    from medama_py.storage import analytics, writer

    _timed_os("fdatasync", 0.001)
    _timed_os("fsync", 0.001)
    gc.callbacks.append(_on_gc)

    start_writer = writer.HitWriter.start

    async def start(self: writer.HitWriter) -> None:
        await start_writer(self)
        self._lag_task = asyncio.get_running_loop().create_task(_loop_lag())  # type: ignore[attr-defined]

    writer.HitWriter.start = start  # type: ignore[method-assign]

    settled = writer.HitWriter.settled

    async def timed_settled(self: writer.HitWriter, timeout: float | None = None) -> None:
        start = _now()
        try:
            await settled(self, timeout)
        finally:
            seconds = _now() - start
            if seconds > 0.001:
                _note("barrier", start, seconds)

    writer.HitWriter.settled = timed_settled  # type: ignore[method-assign]

    append = writer.HitWriter._append

    def timed_append(self: writer.HitWriter, batch: object, items: int) -> object:
        start = _now()
        key = _begin("journal")
        try:
            return append(self, batch, items)  # type: ignore[arg-type]
        finally:
            _active.pop(key, None)
            seconds = _now() - start
            if seconds > 0.005:
                _note("journal", start, seconds, f"items={items}")

    writer.HitWriter._append = timed_append  # type: ignore[assignment,method-assign]

    prepare = writer.__dict__["prepare_batch"]  # writer's own name for it, which it calls

    def timed_prepare(items: list[object]) -> object:
        start = _now()
        key = _begin("prepare")
        try:
            return prepare(items)
        finally:
            _active.pop(key, None)
            seconds = _now() - start
            if seconds > 0.003:
                _note("prepare", start, seconds, f"items={len(items)}")

    writer.__dict__["prepare_batch"] = timed_prepare

    run_write = analytics.AnalyticsStore._run_write
    submit_write = analytics.AnalyticsStore.write

    async def write(self: analytics.AnalyticsStore, fn: object, **kwargs: object) -> object:
        queued = _now()

        def run(cur: object) -> object:
            start = _now()
            name = _fn_name(fn)
            if start - queued > 0.02:
                _note("queued", queued, start - queued, name)
            key = _begin(f"write:{name}")
            watched = "checkpoint" in name
            if watched:
                rss_before = _checkpoint_peaks[key] = _rss_mb()
            try:
                return fn(cur)  # type: ignore[operator]
            finally:
                _active.pop(key, None)
                if watched:
                    peak = _checkpoint_peaks.pop(key, 0.0)
                    _note("ckrss", start, _now() - start, f"before={rss_before:.1f} peak={peak:.1f}")
                seconds = _now() - start
                if seconds > 0.01:
                    _note(f"write:{name}", start, seconds)

        return await submit_write(self, run, **kwargs)  # type: ignore[arg-type]

    analytics.AnalyticsStore.write = write  # type: ignore[assignment,method-assign]
    del run_write

    snapshot = analytics.AnalyticsStore._in_snapshot
    init = analytics.AnalyticsStore.__init__

    def remembered_init(self: analytics.AnalyticsStore, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)  # type: ignore[arg-type]
        _stores.append(self)

    analytics.AnalyticsStore.__init__ = remembered_init  # type: ignore[method-assign]

    def timed_snapshot(self: analytics.AnalyticsStore, fn: object, memory_bytes: object) -> object:
        start = _now()
        key = _begin(f"read:{_fn_name(fn)}")
        try:
            return snapshot(self, fn, memory_bytes)  # type: ignore[arg-type]
        finally:
            _active.pop(key, None)
            seconds = _now() - start
            if seconds > 0.05:
                _note("read", start, seconds, _fn_name(fn))

    analytics.AnalyticsStore._in_snapshot = timed_snapshot  # type: ignore[assignment,method-assign]

    threading.Thread(target=_flush_forever, name="trace-flush", daemon=True).start()
    threading.Thread(target=_thread_lag, name="trace-lag", daemon=True).start()
    threading.Thread(target=_process_faults, name="trace-faults", daemon=True).start()
    if os.environ.get("MEDAMA_TRACE_RSS_MB"):
        threading.Thread(target=_duckdb_memory, name="trace-duckmem", daemon=True).start()
        floor_mb = float(os.environ["MEDAMA_TRACE_RSS_MB"])
        threading.Thread(target=_rss_sampler, args=(floor_mb,), name="trace-rss", daemon=True).start()


if _PATH:
    _install()
