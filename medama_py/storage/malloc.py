"""glibc malloc settings that keep the RSS close to what the process really holds.

DuckDB, the writer thread and the read threads all allocate from the C heap. glibc gives each thread
that contends for the heap its own arena (up to 8 per core) and keeps freed memory inside them, so after
a checkpoint or a large stats query the RSS stays at its high-water mark although the memory is free.
It also raises its mmap threshold each time a large block is freed (up to 32 MB), after which DuckDB's
256 kB buffer blocks come from the arenas instead of their own mappings and fragment them. A fixed
threshold, fewer arenas and a trim after the big frees hand that memory back to the kernel (measured
with bench/soak.py, README "Memory"). Elsewhere than glibc these are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

__all__ = ["configure", "trim"]

log = logging.getLogger(__name__)

# mallopt parameter numbers in glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _libc()


def configure(arenas: int, mmap_threshold: int) -> None:
    """Cap the arenas threads may use from now on, and serve blocks of `mmap_threshold` bytes or more by mmap."""
    if _LIBC is None:
        return
    for parameter, value in ((_M_ARENA_MAX, arenas), (_M_MMAP_THRESHOLD, mmap_threshold)):
        if _LIBC.mallopt(parameter, value) != 1:
            log.debug("mallopt(%d, %d) refused", parameter, value)


def trim() -> None:
    """Return free heap memory at the top and inside every arena to the kernel (a few ms at most)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
