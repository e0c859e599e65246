"""Host resource figures for GET /api/user/usage: CPU, memory, and the disk holding the databases."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
import psutil

from medama_py.api.schemas import UsageAmount, UsageCPU, UserUsageGet

__all__ = ["measure_usage"]

_INT64_MAX = 2**63 - 1


def _clamp(value: int) -> int:
    return min(int(value), _INT64_MAX)


def _database_dir(appdb: str) -> str:
    path = Path(appdb.removeprefix("file:").split("?", 1)[0])
    directory = path.resolve().parent if path.name not in ("", ":memory:") else Path.cwd()
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return str(directory)


def _measure(appdb: str) -> UserUsageGet:
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(_database_dir(appdb))
    return UserUsageGet(
        # interval=None: the busy share since the previous call, without blocking (Medama's semantics).
        cpu=UsageCPU(
            usage=float(psutil.cpu_percent(interval=None)),
            cores=psutil.cpu_count(logical=False) or 0,
            threads=psutil.cpu_count(logical=True) or 0,
        ),
        memory=UsageAmount(used=_clamp(memory.used), total=_clamp(memory.total)),
        disk=UsageAmount(used=_clamp(disk.used), total=_clamp(disk.total)),
    )


async def measure_usage(appdb: str) -> UserUsageGet:
    """Return host CPU and memory, and the disk holding `appdb`."""
    return await anyio.to_thread.run_sync(_measure, appdb)
