"""Files medama_py writes stay readable by older DuckDB versions, so users can go back to Medama."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from medama_py.storage.analytics import AnalyticsStore

if TYPE_CHECKING:
    from pathlib import Path


def _storage_version(path: Path) -> str:
    conn = duckdb.connect(str(path))
    try:
        row = conn.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = ?", [path.stem]
        ).fetchone()
    finally:
        conn.close()
    assert row is not None
    return str(row[0])


def test_new_analytics_file_uses_the_duckdb_1_0_storage_format(tmp_path: Path) -> None:
    path = tmp_path / "me_analytics.db"
    store = AnalyticsStore(str(path))
    store.open()
    store.write_sync(lambda cur: cur.execute("INSERT INTO events VALUES ('event_1', 'a.com', 'k', 'v', now(), 'b')"))
    store.close()
    assert _storage_version(path) == "v1.0.0+"


def test_reopening_keeps_the_old_format(tmp_path: Path) -> None:
    path = tmp_path / "me_analytics.db"
    for _ in range(2):
        store = AnalyticsStore(str(path))
        store.open()
        store.close()
    assert _storage_version(path) == "v1.0.0+"
