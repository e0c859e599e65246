"""`medama import` of our own export files: the rows of `views` or `events` not in the database yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.importer.staging import ImportError_, ImportResult, rejected_lines, stage
from medama_py.storage.analytics_file import VIEWS_COLUMNS
from medama_py.storage.export import EVENTS_COLUMNS

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

__all__ = ["import_export_file"]


def import_export_file(cur: duckdb.DuckDBPyConnection, path: Path, table: str) -> ImportResult:
    """Insert the rows of a `medama export` file of `table` that are not in the database yet."""
    columns = {"views": VIEWS_COLUMNS, "events": EVENTS_COLUMNS}[table]
    result = ImportResult()
    cur.begin()
    try:
        stage(cur, "incoming", path, columns)
        casts = ", ".join(f"CAST(i.{c} AS {_type_of(cur, table, c)}) AS {c}" for c in columns)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE typed AS SELECT DISTINCT {casts} FROM incoming AS i")  # noqa: S608
        same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM n.{c}" for c in columns)
        total = cur.execute("SELECT count(*) FROM typed").fetchone()
        row = cur.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM typed AS n"  # noqa: S608
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {same})"
        ).fetchone()
        result.inserted[table] = int(row[0]) if row else 0
        result.skipped_existing = (int(total[0]) if total else 0) - result.inserted[table]
        result.rejected = rejected_lines(cur, path)
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    return result


def _type_of(cur: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    row = cur.execute(
        "SELECT data_type FROM duckdb_columns()"
        " WHERE table_name = ? AND column_name = ? AND database_name = current_database()",
        [table, column],
    ).fetchone()
    if row is None:
        raise ImportError_(f"the analytics database has no column {table}.{column}")
    return str(row[0])
