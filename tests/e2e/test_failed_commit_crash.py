"""kill -9 after DuckDB failed a COMMIT half-way and before the writer checked that batch: nothing lost at restart.

A COMMIT that raised may leave its journal position without its rows, and that becomes durable only later: right
after the failed COMMIT, DuckDB's files still hold the previous position; once the store has closed the connection
(its reopen after "Conflict on update!"), the file holds the failed transaction's position without its 20 views.
Until the writer's check (storage/batch_check.py) applies them, about a second later, a crash lost them: the start
trusted the position. A child process runs the real writer on real files, DuckDB fails the COMMIT for real
(tests/support/failed_commit.py), and the child kills itself with SIGKILL at one of those two moments, each named by
a log line; the test then starts a writer on the same files.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.journal import InDoubt, read_applied
from tests.support.crash import restart
from tests.support.failed_commit import stored

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import asyncio, logging, os, signal, sys, threading
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.writer import HitWriter
from medama_py.storage.journal import read_applied
from tests.support.failed_commit import NO_CHECKPOINTS, CommitSqueeze, acknowledge, until_settled

def say(line):
    os.write(1, (line + "\\n").encode())  # one write(2) per line: the writer thread reports too

class KillAt(logging.Handler):
    def emit(self, record):
        if sys.argv[2] in record.getMessage():
            say("killed at: " + record.getMessage().splitlines()[0])
            os.kill(os.getpid(), signal.SIGKILL)

async def main():
    store = AnalyticsStore(sys.argv[1])
    store.open()
    acknowledged = threading.Event()
    squeeze = CommitSqueeze(store, after=acknowledged)
    writer = HitWriter(store, max_batch=20, max_delay_ms=1, checkpoints=NO_CHECKPOINTS, before_commit=squeeze)
    logging.getLogger().addHandler(KillAt())
    await writer.start()
    # As tests/storage/test_failed_commit.py: views in the file's blocks, a few in the WAL only, then the squeeze.
    await acknowledge(writer, 0, 200)
    await until_settled(writer)
    await store.checkpoint()
    await acknowledge(writer, 200, 20)
    await until_settled(writer)
    say(f"applied {(await store.write(read_applied, noted=True)).offset}")
    squeeze.arm()
    await acknowledge(writer, 220, 20)
    say("acknowledged 240")
    acknowledged.set()
    await squeeze.release()
    await asyncio.sleep(60)
    say("never killed")

asyncio.run(main())
"""

# The two moments, by the log line each begins with: the writer's, just after the COMMIT raised (on the event loop,
# once the writer thread is done with that write); the store's, once it has closed the file and opened it again.
AFTER_THE_COMMIT = "DuckDB could not take 20 journaled hits"
AFTER_THE_REOPEN = "DuckDB invalidated the analytics database"


def crash(path: Path, kill_at: str) -> list[str]:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), kill_at], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    lines = child.stdout.splitlines()
    assert child.returncode == -9, (lines, child.stderr[-2000:])
    return lines


def applied_position_views(path: Path) -> tuple[int, int]:
    """The journal offset DuckDB says it applied, and its views, read without a writer (DuckDB replays its WAL)."""
    store = AnalyticsStore(str(path))
    store.open()
    try:
        with store.cursor() as cur:
            position = read_applied(cur)
            row = cur.execute("SELECT count(*) FROM views").fetchone()
    finally:
        store.close()
    assert position is not None and row is not None
    return position.offset, int(row[0])


@pytest.mark.parametrize("kill_at", [AFTER_THE_COMMIT, AFTER_THE_REOPEN])
def test_a_crash_before_the_check_of_a_failed_commit_loses_no_acknowledged_hit(tmp_path: Path, kill_at: str) -> None:
    path = tmp_path / "analytics.db"
    lines = crash(path, kill_at)
    assert "acknowledged 240" in lines
    assert f"killed at: {kill_at}" in "\n".join(lines)
    before = next(int(line.split()[1]) for line in lines if line.startswith("applied "))
    offset, views = applied_position_views(path)
    # What DuckDB alone holds: never the failed batch's 20 views; after the reopen, a position that claims them.
    assert views == 220
    assert offset == before if kill_at == AFTER_THE_COMMIT else offset > before
    journal = Path(f"{path}.journal")
    assert (journal / InDoubt.NAME).exists()

    first = asyncio.run(restart(path))
    assert stored(path) == ({f"v{n}": 1 for n in range(240)}, 120)
    assert first.checked >= 1
    assert first.checked_rows_applied == 20
    assert not (journal / InDoubt.NAME).exists()

    again = asyncio.run(restart(path))
    assert stored(path) == ({f"v{n}": 1 for n in range(240)}, 120)  # nothing twice
    assert again.checked == 0
