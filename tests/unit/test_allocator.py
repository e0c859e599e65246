"""malloc_trim returns the free pages inside the heap to the OS; the trimmer thread starts and stops cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medama_py.allocator import MemoryTrimmer, release_free_memory, set_in_environment

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


_TOP = """
import sys
from pathlib import Path
from medama_py.allocator import tune_malloc

def rss_anon_mb():
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("RssAnon:"))
    return int(line.split()[1]) / 1024

tuned = sys.argv[1] == "tuned" and tune_malloc()
# Freeing one 16 MB mapped block raises glibc's dynamic mmap threshold to 16 MB and its trim threshold to 32 MB.
big = bytearray(16 * 1024 * 1024)
del big
blocks = [bytearray(b"x" * (256 * 1024)) for _ in range(96)]
del blocks
print(tuned, rss_anon_mb())
"""


def _rss_after_freeing_the_top(mode: str) -> tuple[str, float]:
    done = subprocess.run([sys.executable, "-c", _TOP, mode], capture_output=True, text=True, check=True, timeout=60)
    tuned, rss = done.stdout.split()
    return tuned, float(rss)


@pytest.mark.e2e
def test_free_memory_at_the_top_of_the_heap_goes_back_at_once() -> None:
    # In fresh processes (mallopt is process-wide): 24 MB of 256 KB blocks, all freed. With glibc's defaults the
    # raised trim threshold keeps them resident at the top of the heap; with tune_malloc's 1 MB they go back.
    tuned, tuned_rss = _rss_after_freeing_the_top("tuned")
    untuned, untuned_rss = _rss_after_freeing_the_top("default")
    assert (tuned, untuned) == ("True", "False")
    assert tuned_rss < untuned_rss - 20


_MAPPED = """
import ctypes, sys
from medama_py.allocator import tune_malloc

class Mallinfo2(ctypes.Structure):
    # glibc's struct mallinfo2, every field: it is returned by value.
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(name, ctypes.c_size_t) for name in names.split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Mallinfo2
libc.malloc.restype = ctypes.c_void_p
tuned = tune_malloc()
before = libc.mallinfo2().hblkhd
block = libc.malloc(int(sys.argv[1]))
print(tuned, libc.mallinfo2().hblkhd - before >= int(sys.argv[1]))
"""


def _mapped_after_tune(size: int, env: dict[str, str]) -> tuple[str, str]:
    environment = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", _MAPPED, str(size)],
        capture_output=True, text=True, check=True, timeout=60, env={**environment, **env},
    )  # fmt: skip
    tuned, mapped = done.stdout.split()
    return tuned, mapped


@pytest.mark.e2e
@pytest.mark.parametrize(
    "env", [{"MALLOC_MMAP_THRESHOLD_": "1048576"}, {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=1048576"}]
)
def test_an_mmap_threshold_from_the_environment_is_kept(env: dict[str, str]) -> None:
    # 2 MB: taken from the heap under tune_malloc's own threshold, mapped under the operator's 1 MB.
    assert _mapped_after_tune(2 * 1024 * 1024, {}) == ("True", "False")
    assert _mapped_after_tune(2 * 1024 * 1024, env) == ("True", "True")


def test_settings_given_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=4")
    assert set_in_environment("MALLOC_ARENA_MAX", "glibc.malloc.arena_max")
    assert not set_in_environment("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1048576")
    assert set_in_environment("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold")
