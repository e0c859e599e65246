"""Raw rows of one website and period written to a file by DuckDB's own CSV, Parquet and JSON writers.

DuckDB streams the query into the file, so memory stays flat whatever the size; callers then stream the
file out (docs/data.md#export). Columns are exactly the analytics tables', in their order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.storage.analytics import VIEWS_COLUMNS

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    import duckdb

__all__ = ["EVENTS_COLUMNS", "EXPORT_FORMATS", "EXPORT_TABLES", "export_rows"]

EVENTS_COLUMNS: tuple[str, ...] = ("batch_id", "group_name", "name", "value", "date_created", "bid")

# format name -> (COPY options, media type, file extension); the keys are the only accepted values.
EXPORT_FORMATS: dict[str, tuple[str, str, str]] = {
    "csv": ("FORMAT csv, HEADER true", "text/csv; charset=utf-8", "csv"),
    "parquet": ("FORMAT parquet, COMPRESSION zstd", "application/vnd.apache.parquet", "parquet"),
    "ndjson": ("FORMAT json", "application/x-ndjson", "ndjson"),
}

# table -> (its columns, the column naming the website); the keys are the only accepted values.
EXPORT_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "views": (VIEWS_COLUMNS, "hostname"),
    "events": (EVENTS_COLUMNS, "group_name"),
}


def export_rows(
    cur: duckdb.DuckDBPyConnection,
    target: Path,
    *,
    table: str,
    file_format: str,
    hostname: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> int:
    """Write the rows of `table` for `hostname` with start <= date_created <= end to `target`; return the count.

    Raises:
        KeyError: an unknown table or format (callers check against EXPORT_TABLES / EXPORT_FORMATS first).
    """
    columns, site_column = EXPORT_TABLES[table]
    options = EXPORT_FORMATS[file_format][0]
    conditions = [f"{site_column} = $hostname"]
    params: dict[str, object] = {"hostname": hostname}
    if start is not None:
        conditions.append("date_created >= $start")
        params["start"] = start
    if end is not None:
        conditions.append("date_created <= $end")
        params["end"] = end
    # Table, columns and options come from the allow-lists above; every value is a bound parameter.
    # No ORDER BY: rows leave in storage order (the order they arrived in). Sorting held every row of the
    # range in DuckDB's memory (4 GB at 10M rows in bench/data.py); without it the copy streams.
    select = f"SELECT {', '.join(columns)} FROM {table} WHERE {' AND '.join(conditions)}"  # noqa: S608
    # COPY cannot bind its target, so the path is quoted here; it is always a file name we chose.
    quoted = str(target).replace("'", "''")
    row = cur.execute(f"COPY ({select}) TO '{quoted}' ({options})", params).fetchone()
    return int(row[0]) if row else 0
