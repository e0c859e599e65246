"""How much memory and how many threads DuckDB may use, decided from the host at start-up.

A container's cgroup limit is what the kernel enforces, so it wins over the machine's RAM and CPU count
(a 256 MB container on a 64 GB host must not let DuckDB plan for 50 GB). DuckDB's own default is 80% of
the RAM, which leaves the Python process itself no room once a stats query fills the buffer pool; we give
DuckDB 40% of the host, and never so much that the server's own ~192 MB would not fit beside it, nor more than
512 MB, which bounds the server's peak on a big host.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = [
    "DEFAULT_CAP_BYTES",
    "HELD_DURATION_BYTES",
    "MIN_MEMORY_BYTES",
    "DuckDBLimits",
    "cgroup_cpus",
    "cgroup_memory_bytes",
    "default_memory_bytes",
    "limits_for_host",
    "read_bytes_for",
    "threads_for",
]

MB = 1024 * 1024
# The share of the host's memory DuckDB may fill; the rest is the interpreter, the ingestion path and the
# page cache. Medians need every duration of a group in memory (they cannot spill): at 10M views the
# devices report answered 503 under 64 and 128 MB, so large hosts keep a large share.
_DUCKDB_SHARE = 0.4
# What the server needs outside DuckDB: it idles at ~141 MB after its first hit (interpreter, libraries,
# DuckDB's and SQLite's code, ua-parser's rules) and grows by tens of MB under ingestion (bench/soak.py).
# On a small host this, not the share, bounds DuckDB: 64 MB of a 256 MB VM instead of 102 MB.
SERVER_RESERVE_BYTES = 192 * MB
# And at most this much on a big host (set by "speed", issue 22). DuckDB keeps the file's blocks it read cached up to
# its limit, and the start-up rollup build reads every label column: at 100M page views the server peaked at
# 3,064 MB under 40% of 24 GB, and at 743 MB under 512 MB with the 100M /summary still well under a second
# (bench/stats.py --rows 100000000 --only summary, docs/stats.md#memory). The reports' medians read binned
# rollups, so they hold far less than every duration of the period (the 10M-row bench answers no 503 under it).
DEFAULT_CAP_BYTES = 512 * MB
# Below this DuckDB cannot hold even one row group of a scan per thread, so every query would fail.
MIN_MEMORY_BYTES = 32 * MB
# Stats queries share the machine with ingestion; more DuckDB threads than this only add memory per thread.
_MAX_THREADS = 4
# Each DuckDB thread scans its own row groups into its own hash tables: give each at least this much.
_MEMORY_PER_THREAD = 32 * MB
# On a limit this small (a small VM, `-memorylimit 128MB`), reads run under a quarter of it (at least
# MIN_MEMORY_BYTES): DuckDB keeps every block a report reads cached until its limit, and a soak's reports never needed
# more than ~50 MB of 128, so the cache, not the queries, filled the rest. Under the lower limit DuckDB evicts as it
# reads; a read that meets it runs again under twice as much, then the full one (docs/architecture.md#a-stats-request).
SMALL_LIMIT_BYTES = 128 * MB
_READ_SHARE = 4
# What one duration costs a report that holds every duration of its listed paths in `quantile_cont` (stats/medians.py):
# /time over 4M durations took the server ~80 MB past its idle RSS, ~20 bytes each with DuckDB's per-thread vectors
# and their merge; this leaves room for the rest of the report. Past the budget the quantiles are read from bins.
HELD_DURATION_BYTES = 32

_CGROUP_V2 = Path("/sys/fs/cgroup")
_CGROUP_V1_MEMORY = Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")
_CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
_CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
# cgroup v1 reports "no limit" as a page-rounded 2^63 - 1; anything this large means unlimited.
_UNLIMITED = 1 << 60


@dataclass(frozen=True, slots=True)
class DuckDBLimits:
    """DuckDB's memory_limit in bytes, its worker threads, and the lower limit reads run under (None: the full one)."""

    memory_bytes: int
    threads: int
    read_bytes: int | None = None

    def read_steps(self) -> tuple[int, ...]:
        """The lower limits a read tries in turn before the full one: `read_bytes`, doubled while under the full limit.

        A report that outgrew a quarter of 128 MB (the day's views grow under ingestion) ran again under all of it,
        and DuckDB then kept its blocks cached up to 128 MB: 8 of the 9 soak intervals whose peak RSS went over
        200 MB held such a retry (docs/performance.md). Half the limit fits most of those reports.
        """
        steps: list[int] = []
        step = self.read_bytes
        while step is not None and step < self.memory_bytes:
            steps.append(step)
            step *= 2
        return tuple(steps)

    @property
    def held_durations(self) -> int:
        """How many durations a report may hold at once for its quantiles: a share of the limit its reads run under.

        1M under -memorylimit 128MB (reads under 32 MB), 16M under the 512 MB a big host gets: holding is the cheaper
        way while it fits (/time?limit=100 over a year of 10M views: ~190 against ~420 ms binned, docs/stats.md#memory).
        """
        return (self.read_bytes or self.memory_bytes) // HELD_DURATION_BYTES


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_memory_bytes(root: Path = _CGROUP_V2, v1_file: Path = _CGROUP_V1_MEMORY) -> int | None:
    """The memory limit of this process's cgroup (v2 `memory.max`, else v1), None when unlimited or absent."""
    for text in (_read(root / "memory.max"), _read(v1_file)):
        if text is None or text == "max":
            continue
        try:
            value = int(text)
        except ValueError:
            continue
        if 0 < value < _UNLIMITED:
            return value
    return None


