"""malloc_trim returns the free pages inside the heap to the OS; the trimmer thread starts and stops cleanly."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from medama_py.allocator import MemoryTrimmer, release_free_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux's")


def _rss_anon_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def test_trim_returns_the_holes_free_cannot() -> None:
    # 64 KiB blocks (below glibc's mmap threshold, so they live in the heap), every other one kept: the freed
    # half are holes between live blocks, which free() leaves resident and malloc_trim hands back.
    blocks = [bytearray(b"x" * (64 * 1024)) for _ in range(1600)]
    kept = blocks[::2]
    del blocks
    before = _rss_anon_mb()
    assert release_free_memory()
    assert _rss_anon_mb() < before - 20
    assert len(kept) == 800


def test_trimmer_thread_runs_and_stops() -> None:
    trimmer = MemoryTrimmer(interval=0.01)
    trimmer.start()
    time.sleep(0.05)
    began = time.monotonic()
    trimmer.stop()
    assert time.monotonic() - began < 1
    assert not trimmer._thread.is_alive()


_HOLES = """
import sys
from pathlib import Path
from medama_py.allocator import tune_malloc

def rss_anon_mb():
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("RssAnon:"))
    return int(line.split()[1]) / 1024

tuned = sys.argv[1] == "tuned" and tune_malloc()
# Freeing one large mapped block raises glibc's dynamic mmap threshold past DuckDB's 256 KB blocks.
big = bytearray(4 * 1024 * 1024)
del big
blocks = [bytearray(b"x" * (256 * 1024)) for _ in range(400)]
kept = blocks[::2]
del blocks
before = rss_anon_mb()
print(tuned, before, len(kept))
"""


def _holes_after_free(mode: str) -> tuple[str, float]:
    done = subprocess.run([sys.executable, "-c", _HOLES, mode], capture_output=True, text=True, check=True, timeout=60)
    tuned, rss, _ = done.stdout.split()
    return tuned, float(rss)


@pytest.mark.e2e
def test_a_fixed_mmap_threshold_returns_freed_blocks_at_once() -> None:
    # In fresh processes (mallopt is process-wide): 400 blocks of 256 KB, every other one freed. With glibc's
    # defaults they sit in the heap as holes until a trim; with the fixed threshold each had its own mapping.
    tuned, tuned_rss = _holes_after_free("tuned")
    untuned, untuned_rss = _holes_after_free("default")
    assert (tuned, untuned) == ("True", "False")
    assert tuned_rss < untuned_rss - 40  # half of the 100 MB went back to the OS at free()
