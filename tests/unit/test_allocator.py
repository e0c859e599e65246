"""malloc_trim returns the free pages inside the heap to the OS; the trimmer thread starts and stops cleanly."""

from __future__ import annotations

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
