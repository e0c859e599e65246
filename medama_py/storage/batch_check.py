"""Applying a journaled batch whose earlier apply failed: only the rows the database does not hold yet.

A failed apply may have committed all of its transaction, none of it, or part of it. DuckDB's COMMIT can fail
half-way under memory pressure ("failed to pin block" at a 32 MB limit) and still leave part of the transaction in
its WAL: once the file was opened again, the journal position recorded in that transaction was there and the
batch's views were not (bench/recovery.py; tests/storage/test_failed_commit.py makes DuckDB do it). So the hit
writer trusts neither the position nor its absence for such a batch: it compares the batch's rows with what each
table holds around their times, applies the missing ones with the batch's durations and its position, and every
acknowledged row ends up stored exactly once (docs/architecture.md#failures).

A row counts as held when the table holds a row equal to it in every column the writer fills. Two hits never
make equal rows in practice (a row carries its arrival time to the microsecond and the visitor's beacon id), so
a held row is this batch's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from medama_py.storage.hit_batches import TARGET_COLUMNS, Batch, UmamiBatch, apply_batch

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from medama_py.storage.hit_batches import Appenders, Row
    from medama_py.storage.journal import Position
    from medama_py.storage.rollups import Rollups

__all__ = ["Checked", "apply_missing"]

# The batch's rows of one table, typed as the table types them, compared there with what the table holds.
_CHECK_TABLE = "temp.main.medama_py_batch_check"


@dataclass(frozen=True, slots=True)
class Checked:
    """What the check found: rows of the batch the database held already, and rows it applied now."""

    held: int
    applied: int


def apply_missing(
    cur: duckdb.DuckDBPyConnection,
    appenders: Appenders,
    batch: Batch,
    rollups: Rollups | None = None,
    applied: Position | None = None,
    *,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> Checked:
    """Apply the rows of `batch` the database lacks, all its durations and `applied`, in one transaction.

    Writer thread only: nothing else writes between the check and the apply. A duration sets a value, so applying
    it again leaves what the first apply left.
    """
    missing = {table: _missing_rows(cur, table, rows) for table, rows in _table_rows(batch).items()}
    umami = UmamiBatch(missing["umami_hits"], missing["umami_event_data"], missing["umami_session_data"])
    rest = Batch(
        missing["views"], missing["events"], batch.durations, umami, batch.recent_durations, batch.recent_since
    )
    apply_batch(cur, appenders, rest, rollups, applied, before_commit=before_commit)
    total = sum(len(rows) for rows in _table_rows(batch).values())
    now = sum(len(rows) for rows in missing.values())
    return Checked(held=total - now, applied=now)


def _table_rows(batch: Batch) -> dict[str, list[Row]]:
    return {
        "views": batch.views,
        "events": batch.events,
        "umami_hits": batch.umami.hits,
        "umami_event_data": batch.umami.data,
        "umami_session_data": batch.umami.session_data,
    }


def _missing_rows(cur: duckdb.DuckDBPyConnection, table: str, rows: list[Row]) -> list[Row]:
    """The rows `table` does not hold, as a multiset: a row given twice and held once comes back once."""
    if not rows:
        return []
    names = {"table": table, "columns": ", ".join(TARGET_COLUMNS[table]), "check": _CHECK_TABLE}  # our names only
    cur.execute(_CREATE_CHECK.format_map(names))
    try:
        appender = cur.appender(_CHECK_TABLE)  # the appender's conversions, as when the rows were first applied
        appender.append_rows(rows)
        appender.flush()
        return [tuple(row) for row in cur.execute(_MISSING.format_map(names)).fetchall()]
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {_CHECK_TABLE}")


_CREATE_CHECK = "CREATE OR REPLACE TEMP TABLE {check} AS SELECT {columns} FROM {table} LIMIT 0"
# Only the rows around the batch's times are compared: DuckDB skips every other row group by its date_created bounds.
_MISSING = """
SELECT {columns} FROM {check}
EXCEPT ALL
SELECT {columns} FROM {table}
WHERE date_created BETWEEN (SELECT min(date_created) FROM {check}) AND (SELECT max(date_created) FROM {check})
ORDER BY date_created"""