def cgroup_cpus(
    root: Path = _CGROUP_V2, v1_quota: Path = _CGROUP_V1_QUOTA, v1_period: Path = _CGROUP_V1_PERIOD
) -> float | None:
    """The CPU quota of this process's cgroup in cores (v2 `cpu.max`, else v1 CFS), None when unlimited."""
    v2 = _read(root / "cpu.max")
    quota_period = v2.split() if v2 else [_read(v1_quota) or "-1", _read(v1_period) or "100000"]
    if len(quota_period) != 2 or quota_period[0] in ("max", "-1"):
        return None
    try:
        quota, period = int(quota_period[0]), int(quota_period[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _host_cpus() -> int:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_cpus()
    return max(1, min(usable, int(quota + 0.999) if quota else usable))


def default_memory_bytes(host_bytes: int) -> int:
    """DuckDB's memory_limit on a host (or cgroup) of `host_bytes`: a share, leaving the server its reserve, capped."""
    share = min(int(host_bytes * _DUCKDB_SHARE), host_bytes - SERVER_RESERVE_BYTES, DEFAULT_CAP_BYTES)
    return max(MIN_MEMORY_BYTES, share)


def threads_for(memory_bytes: int, cpus: int) -> int:
    """DuckDB's worker threads: one per usable core, at most 4, and no more than its memory can feed."""
    return max(1, min(_MAX_THREADS, cpus, memory_bytes // _MEMORY_PER_THREAD))


def read_bytes_for(memory_bytes: int) -> int | None:
    """The limit reads run under when DuckDB's is `memory_bytes`; None (the full limit) unless that one is small."""
    if memory_bytes > SMALL_LIMIT_BYTES:
        return None
    read = max(MIN_MEMORY_BYTES, memory_bytes // _READ_SHARE)
    return read if read < memory_bytes else None


def limits_for_host(memory_override: int | None = None) -> DuckDBLimits:
    """DuckDB's limits for this host: `memory_override` (-memorylimit) or a share of the cgroup/RAM limit."""
    if memory_override is not None:
        memory = max(MIN_MEMORY_BYTES, memory_override)
    else:
        memory = default_memory_bytes(cgroup_memory_bytes() or psutil.virtual_memory().total)
    threads = threads_for(memory, _host_cpus())
    return DuckDBLimits(memory_bytes=memory, threads=threads, read_bytes=read_bytes_for(memory))
