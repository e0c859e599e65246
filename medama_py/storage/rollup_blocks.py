"""Block rows: the lists' day bins summed over blocks of BLOCK_DAYS days (docs/stats.md#rollups).

The full variant of a list (referrers, countries ...) needs each label's duration histogram over the period
(storage/rollup_days.py rollup_day_bins). Per day and label the histograms are sparse, so a year of referrers
at 10M page views keeps 2.3M day rows, and summing them by label and bin cost ~200 ms CPU; per block of 32
days the same year is 347k rows. A block row is written by the build that completes or rewrites one of its
days, summed from the day rows in the same transaction, and is used only while each of its days is usable and
none was rebuilt after it (storage/rollups.Rollups.usable_blocks); otherwise the reader sums the day rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

    import duckdb

__all__ = ["BLOCK_DAYS", "BLOCK_TABLES", "build_blocks", "create_block_tables", "days_of"]

# 16-day blocks kept 558k rows of the year's referrers at 10M views, 32-day blocks 347k; a longer block would
# leave more of a period's edges to the day rows.
BLOCK_DAYS: Final = 32
BLOCK_TABLES: Final = ("rollup_blocks", "rollup_block_bins")
_CREATE: Final = (
    "CREATE TABLE rollup_blocks (hostname TEXT NOT NULL, block INTEGER NOT NULL, version BIGINT NOT NULL)",
    """CREATE TABLE rollup_block_bins (report TEXT NOT NULL, hostname TEXT NOT NULL, block INTEGER NOT NULL,
       label TEXT NOT NULL, bin INTEGER, durations BIGINT NOT NULL, visitors BIGINT NOT NULL,
       timings HUGEINT NOT NULL)""",
)
_BINS: Final = """
INSERT INTO rollup_block_bins
SELECT report, hostname, day // $size, label, bin, sum(durations), sum(visitors), sum(timings)
FROM rollup_day_bins WHERE hostname = $hostname AND day BETWEEN $first AND $last
GROUP BY report, hostname, day // $size, label, bin
"""
_BLOCKS: Final = "INSERT INTO rollup_blocks VALUES ($hostname, $block, $version)"


def create_block_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the block tables (the caller dropped every rollup table first)."""
    for statement in _CREATE:
        conn.execute(statement)


def days_of(block: int, size: int = BLOCK_DAYS) -> range:
    """The day numbers of block number `block` of `size` days."""
    return range(block * size, (block + 1) * size)


def build_blocks(
    cur: duckdb.DuckDBPyConnection, hostname: str, blocks: Iterable[int], version: int, size: int = BLOCK_DAYS
) -> None:
    """(Re)write `blocks` of `hostname`, summed from the day rows, inside the build that wrote the last of them."""
    for block in blocks:
        key = {"hostname": hostname, "block": block}
        for table in BLOCK_TABLES:
            cur.execute(f"DELETE FROM {table} WHERE hostname = $hostname AND block = $block", key)  # noqa: S608 (table names are code)
        cur.execute(_BINS, {"hostname": hostname, "first": block * size, "last": (block + 1) * size - 1, "size": size})
        cur.execute(_BLOCKS, {**key, "version": version})
