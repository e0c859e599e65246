"""The C allocator's share of the server's memory: free memory handed back to the OS while the server runs.

DuckDB (whose Python wheel links no allocator of its own), SQLite and the interpreter's larger objects all
allocate through glibc's malloc, which keeps memory freed inside an arena for reuse and returns only what
lies at the top of the main heap. A periodic `malloc_trim` returns the free pages inside every arena to the
OS (4-9 MB of a DuckDB writer's heap at 300k views in a measurement; each call took under 1.1 ms).

`tune_malloc` also fixes glibc's thresholds before any thread starts. By default glibc raises its mmap threshold
to the size of the largest mmapped block freed so far: after DuckDB frees its first 256 KB block, every later
block (and every hash table or compression buffer up to 32 MB) comes from the arenas, where it leaves holes
behind. In two 150-s soaks one after the other (bench/soak.py, niced, loaded: 1,910 and 1,615 hits/s), glibc's
arenas held 55 MB (11 free) near the end with its defaults and 42 MB (1 free) with the settings below. A fixed
threshold keeps blocks of 128 KB and up in their own mappings, returned to the OS as soon as they are freed,
and two arenas keep the server's ~20 threads from spreading their small allocations over up to 16 of them
(docs/architecture.md#process-tuning). Other C libraries (musl, macOS) have neither call: there both are no-ops.
"""

from __future__ import annotations

import ctypes
import logging
import threading

__all__ = ["MemoryTrimmer", "release_free_memory", "tune_malloc"]

log = logging.getLogger("medama_py")

# How often free memory goes back: trimming walks the arenas' free lists under their locks (~1 ms here).
TRIM_EVERY_S = 5.0


def _glibc() -> ctypes.CDLL | None:
    # The symbols already loaded into this process, the C library's among them (no search for its file).
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()

# mallopt's parameter numbers (glibc's <malloc.h>).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# glibc's own starting value, kept fixed instead of rising with the frees: DuckDB's blocks (256 KB) and anything
# larger get a mapping of their own.
MMAP_THRESHOLD_BYTES = 128 * 1024
# Free memory at the top of a heap beyond this goes back at once; the rest waits for the periodic trim.
TRIM_THRESHOLD_BYTES = 1024 * 1024
# glibc's default is 8 per core; the hit path's threads mostly take turns on the GIL anyway.
ARENA_MAX = 2


def tune_malloc() -> bool:
    """Fix glibc malloc's mmap and trim thresholds and cap its arenas; call before any thread starts.

    True when glibc took all three settings, False elsewhere (the C library's defaults stay).
    """
    if _LIBC is None or not hasattr(_LIBC, "mallopt"):
        return False
    settings = (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
        (_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
        (_M_ARENA_MAX, ARENA_MAX),
    )
    return all(bool(_LIBC.mallopt(ctypes.c_int(param), ctypes.c_int(value))) for param, value in settings)


def release_free_memory() -> bool:
    """Return the free memory of every malloc arena to the OS; True when glibc released some."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(ctypes.c_size_t(0)))


class MemoryTrimmer:
    """A daemon thread that calls `release_free_memory` every `interval` seconds until stopped."""

    def __init__(self, interval: float = TRIM_EVERY_S) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="malloc-trim", daemon=True)

    def start(self) -> None:
        if _LIBC is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 1)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                release_free_memory()
            except OSError:  # pragma: no cover - ctypes raises only for a broken libc
                log.exception("malloc_trim failed")
                return
