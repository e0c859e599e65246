"""Raw rows of one website and period written to a file by DuckDB's own CSV, Parquet and JSON writers.

Memory stays bounded whatever the size (docs/data.md#export):

- CSV and NDJSON are written in chunks of about CHUNK_ROWS rows, one `COPY` per rowid range, appended to the
  target in rowid (storage) order. A single order-preserving COPY of the whole range made DuckDB hold the
  batches its threads scanned ahead, up to a share of its memory_limit: 1.3 GB at 10M rows in bench/data.py.
  Per chunk it holds one chunk. The bytes are the same as one COPY's (CSV header once, from the first chunk).
- Parquet cannot be appended to, so it is one COPY that does not keep the storage order (PRESERVE_ORDER
  false: each thread writes its own row groups) with row groups of PARQUET_ROW_GROUP rows.

Run it inside one transaction (AnalyticsStore.read does): every chunk then reads the same snapshot, and
rowids do not move under it. Columns are exactly the analytics tables', in their order.
"""

from __future__ import annotations

import contextlib
import shutil
from typing import TYPE_CHECKING

from medama_py.storage.analytics_file import VIEWS_COLUMNS

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable
    from pathlib import Path

    import duckdb

__all__ = ["CHUNK_ROWS", "EVENTS_COLUMNS", "EXPORT_FORMATS", "EXPORT_MEMORY_BYTES", "EXPORT_TABLES", "export_rows"]

EVENTS_COLUMNS: tuple[str, ...] = ("batch_id", "group_name", "name", "value", "date_created", "bid")

# Rows per COPY of a chunked export: ten DuckDB vectors, a few MB of rows held at once. Smaller chunks only
# add statements (at 10M rows, 20,480-row chunks were as fast as one COPY; 122,880-row chunks held 3x more).
CHUNK_ROWS = 20_480
# Parquet row groups: each of DuckDB's threads builds one in memory before compressing it. 32,768 rows held
# ~80 MB at 10M rows against ~150 MB for DuckDB's default 122,880, for a file ~5% larger.
PARQUET_ROW_GROUP = 32_768

# DuckDB's memory limit while an export runs (AnalyticsStore.read's memory_bytes): it reads the whole site once,
# and under the full limit DuckDB kept every block of it cached (server peak 560 MB at 10M rows). What the
# writers hold at once (a Parquet row group per thread, a CSV chunk) fits well under it.
EXPORT_MEMORY_BYTES = 128 * 1024 * 1024

# format name -> (COPY options, media type, file extension); the keys are the only accepted values.
EXPORT_FORMATS: dict[str, tuple[str, str, str]] = {
    "csv": ("FORMAT csv", "text/csv; charset=utf-8", "csv"),
    "parquet": (
        f"FORMAT parquet, COMPRESSION zstd, PRESERVE_ORDER false, ROW_GROUP_SIZE {PARQUET_ROW_GROUP}",
        "application/vnd.apache.parquet",
        "parquet",
    ),
    "ndjson": ("FORMAT json", "application/x-ndjson", "ndjson"),
}
# Formats whose files can be concatenated, and so are written chunk by chunk.
_CHUNKED = frozenset({"csv", "ndjson"})

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
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the rows of `table` for `hostname` with start <= date_created <= end to `target`; return the count.

    `progress(rows_written, rows_total)` is called after each chunk of a CSV or NDJSON export.

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
    where = " AND ".join(conditions)
    select = f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"  # noqa: S608
    if file_format not in _CHUNKED:
        return _copy(cur, select, params, target, options)
    header = file_format == "csv"
    ranges = _chunk_ranges(cur, table, where, params)
    if not ranges:  # still a valid file: a CSV header, an empty NDJSON file
        return _copy(cur, select, params, target, options + (", HEADER true" if header else ""))
    return _copy_chunks(cur, select, params, target, options, ranges, header=header, progress=progress)


def _chunk_ranges(
    cur: duckdb.DuckDBPyConnection, table: str, where: str, params: dict[str, object]
) -> list[tuple[int, int, int]]:
    """Consecutive rowid ranges [low, high) holding at most CHUNK_ROWS matching rows each, with their counts.

    Ranges without a matching row are skipped, so a small site in a large table costs few statements.
    """
    parts = cur.execute(
        f"SELECT rowid // $chunk AS part, count(*) FROM {table} WHERE {where} GROUP BY part ORDER BY part",  # noqa: S608
        {**params, "chunk": CHUNK_ROWS},
    ).fetchall()
    ranges: list[tuple[int, int, int]] = []
    for part, count in parts:
        low, high = int(part) * CHUNK_ROWS, (int(part) + 1) * CHUNK_ROWS
        if ranges and ranges[-1][2] + count <= CHUNK_ROWS:
            ranges[-1] = (ranges[-1][0], high, ranges[-1][2] + int(count))
        else:
            ranges.append((low, high, int(count)))
    return ranges


def _copy_chunks(
    cur: duckdb.DuckDBPyConnection,
    select: str,
    params: dict[str, object],
    target: Path,
    options: str,
    ranges: list[tuple[int, int, int]],
    *,
    header: bool,
    progress: Callable[[int, int], None] | None,
) -> int:
    """One COPY per rowid range into a part file, appended to `target` in order; the CSV header comes once."""
    total = sum(count for _, _, count in ranges)
    part = target.with_name(f"{target.name}.part")
    written = 0
    try:
        with target.open("wb") as out:
            for index, (low, high, _) in enumerate(ranges):
                chunk_options = options + (f", HEADER {str(index == 0).lower()}" if header else "")
                bounded = f"{select} AND rowid >= $low AND rowid < $high"
                written += _copy(cur, bounded, {**params, "low": low, "high": high}, part, chunk_options)
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 20)
                if progress is not None:
                    progress(written, total)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return written


def _copy(cur: duckdb.DuckDBPyConnection, select: str, params: dict[str, object], target: Path, options: str) -> int:
    # COPY cannot bind its target, so the path is quoted here; it is always a file name we chose.
    quoted = str(target).replace("'", "''")
    row = cur.execute(f"COPY ({select}) TO '{quoted}' ({options})", params).fetchone()
    return int(row[0]) if row else 0
