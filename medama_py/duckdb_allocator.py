"""DuckDB's own allocator: its Linux wheel links jemalloc (`duckdb_je_*`), which glibc's malloc never sees.

DuckDB's buffers, hash tables, appended rows and checkpoint work are allocated there, and what DuckDB frees stays
resident as jemalloc's "dirty" pages until they decay: DuckDB's build lets them age 1 s, and an arena only purges
while it allocates again. Under a soak's steady churn (appends, checkpoints, a report every 0.2 s) that kept 8-17 MB
of freed pages resident (jemalloc's `pdirty`, 3-minute bench/soak.py runs at -memorylimit 128MB). `tune_jemalloc`
makes freed pages go back at once (decay 0 ms): in one locked A/B the median RSS went 167 -> 154 MB and the peak
193 -> 180, with hit p99 47.7 -> 28.7 ms at loads 6-10 (noise, but no cost seen). An operator who configures that
jemalloc (`DUCKDB_JE_MALLOC_CONF`) keeps their setting.

`resident_bytes` asks jemalloc (`mallctl`) what it holds in RAM, for /api/user/usage and bench/soak.py. Where
DuckDB is built without jemalloc (macOS, Windows, musl) both do nothing and say so.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DIRTY_DECAY_MS", "allocator_stats", "resident_bytes", "tune_jemalloc"]

# How long a freed page of DuckDB's jemalloc may stay resident for reuse (jemalloc's default 10 s, DuckDB's 1 s).
DIRTY_DECAY_MS = 0
# The environment variable DuckDB's jemalloc reads its options from (jemalloc's MALLOC_CONF, renamed).
CONF_VARIABLE = "DUCKDB_JE_MALLOC_CONF"

_STATS = ("allocated", "active", "resident", "mapped", "retained")


def _mallctl() -> Callable[..., int] | None:
    spec = importlib.util.find_spec("_duckdb")
    if spec is None or spec.origin is None:
        return None
    try:
        fn = ctypes.CDLL(spec.origin).duckdb_je_mallctl
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p, ctypes.c_size_t]
    return cast("Callable[..., int]", fn)


_MALLCTL = _mallctl()
# jemalloc's statistics are a snapshot taken by writing "epoch"; two callers at once would share one.
_LOCK = threading.Lock()


# The integer types jemalloc's controls read and write (uint64_t, size_t, ssize_t, unsigned).
_Value = ctypes.c_uint64 | ctypes.c_size_t | ctypes.c_ssize_t | ctypes.c_uint


def _get(mallctl: Callable[..., int], name: str, value: _Value) -> bool:
    size = ctypes.c_size_t(ctypes.sizeof(value))
    return mallctl(name.encode(), ctypes.byref(value), ctypes.byref(size), None, 0) == 0


def _set(mallctl: Callable[..., int], name: str, value: _Value) -> bool:
    return mallctl(name.encode(), None, None, ctypes.byref(value), ctypes.sizeof(value)) == 0


def tune_jemalloc(decay_ms: int = DIRTY_DECAY_MS) -> bool:
    """Let DuckDB's jemalloc keep freed pages `decay_ms` (every arena, and those made later).

    False, changing nothing, without DuckDB's jemalloc or when DUCKDB_JE_MALLOC_CONF configures it.
    """
    mallctl = _MALLCTL
    if mallctl is None or CONF_VARIABLE in os.environ:
        return False
    narenas = ctypes.c_uint()
    if not (
        _set(mallctl, "arenas.dirty_decay_ms", ctypes.c_ssize_t(decay_ms)) and _get(mallctl, "arenas.narenas", narenas)
    ):
        return False
    for arena in range(narenas.value):
        # An arena no thread has used yet does not exist: it is made with the default set above.
        _set(mallctl, f"arena.{arena}.dirty_decay_ms", ctypes.c_ssize_t(decay_ms))
    return True


def allocator_stats() -> dict[str, int] | None:
    """Byte counts of DuckDB's jemalloc (allocated, active, resident, mapped, retained); None without it."""
    mallctl = _MALLCTL
    if mallctl is None:
        return None
    with _LOCK:
        if not _set(mallctl, "epoch", ctypes.c_uint64(1)):
            return None
        values = {name: ctypes.c_size_t() for name in _STATS}
        return {name: int(value.value) for name, value in values.items() if _get(mallctl, f"stats.{name}", value)}


def resident_bytes() -> int | None:
    """Bytes of RAM DuckDB's jemalloc holds (its data, freed pages not yet purged, its metadata)."""
    stats = allocator_stats()
    return None if stats is None else stats.get("resident")
