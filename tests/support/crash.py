"""What a crash test does after the crash: restart a hit writer on the files, and count the views they hold."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.writer import HitWriter

if TYPE_CHECKING:
    from pathlib import Path

    from medama_py.storage.writer import WriterStats

__all__ = ["restart", "restart_writer", "stored_bids"]


def stored_bids(path: Path) -> Counter[str]:
    """How many views of each bid the analytics file holds (DuckDB replays its own WAL on open)."""
    store = AnalyticsStore(str(path))
    store.open()
    try:
        return Counter(row[0] for row in store.conn.execute("SELECT bid FROM views").fetchall())
    finally:
        store.close()


async def restart(path: Path) -> WriterStats:
    """Start a writer on the files (it replays its journal past DuckDB's position), stop it; what it did."""
    store = AnalyticsStore(str(path))
    store.open()
    try:
        writer = HitWriter(store)
        await writer.start()
        await writer.stop()
    finally:
        store.close()
    return writer.stats


async def restart_writer(path: Path) -> Counter[str]:
    """`restart`, then count the views."""
    await restart(path)
    return stored_bids(path)
