"""Block rows: the lists' day bins summed over aligned blocks of 4 to 256 days (docs/stats.md#rollups).

The full variant of a list (referrers, countries ...) needs each label's duration histogram over the period
(storage/rollup_days.py rollup_day_bins). Per day and label the histograms are sparse, so a year of referrers
at 10M page views keeps 2.3M day rows, and summing them by label and bin cost ~200 ms CPU. A block of days holds
each (label, bin) once: ~13k referrer rows for 4 days, ~29k for 32, ~34k for 128 (saturating). Blocks of every
power-of-two size from 4 to 256 days, aligned on multiples of their size, cover a year in about ten blocks and a
few days (~235k rows instead of 2.3M). A block is written by each build that gives one of its days a day row
once all its days have one, summed from its two halves (or, the smallest, from the day rows) in the same
transaction; it is used only while each of its days is usable and none was rebuilt after it
(storage/rollups.Rollups.usable_blocks), otherwise smaller blocks or the day rows serve those days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

    import duckdb

__all__ = ["BLOCK_SIZES", "BLOCK_TABLES", "build_blocks", "cover", "create_block_tables", "days_of"]

# Ascending; each size twice the one before, so a block sums its two halves.
BLOCK_SIZES: Final = (4, 8, 16, 32, 64, 128, 256)
BLOCK_TABLES: Final = ("rollup_blocks", "rollup_block_bins", "rollup_block_groups")
_CREATE: Final = (
    # A block is keyed by its size and first day (not its number), so blocks of every size near one time sit in
    # one range of `day` and DuckDB's zone maps skip the rest: keyed by number, reading the ten blocks of a year
    # scanned 59 of 88 row groups for one of them.
    "CREATE TABLE rollup_blocks (hostname TEXT NOT NULL, size INTEGER NOT NULL, day INTEGER NOT NULL,"
    " version BIGINT NOT NULL)",
    """CREATE TABLE rollup_block_bins (report TEXT NOT NULL, hostname TEXT NOT NULL, size INTEGER NOT NULL,
       day INTEGER NOT NULL, label TEXT NOT NULL, bin INTEGER, durations BIGINT NOT NULL, visitors BIGINT NOT NULL,
       timings HUGEINT NOT NULL)""",
    # rollup_day_groups per block: the lists' counts (a year of paths at 10M views: ~50k rows instead of 1.7M).
    """CREATE TABLE rollup_block_groups (report TEXT NOT NULL, hostname TEXT NOT NULL, size INTEGER NOT NULL,
       day INTEGER NOT NULL, label TEXT NOT NULL, visitors BIGINT NOT NULL, page_visitors BIGINT, pageviews BIGINT,
       timings HUGEINT, durations BIGINT, total_duration HUGEINT, zeros BIGINT, least UINTEGER)""",
)
_FROM_DAYS: Final = """
INSERT INTO rollup_block_bins
SELECT report, hostname, $size, $first, label, bin, sum(durations), sum(visitors), sum(timings)
FROM rollup_day_bins WHERE hostname = $hostname AND day BETWEEN $first AND $last
GROUP BY report, hostname, label, bin
"""
_FROM_HALVES: Final = """
INSERT INTO rollup_block_bins
SELECT report, hostname, $size, $first, label, bin, sum(durations), sum(visitors), sum(timings)
FROM rollup_block_bins WHERE hostname = $hostname AND size = $half AND day BETWEEN $first AND $last
GROUP BY report, hostname, label, bin
"""
_GROUPS: Final = """
INSERT INTO rollup_block_groups
SELECT report, hostname, $size, $first, label, sum(visitors), sum(page_visitors), sum(pageviews), sum(timings),
       sum(durations), sum(total_duration), sum(zeros), min(least)
FROM {table} WHERE hostname = $hostname AND {parts} AND day BETWEEN $first AND $last
GROUP BY report, hostname, label
"""
_BLOCKS: Final = "INSERT INTO rollup_blocks VALUES ($hostname, $size, $first, $version)"


def create_block_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the block tables (the caller dropped every rollup table first)."""
    for statement in _CREATE:
        conn.execute(statement)


def days_of(size: int, block: int) -> range:
    """The day numbers of block number `block` of `size` days."""
    return range(block * size, (block + 1) * size)


def build_blocks(
    cur: duckdb.DuckDBPyConnection,
    hostname: str,
    blocks: Iterable[tuple[int, int]],
    version: int,
    sizes: tuple[int, ...] = BLOCK_SIZES,
) -> None:
    """(Re)write the (size, block) `blocks` of `hostname`, smaller first, inside the build that wrote their last day.

    The smallest size sums the day rows, every other size its two halves (which are complete too, so written by
    this build or, unchanged since, before it).
    """
    for size, block in sorted(blocks):
        key = {"hostname": hostname, "size": size, "first": block * size}
        for table in BLOCK_TABLES:
            cur.execute(f"DELETE FROM {table} WHERE hostname = $hostname AND size = $size AND day = $first", key)  # noqa: S608 (table names are code)
        last = {"last": (block + 1) * size - 1}
        if size == sizes[0]:
            cur.execute(_FROM_DAYS, {**key, **last})
            cur.execute(_GROUPS.format(table="rollup_day_groups", parts="true"), {**key, **last})
        else:
            cur.execute(_FROM_HALVES, {**key, **last, "half": size // 2})
            halves = _GROUPS.format(table="rollup_block_groups", parts="size = $half")
            cur.execute(halves, {**key, **last, "half": size // 2})
        cur.execute(_BLOCKS, {**key, "version": version})


def cover(days: list[int], usable: set[tuple[int, int]], sizes: tuple[int, ...] = BLOCK_SIZES) -> list[tuple[int, int]]:
    """The fewest `usable` (size, block) blocks, largest first, that lie within the ascending `days`, in day order.

    From each day not yet covered, the largest usable block starting there whose every day is in `days` is taken.
    """
    wanted, chosen = set(days), []
    index = 0
    while index < len(days):
        day = days[index]
        for size in reversed(sizes):
            block = day // size
            if block * size == day and (size, block) in usable and all(d in wanted for d in days_of(size, block)):
                chosen.append((size, block))
                index += size
                break
        else:
            index += 1
    return chosen
