"""glibc malloc settings that keep the RSS close to what the process really holds.

DuckDB, the writer thread and the read threads all allocate from the C heap. glibc gives each thread
that contends for the heap its own arena (up to 8 per core) and keeps freed memory inside them, so after
a checkpoint or a large stats query the RSS stays at its high-water mark although the memory is free.
Fewer arenas and an explicit trim after the big frees hand that memory back to the kernel (measured with
bench/soak.py, docs in README "Memory"). Elsewhere than glibc these are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

__all__ = ["limit_arenas", "trim"]

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h


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


def limit_arenas(arenas: int) -> None:
    """Cap the number of malloc arenas threads created from now on may use."""
    if _LIBC is not None and _LIBC.mallopt(_M_ARENA_MAX, arenas) != 1:
        log.debug("mallopt(M_ARENA_MAX) refused")


def trim() -> None:
    """Return free heap memory at the top and inside every arena to the kernel (a few ms at most)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
