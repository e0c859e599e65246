"""A hit writer running on a store of its own, for tests that need both on real files."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.writer import HitWriter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

__all__ = ["PATIENT_READS_S", "live_writer", "writer_thread_held"]

# How long a test's reads wait for the hits acknowledged before them (HitWriter's `read_wait_s`). The server's
# quarter of a second suits a dashboard, which would rather lag a checkpoint than wait for it; a test that reads
# what it has just written must see all of it, and on a loaded 2-core CI machine two applies can take longer.
PATIENT_READS_S = 30.0


@contextlib.asynccontextmanager
async def live_writer(path: Path, **options: object) -> AsyncIterator[tuple[AnalyticsStore, HitWriter]]:
    """The store on `path` and a started `HitWriter(store, **options)`; stopped and closed afterwards."""
    store = AnalyticsStore(str(path))
    store.open()
    writer = HitWriter(store, **{"read_wait_s": PATIENT_READS_S, **options})  # type: ignore[arg-type]
    await writer.start()
    try:
        yield store, writer
    finally:
        await writer.stop()
        store.close()


@contextlib.asynccontextmanager
async def writer_thread_held(store: AnalyticsStore) -> AsyncIterator[None]:
    """The store's writer thread stuck (an endless checkpoint, say) for the whole block, which starts only once it is.

    Entered any earlier, an apply already queued could still reach DuckDB first, and a test counting what waits in
    the journal would race it.
    """
    stuck, release = threading.Event(), threading.Event()

    def hold(_cur: object) -> None:
        stuck.set()
        release.wait(60)

    stall = asyncio.ensure_future(store.write(hold))
    try:
        assert await asyncio.to_thread(stuck.wait, 60), "the writer thread never took the stall"
        yield
    finally:
        release.set()
        await stall
