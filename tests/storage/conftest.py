"""The two stores on real files in the test's temporary directory, opened (migrated) and closed after it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.meta import MetaStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path


@pytest.fixture
def analytics(tmp_path: Path) -> Iterator[AnalyticsStore]:
    """A new DuckDB analytics file with Medama's tables."""
    store = AnalyticsStore(str(tmp_path / "me_analytics.db"))
    store.open()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
async def meta(tmp_path: Path) -> AsyncIterator[MetaStore]:
    """A new SQLite meta file, every migration applied."""
    store = MetaStore(str(tmp_path / "me_meta.db"))
    await store.open()
    try:
        yield store
    finally:
        await store.close()
