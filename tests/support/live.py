"""A hit writer running on a store of its own, for tests that need both on real files."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.writer import HitWriter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

__all__ = ["live_writer"]


@contextlib.asynccontextmanager
async def live_writer(path: Path, **options: object) -> AsyncIterator[tuple[AnalyticsStore, HitWriter]]:
    """The store on `path` and a started `HitWriter(store, **options)`; stopped and closed afterwards."""
    store = AnalyticsStore(str(path))
    store.open()
    writer = HitWriter(store, **options)  # type: ignore[arg-type]
    await writer.start()
    try:
        yield store, writer
    finally:
        await writer.stop()
        store.close()
