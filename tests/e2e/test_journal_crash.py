"""kill -9 in the middle of applying the hit journal to DuckDB: every acknowledged hit comes back exactly once.

A child process runs the real HitWriter on real files. Once two rounds of hits are stored, its next DuckDB
transaction stops just before it records its journal position (its rows already appended, nothing committed)
while hits keep being journaled and acknowledged; the test then kills it with SIGKILL and restarts a writer on
the same files.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from tests.support.crash import restart_writer, stored_bids

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import asyncio, os, sys, threading
from medama_py.storage import hit_batches, writer
from medama_py.storage.analytics import AnalyticsStore
from tests.support.rows import make_view_row

recorded = hit_batches.record_applied
armed = False

def say(line):
    # One write(2) per line: the writer thread and the loop both report, and print() writes a line's text and
    # its newline separately, so two threads' lines could run into one ("applyingacknowledged k2").
    os.write(1, (line + "\\n").encode())

def stop_once_armed(cur, position):
    # The crash point: inside the apply transaction, after its appends, before its position and commit.
    if armed:
        say("applying")
        threading.Event().wait()
    recorded(cur, position)

hit_batches.record_applied = stop_once_armed  # apply_batch (storage/hit_batches.py) records the position

async def main():
    global armed
    store = AnalyticsStore(sys.argv[1])
    store.open()
    hits = writer.HitWriter(store, max_batch=10, max_delay_ms=0)
    await hits.start()
    for i in range(30):
        await asyncio.gather(*(hits.add_view(make_view_row(bid=f"k{i}-{j}")) for j in range(10)))
        say(f"acknowledged k{i}")
        if i < 2:
            # The first two rounds are stored (in however many applies), then the next apply stops: counting applies
            # instead would depend on how the apply task merges what waits, which varies with the load.
            await hits.settled(timeout=60)
            armed = i == 1
    say("done")
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_kill_during_apply_keeps_every_acknowledged_hit_once(tmp_path: Path) -> None:
    path = tmp_path / "analytics.db"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    lines: list[str] = []
    # A child that never reaches its crash point fails the test instead of hanging the run.
    deadline = threading.Timer(120, child.kill)
    deadline.start()
    try:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line.strip())
            if "done" in lines and "applying" in lines:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        deadline.cancel()
        child.kill()
        child.wait(30)
    acknowledged = {f"k{i}-{j}" for i in range(30) for j in range(10) if f"acknowledged k{i}" in lines}
    assert len(acknowledged) == 300
    assert sum(stored_bids(path).values()) < 300  # DuckDB alone lost the stuck transaction and all after it
    assert asyncio.run(restart_writer(path)) == Counter(dict.fromkeys(acknowledged, 1))
    assert asyncio.run(restart_writer(path)) == Counter(dict.fromkeys(acknowledged, 1))  # nothing twice
