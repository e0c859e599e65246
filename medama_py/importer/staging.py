"""Reading an import file into a temporary table, and reporting the lines that cannot be used, with why."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

__all__ = [
    "MAX_LINE_BYTES",
    "REPORTED_REJECTS",
    "ImportError_",
    "ImportResult",
    "located_lines",
    "rejected_lines",
    "stage",
]

MAX_LINE_BYTES = 64 * 1024
# At most this many bad lines are reported per file: enough to see the pattern, never a flood.
REPORTED_REJECTS = 50


class ImportError_(Exception):  # noqa: N801  (the builtin ImportError means something else)
    """A file that cannot be imported at all (missing columns, unreadable); one line, nothing stored."""


@dataclass
class ImportResult:
    inserted: dict[str, int] = field(default_factory=dict)
    skipped_existing: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, why)


def _reader(path: Path) -> tuple[str, list[object]]:
    """A DuckDB table function reading `path` by its extension; CSV rows that do not parse are set aside."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "read_parquet(?)", [str(path)]
    if suffix in (".ndjson", ".jsonl", ".json"):
        return "read_json(?, format = 'newline_delimited')", [str(path)]
    return (
        "read_csv(?, header = true, all_varchar = true, store_rejects = true, max_line_size = ?, encoding = 'utf-8')",
        [str(path), MAX_LINE_BYTES],
    )


def stage(cur: duckdb.DuckDBPyConnection, name: str, path: Path, required: tuple[str, ...]) -> None:
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    source, params = _reader(path)
    try:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {source}", params)  # noqa: S608
    except Exception as exc:  # duckdb raises a dozen kinds for unreadable files; all mean the same here
        raise ImportError_(f"{path}: cannot be read: {_reason(str(exc))}") from exc
    columns = {row[0] for row in cur.execute(f"DESCRIBE {name}").fetchall()}
    missing = [column for column in required if column not in columns]
    if missing:
        raise ImportError_(f"{path}: missing column(s) {', '.join(missing)}")


def _reason(message: str) -> str:
    """DuckDB's explanation without the echoed line (which may be huge) and its sniffer settings."""
    lines = [line for line in message.splitlines() if line.strip()]
    if any("Maximum line size" in line for line in lines):
        return f"a line is longer than {MAX_LINE_BYTES} bytes (DuckDB: {lines[0]})"
    return lines[0] if lines else "unknown error"


def rejected_lines(cur: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, int, str]]:
    """Lines of a CSV file that DuckDB set aside, with why (Parquet and JSON files have none)."""
    if _reader(path)[0].startswith(("read_parquet", "read_json")):
        return []
    rows = cur.execute(
        "SELECT e.line, min(e.error_message) FROM reject_errors AS e"
        " JOIN reject_scans AS s ON s.scan_id = e.scan_id AND s.file_id = e.file_id"
        " WHERE s.file_path = ? GROUP BY e.line ORDER BY e.line LIMIT ?",
        [str(path), REPORTED_REJECTS],
    ).fetchall()
    return [(path.name, int(line), str(message).splitlines()[0]) for line, message in rows]


def located_lines(path: Path, column: str, problems: dict[str, str]) -> list[tuple[str, int, str]]:
    """Rows DuckDB read but the import cannot use, by their id, as (file, line, why) in line order."""
    lines = _lines_of(path, column, set(problems))
    located = sorted(((path.name, lines.get(key, 0), why) for key, why in problems.items()), key=lambda bad: bad[1])
    return located[:REPORTED_REJECTS]


def _lines_of(path: Path, column: str, wanted: set[str]) -> dict[str, int]:
    """The line of each record with `column` in `wanted`, counted as DuckDB counts the lines it rejects.

    The header is line 1 and each record one line: the file's own line numbers unless a quoted value spans lines.

    Only runs when some rows are bad, on a file DuckDB has already read as UTF-8 with bounded lines.
    """
    found: dict[str, int] = {}
    if not wanted:
        return found
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if column not in header:
            return found
        index = header.index(column)
        for line, record in enumerate(reader, start=2):
            if index < len(record) and record[index] in wanted:
                found[record[index]] = line
    return found
