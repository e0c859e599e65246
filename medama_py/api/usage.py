"""Resource figures for GET /api/user/usage: host CPU, memory and disk, plus this process and its DuckDB.

Medama's three figures describe the machine; medama_py adds the server's own RSS, the analytics WAL and
DuckDB's memory, which is what a small VM runs out of first, how often the analytics file had to be reopened
after a fatal DuckDB error, and how slowly the disk flushed the hit journal (each hit's answer waits for that).
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
import psutil

from medama_py.api.schemas import UsageAmount, UsageAnalytics, UsageCPU, UsageProcess, UserUsageGet
from medama_py.duckdb_allocator import resident_bytes
from medama_py.storage.block_cache import duckdb_memory_bytes
from medama_py.storage.retention import oldest_row

if TYPE_CHECKING:
    from datetime import datetime

    from medama_py.services import Services

__all__ = ["measure_usage"]

_INT64_MAX = 2**63 - 1
_PROCESS = psutil.Process()


def _clamp(value: int) -> int:
    return min(int(value), _INT64_MAX)


def _optional(value: int | None) -> int | None:
    return None if value is None else _clamp(value)


def _database_dir(appdb: str) -> str:
    path = Path(appdb.removeprefix("file:").split("?", 1)[0])
    directory = path.resolve().parent if path.name not in ("", ":memory:") else Path.cwd()
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return str(directory)


def _rfc3339(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment is not None else None


def _measure(services: Services, duckdb_used: int, oldest: datetime | None) -> UserUsageGet:
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(_database_dir(services.config.appdb))
    analytics = services.analytics
    flushes = services.writer.journal_flushes
    return UserUsageGet(
        # interval=None: the busy share since the previous call, without blocking (Medama's semantics).
        cpu=UsageCPU(
            usage=float(psutil.cpu_percent(interval=None)),
            cores=psutil.cpu_count(logical=False) or 0,
            threads=psutil.cpu_count(logical=True) or 0,
        ),
        memory=UsageAmount(used=_clamp(memory.used), total=_clamp(memory.total)),
        disk=UsageAmount(used=_clamp(disk.used), total=_clamp(disk.total)),
        process=UsageProcess(rss=_clamp(_PROCESS.memory_info().rss)),
        analytics=UsageAnalytics(
            wal=_clamp(analytics.wal_bytes()),
            memoryUsed=_clamp(duckdb_used),
            memoryLimit=_clamp(analytics.limits.memory_bytes),
            memoryResident=_optional(resident_bytes()),
            refusedHits=services.writer.stats.refused,
            recoveries=analytics.recoveries,
            journalFlushes=flushes.flushes,
            slowJournalFlushes=flushes.slow,
            slowestJournalFlushMs=round(flushes.slowest_s * 1000),
            oldestPageView=_rfc3339(oldest),
        ),
    )


async def measure_usage(services: Services) -> UserUsageGet:
    """Return host CPU and memory, the disk holding the meta database, this process's RSS and the WAL size."""
    # DuckDB is asked through the store's reads, which a reopen after a fatal error waits for (503 meanwhile).
    duckdb_used = await services.analytics.read(duckdb_memory_bytes, settled=False)
    oldest = await services.analytics.read(oldest_row, settled=False)
    return await anyio.to_thread.run_sync(_measure, services, duckdb_used, oldest)
