"""What a crash test does after the crash: restart a hit writer on the files, and count the views they hold."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.writer import HitWriter

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["restart_writer", "stored_bids"]


def stored_bids(path: Path) -> Counter[str]:
    """How many views of each bid the analytics file holds (DuckDB replays its own WAL on open)."""
    store = AnalyticsStore(str(path))
    store.open()
    try:
        return Counter(row[0] for row in store.conn.execute("SELECT bid FROM views").fetchall())
    finally:
        store.close()


async def restart_writer(path: Path) -> Counter[str]:
    """Start a writer on the files (it replays its journal past DuckDB's position), stop it, count the views."""
    store = AnalyticsStore(str(path))
    store.open()
    writer = HitWriter(store)
    await writer.start()
    await writer.stop()
    store.close()
    return stored_bids(path)
