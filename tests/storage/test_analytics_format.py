"""Files medama_py writes stay readable by older DuckDB versions, so users can go back to Medama."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.analytics_file import ROW_GROUP_ROWS, invalidated, is_fatal

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


def test_the_views_the_server_writes_come_in_row_groups_of_a_quarter_of_duckdbs_default(tmp_path: Path) -> None:
    # Each checkpoint of a row group that is not full compresses all of its rows again (docs/architecture.md).
    path = tmp_path / "me_analytics.db"
    store = AnalyticsStore(str(path))
    store.open()
    insert = """INSERT INTO views SELECT 'b' || i, 'a.com', '/', true, true, NULL, NULL, NULL, NULL, NULL,
        'Chrome', 'Linux', 'desktop', NULL, NULL, NULL, NULL, TIMESTAMPTZ '2024-01-01' + INTERVAL (i) SECOND
        FROM range(100000) t(i)"""
    store.write_sync(lambda cur: cur.execute(insert))
    store.close()
    conn = duckdb.connect(str(path), read_only=True)
    try:
        groups = conn.execute(
            "SELECT count(DISTINCT row_group_id), max(count) FROM pragma_storage_info('views') WHERE column_id = 0"
        ).fetchone()
        assert conn.execute("SELECT count(*) FROM views").fetchone() == (100000,)
    finally:
        conn.close()
    assert groups == (4, ROW_GROUP_ROWS)


def test_a_file_in_a_newer_duckdb_format_opens_in_its_own_format(tmp_path: Path) -> None:
    path = tmp_path / "me_analytics.db"
    conn = duckdb.connect(str(path), config={"storage_compatibility_version": "latest"})
    conn.execute("CREATE TABLE kept (n INTEGER)")
    conn.close()
    newer = _storage_version(path)
    store = AnalyticsStore(str(path))
    store.open()
    store.close()
    assert _storage_version(path) == newer != "v1.0.0+"


def test_duckdb_giving_up_the_attached_file_is_fatal_and_other_errors_are_not() -> None:
    attached = duckdb.IOException('IO Error: Database "analytics" has been invalidated because checkpointing failed.')
    assert invalidated(attached) and is_fatal(attached)
    assert invalidated(duckdb.FatalException("FATAL Error: database invalidated"))
    internal = duckdb.InternalException("INTERNAL Error: something")
    assert is_fatal(internal) and not invalidated(internal)
    for error in (
        duckdb.IOException("IO Error: disk full"),
        duckdb.OutOfMemoryException("Out of Memory"),
        ValueError(),
    ):
        assert not is_fatal(error)
