"""The C allocator's share of the server's memory: free memory handed back to the OS while the server runs.

The interpreter's larger objects, uvloop, SQLite, ua-parser and DuckDB's C++ objects allocate through glibc's
malloc, which keeps memory freed inside an arena for reuse and returns only what lies at the top of a heap.
(DuckDB's buffers and query state do not: its Python wheel carries its own jemalloc, `duckdb_je_*`, so glibc's
statistics never see DuckDB's cached blocks, and evicting them leaves glibc's heap as it was.) A periodic
`malloc_trim` returns the free pages inside every arena to the OS (4-9 MB of a DuckDB writer's heap at 300k
views in a measurement; each call took under 1.1 ms).

`tune_malloc` also fixes glibc's thresholds before any thread starts. By default glibc raises its mmap threshold
to the size of the largest mapped block freed so far, and its trim threshold to twice that: up to 64 MB free at
the top of a heap stayed resident. In two 150-s soaks one after the other (bench/soak.py, niced, loaded: 1,910
and 1,615 hits/s), glibc's arenas held 55 MB (11 free) near the end with its defaults and 42 MB (1 free) with
the thresholds fixed (the mmap one at 128 KB then). Fixing one threshold stops glibc adjusting either, so the
mmap threshold is chosen too: 32 MB, the ceiling of glibc's own dynamic one. A lower one costs ingestion (every
freed block of the hit path's batches is unmapped, and the next one mapped and zeroed again) without saving
memory: bench/ingest.py, 4 rounds each alternating, server CPU per Medama hit 100 us at 128 KB, 100 at 1 MB, 94
at 32 MB (Umami 193 / 196 / 175), and 3-minute soaks peaked at 233 / 232 / 232 MB. Two arenas keep the server's
~20 threads from spreading their small allocations over up to 16 of them (docs/architecture.md#process-tuning).
A setting the environment gives glibc itself (`MALLOC_MMAP_THRESHOLD_`, `GLIBC_TUNABLES`, ...) is left as the
operator set it. Other C libraries (musl, macOS) have neither call: there both are no-ops.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading

__all__ = ["MemoryTrimmer", "release_free_memory", "set_in_environment", "tune_malloc"]

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
# glibc's ceiling for its dynamic threshold, kept fixed: only blocks this large get a mapping of their own.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
# Free memory at the top of a heap beyond this goes back at once; the rest waits for the periodic trim.
TRIM_THRESHOLD_BYTES = 1024 * 1024
# glibc's default is 8 per core; the hit path's threads mostly take turns on the GIL anyway.
ARENA_MAX = 2


# Each setting with the names glibc reads it by from the environment (its own variable, its tunable): an operator
# who set one keeps it (and bench/ingest.py compares thresholds that way).
_SETTINGS = (
    (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),
    (_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
    (_M_ARENA_MAX, ARENA_MAX, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),
)


def set_in_environment(variable: str, tunable: str) -> bool:
    """True when the environment gives glibc this setting itself (`MALLOC_..._` or GLIBC_TUNABLES)."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return variable in os.environ or any(item.startswith(f"{tunable}=") for item in tunables.split(":"))


def tune_malloc() -> bool:
    """Fix glibc malloc's mmap and trim thresholds and cap its arenas; call before any thread starts.

    A setting the environment already gives glibc is left to it. True when glibc took every setting made here,
    False elsewhere (the C library's defaults stay).
    """
    if _LIBC is None or not hasattr(_LIBC, "mallopt"):
        return False
    return all(
        bool(_LIBC.mallopt(ctypes.c_int(param), ctypes.c_int(value)))
        for param, value, variable, tunable in _SETTINGS
        if not set_in_environment(variable, tunable)
    )


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
