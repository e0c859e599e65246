"""Exact duration medians of a few groups from a binned histogram, without collecting every duration.

`quantile_cont` gathers every duration of a group into one vector before selecting from it: for the summary's
whole period that is one vector of millions of values, selected on one thread (~130 ms at 8M durations). When
the groups are few (the period, and the buckets of a short interval series), counting durations per 1024 ms
bin is cheaper: the counts say which bin holds each middle value and at which rank, and a second, narrow scan
reads only the distinct values of those bins with their counts. Every number stays integer until the last
step, so the result is exactly `CAST(quantile_cont(duration_ms, 0.5) AS BIGINT)`: the mean of the two middle
values (one value when the count is odd), rounded to the nearest integer with ties to even, as DuckDB's cast does.

The lists' labels take the same two passes (`label_medians`, `listed_quantiles` for any quantile): per label and
bin, and then only the bins that hold each quantile's neighbours, so no label's durations are ever held at once.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from medama_py.stats.query import Params, Query, rounded_duration
from medama_py.stats.results import as_int
from medama_py.storage.limits import HELD_DURATION_BYTES, MIN_MEMORY_BYTES
from medama_py.storage.rollups import runs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    import duckdb

    from medama_py.stats.filters import Filters

__all__ = [
    "BIN_SQL",
    "bin_sql",
    "exact_medians",
    "half_to_even",
    "histogram_pairs",
    "label_medians",
    "listed_medians",
    "listed_quantiles",
]

_SHIFT: Final = 10


def bin_sql(shift: int = _SHIFT) -> str:
    """A view's duration bin of 2^shift ms; a NULL duration falls in the NULL bin, which the histograms leave out."""
    return f"(v.duration_ms >> {shift})"


BIN_SQL: Final = bin_sql()

# (bin, number of durations in it) pairs of one group, in any order; a bin may repeat (counts add up).
Histogram = list[tuple[int, int]]
# A group's key: its bucket number, or None for the whole period (every bucket together).
Key = int | None
K = TypeVar("K", int | None, str)


def exact_medians(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    histograms: Mapping[Key, Iterable[Sequence[int]]],
    bucket_sql: Callable[[Params], str] | None = None,
) -> dict[Key, int]:
    """The rounded median duration of every group in `histograms`; 0 for a group without durations.

    `bucket_sql` gives the bucket number of a row (bound to the statement's parameters); None when the
    only group is the whole period.
    """
    middles = {key: _middle_positions(_merged(pairs)) for key, pairs in histograms.items()}
    wanted = sorted({bin_ for positions in middles.values() for bin_, _ in positions})
    if not wanted:
        return dict.fromkeys(histograms, 0)
    return _medians(middles, _bin_values(cur, filters, wanted, bucket_sql))


def label_medians(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    histograms: Mapping[str, Iterable[Sequence[int]]],
    shift: int = _SHIFT,
) -> dict[str, int]:
    """The rounded median duration of each label's group, from its histogram of 2^shift ms bins; 0 without durations.

    `label_sql` is the group's label over `views AS v` (never NULL); the second scan reads the listed labels only.
    """
    return {
        label: values[0]
        for label, values in _histogram_quantiles(cur, filters, label_sql, histograms, [0.5], shift).items()
    }


def _ranked_values(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    wanted: Mapping[tuple[str, int], set[int]],
    shift: int,
) -> dict[tuple[str, int, int], int]:
    """(label, bin, rank) -> the duration at that 0-based rank among the label's durations in that bin.

    Only each label's own middle bins are read, joined on (label, bin), and DuckDB sorts each of them and picks the
    ranks: returning every distinct duration of the union of the listed labels' bins instead cost about twice the
    CPU (countries, limit=100 at 10M rows: ~180 -> ~90 ms). The joined rows are grouped by the pair's index, an
    integer, rather than by its label text, bin and ranks.
    """
    query = Query()
    keys = sorted(wanted)
    labels, bins = query.params.bind([key[0] for key in keys]), query.params.bind([key[1] for key in keys])
    indexes = query.params.bind(list(range(len(keys))))
    picked = [sorted(wanted[key]) for key in keys]  # each pair's ranks in order, as the query returns their values
    ranks = query.params.bind([[rank + 1 for rank in pair_ranks] for pair_ranks in picked])  # list indexes: 1-based
    pairs = (
        f"(SELECT unnest({labels}::VARCHAR[]) AS label, unnest({bins}::BIGINT[]) AS bin,"
        f" unnest({indexes}::INTEGER[]) AS n)"
    )
    query.select("w.n", f"list_select(list_sort(list(v.duration_ms)), ({ranks}::BIGINT[][])[w.n + 1])")
    query.from_(f"views AS v JOIN {pairs} AS w ON w.label = {label_sql} AND w.bin = {bin_sql(shift)}")
    query.where(filters.where(query.params), _bin_ranges(query.params, [key[1] for key in keys], shift))
    found: dict[tuple[str, int, int], int] = {}
    for n, values in query.group_by("w.n").fetch(cur):
        label, bin_ = keys[as_int(n)]
        for rank, value in zip(picked[as_int(n)], cast("list[int]", values), strict=True):
            found[label, bin_, rank] = as_int(value)
    return found


def _bin_ranges(params: Params, bins: Iterable[int], shift: int) -> str:
    """SQL: the duration lies in one of `bins` of 2^shift ms.

    Ranges on the raw column prune with zone maps and cost a third of an IN list over the shifted bin.
    """
    ranges = " OR ".join(
        f"v.duration_ms BETWEEN {params.bind(low << shift)} AND {params.bind(((high + 1) << shift) - 1)}"
        for low, high in runs(sorted(set(bins)))
    )
    return f"({ranges})"


def _medians(
    middles: Mapping[K, list[tuple[int, int]]], values: Mapping[Any, dict[int, list[tuple[int, int]]]]
) -> dict[K, int]:
    """Each group's median from its middle positions and the values of its bins."""
    medians: dict[K, int] = {}
    for key, positions in middles.items():
        if not positions:
            medians[key] = 0
            continue
        (low_bin, low_rank), (high_bin, high_rank) = positions
        low = _value_at(values[key][low_bin], low_rank)
        high = _value_at(values[key][high_bin], high_rank)
        medians[key] = half_to_even(low + high)
    return medians


# Up to this many durations in the listed groups together, `quantile_cont` holds them all (UINTEGERs, ~20 bytes each
# across DuckDB's threads) in one scan, which costs less than the two binned scans: at 800k views a site, /time 37
# against ~115 ms and /pages 55 against ~76. Beyond it the bins bound the memory (below). The server passes its own
# budget instead, from its memory limit (`held_max`, storage/limits.py `DuckDBLimits.held_durations`); without one,
# this is that budget for the smallest read limit (32 MB: -memorylimit 128MB, a 256 MB VM).
HELD_DURATIONS_MAX: Final = MIN_MEMORY_BYTES // HELD_DURATION_BYTES


def listed_medians(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    labels: Sequence[str],
    shift: int = _SHIFT,
    *,
    durations: int | None = None,
    held_max: int | None = None,
) -> dict[str, int]:
    """The rounded median duration of only the groups in `labels` (a listed page), 0 without durations."""
    quantiles = listed_quantiles(cur, filters, label_sql, labels, [0.5], shift, durations=durations, held_max=held_max)
    return {label: values[0] for label, values in quantiles.items()}


def listed_quantiles(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    labels: Sequence[str],
    levels: Sequence[float],
    shift: int = _SHIFT,
    *,
    durations: int | None = None,
    held_max: int | None = None,
) -> dict[str, list[int]]:
    """The rounded duration quantiles of only the groups in `labels` (a listed page), 0 without durations.

    A list with a limit shows a few groups out of thousands (the top 100 of 5000 paths hold about a quarter of the
    rows), and its order does not depend on the quantiles: reading those of the listed groups after paging is
    cheaper than a quantile per group (/pages?limit=100 at 10M rows: ~519 → ~394 ms CPU). `durations` bounds how
    many durations the listed groups hold (None: unknown): up to `held_max` (the store's budget,
    storage/limits.py `DuckDBLimits.held_durations`; None: HELD_DURATIONS_MAX) they are read by `quantile_cont`, else
    from bins (`_binned_quantiles`). Same numbers either way.
    """
    if not labels:
        return {}
    listed = list(dict.fromkeys(labels))
    if durations is not None and durations <= (HELD_DURATIONS_MAX if held_max is None else held_max):
        found = _held_quantiles(cur, filters, label_sql, listed, levels)
    else:
        found = _binned_quantiles(cur, filters, label_sql, listed, levels, shift)
    return {label: found.get(label, [0] * len(levels)) for label in labels}


def _listed_join(query: Query, listed: list[str], label_sql: str) -> str:
    """FROM body: the views joined with the listed labels and their index `w.n` (an integer to group by, not text)."""
    names, indexes = query.params.bind(listed), query.params.bind(list(range(len(listed))))
    wanted = f"(SELECT unnest({names}::VARCHAR[]) AS label, unnest({indexes}::INTEGER[]) AS n)"
    return f"views AS v JOIN {wanted} AS w ON w.label = {label_sql}"


def _held_quantiles(
    cur: duckdb.DuckDBPyConnection, filters: Filters, label_sql: str, listed: list[str], levels: Sequence[float]
) -> dict[str, list[int]]:
    """Each listed group's quantiles by `quantile_cont`, which holds every duration of the group at once.

    One aggregate over the list of levels sorts each group once; rows without a duration are left out in the scan.
    /time's three quartiles of its 100 listed paths at 10M rows (niced CPU): three aggregates ~204, one ~223 under
    more load, this join ~153-163 ms.
    """
    query = Query()
    wanted = [float(level) for level in levels]
    groups = Query(params=query.params).select("w.n AS n", f"quantile_cont(v.duration_ms, {wanted!r}) AS q")
    groups.from_(_listed_join(query, listed, label_sql))
    groups.where(filters.where(query.params), "v.duration_ms IS NOT NULL").group_by("w.n")
    columns = [rounded_duration(f"g.q[{n}]") for n in range(1, len(wanted) + 1)]
    query.select("g.n", *columns).from_(f"({groups.sql()}) AS g")
    return {listed[as_int(row[0])]: [as_int(value) for value in row[1:]] for row in query.fetch(cur)}


def _binned_quantiles(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    listed: list[str],
    levels: Sequence[float],
    shift: int,
) -> dict[str, list[int]]:
    """Each listed group's quantiles without holding its durations: counted per 2^shift ms bin, then read in bins.

    The counts say which bins hold the ranks each quantile interpolates between, and a second scan reads only those
    bins (`_ranked_values`). The interpolation is DuckDB's own, in the same double arithmetic: position (n − 1)·q,
    the values at its floor and ceiling, lo + (hi − lo)·fraction, and the cast's rounding (ties to even), so the
    numbers are `CAST(quantile_cont(duration_ms, q) AS BIGINT)`'s. Held, the durations of an open hour of 4M views
    per site took /pages and /time past -memorylimit 128MB (docs/stats.md#memory).
    """
    query = Query()
    query.select("w.n", f"{bin_sql(shift)} AS bin", "count(*) AS durations")
    query.from_(_listed_join(query, listed, label_sql))
    query.where(filters.where(query.params), "v.duration_ms IS NOT NULL").group_by("w.n", "bin")
    histograms: dict[str, Histogram] = defaultdict(list)
    for n, bin_, count in query.fetch(cur):
        histograms[listed[as_int(n)]].append((as_int(bin_), as_int(count)))
    return _histogram_quantiles(cur, filters, label_sql, histograms, levels, shift)


def _histogram_quantiles(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    histograms: Mapping[str, Iterable[Sequence[int]]],
    levels: Sequence[float],
    shift: int,
) -> dict[str, list[int]]:
    """Each label's rounded quantiles from its histogram of 2^shift ms bins, reading only the bins they need.

    As `CAST(quantile_cont(duration_ms, q) AS BIGINT)`: position (n − 1)·q, the values at its floor and ceiling,
    lo + (hi − lo)·fraction in doubles, rounded ties to even; 0 for a label without durations. `label_sql` is the
    label over `views AS v` (never NULL).
    """
    # Per label and level: the position, and the (bin, rank in bin) of the ranks at its floor and ceiling.
    plans: dict[str, list[tuple[float, tuple[int, int], tuple[int, int]]]] = {}
    wanted: dict[tuple[str, int], set[int]] = defaultdict(set)
    for label, pairs in histograms.items():
        histogram = _merged(pairs)
        ends = list(accumulate(count for _, count in histogram))
        plans[label] = []
        for level in levels if ends else ():
            position = (ends[-1] - 1) * float(level)
            low, high = _in_bin(histogram, ends, math.floor(position)), _in_bin(histogram, ends, math.ceil(position))
            wanted[label, low[0]].add(low[1])
            wanted[label, high[0]].add(high[1])
            plans[label].append((position, low, high))
    values = _ranked_values(cur, filters, label_sql, wanted, shift) if wanted else {}
    found: dict[str, list[int]] = {}
    for label, plan in plans.items():
        found[label] = [0] * len(levels)
        for level, (position, (low_bin, low_rank), (high_bin, high_rank)) in enumerate(plan):
            below, above = float(values[label, low_bin, low_rank]), float(values[label, high_bin, high_rank])
            fraction = position - math.floor(position)
            found[label][level] = round(below if fraction == 0 else below + (above - below) * fraction)
    return found


def _in_bin(histogram: Histogram, ends: list[int], rank: int) -> tuple[int, int]:
    """(bin, 0-based rank inside the bin) of the duration at 0-based `rank` of the whole sorted histogram."""
    index = bisect_right(ends, rank)
    before = ends[index - 1] if index else 0
    return histogram[index][0], rank - before


def histogram_pairs(cells: object) -> list[list[int]]:
    """The (bin, durations) pairs of list([bin, durations]), without the NULL bin of rows lacking a duration."""
    pairs = cast("list[list[int | None]] | None", cells) or []
    return [[bin_, count] for bin_, count in pairs if bin_ is not None and count]


def half_to_even(twice: int) -> int:
    """`twice / 2` rounded to the nearest integer, ties to even (DuckDB's DOUBLE → integer cast), in integers."""
    half, odd = divmod(twice, 2)
    return half + 1 if odd and half % 2 else half


def _merged(pairs: Iterable[Sequence[int]]) -> Histogram:
    counts: dict[int, int] = defaultdict(int)
    for bin_, count in pairs:
        counts[bin_] += count
    return sorted((bin_, count) for bin_, count in counts.items() if count)


def _middle_positions(histogram: Histogram) -> list[tuple[int, int]]:
    """(bin, 0-based rank inside the bin) of the lower and the upper middle duration; [] without durations."""
    ends = list(accumulate(count for _, count in histogram))
    if not ends:
        return []
    return [_in_bin(histogram, ends, rank) for rank in ((ends[-1] - 1) // 2, ends[-1] // 2)]


def _bin_values(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    bins: list[int],
    bucket_sql: Callable[[Params], str] | None,
) -> dict[Any, dict[int, list[tuple[int, int]]]]:
    """For every group and wanted bin: the bin's distinct durations, ascending, with their counts.

    Groups are buckets (int) plus the whole period (None).
    """
    query = Query()
    bucket = bucket_sql(query.params) if bucket_sql is not None else "NULL"
    query.select(f"{bucket} AS bucket", "v.duration_ms AS duration", "count(*) AS n").from_("views AS v")
    query.where(filters.where(query.params), _bin_ranges(query.params, bins, _SHIFT))
    values: dict[Any, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for bucket_number, duration, n in query.group_by("bucket", "duration").order_by("duration").fetch(cur):
        value, count = as_int(duration), as_int(n)
        if bucket_number is not None:
            values[as_int(bucket_number)][value >> _SHIFT].append((value, count))
        _add(values[None][value >> _SHIFT], value, count)
    return values


def _add(pairs: list[tuple[int, int]], value: int, count: int) -> None:
    """Append to an ascending (value, count) list, merging a repeated last value (rows of several buckets)."""
    if pairs and pairs[-1][0] == value:
        pairs[-1] = (value, pairs[-1][1] + count)
    else:
        pairs.append((value, count))


def _value_at(pairs: list[tuple[int, int]], rank: int) -> int:
    seen = 0
    for value, count in pairs:
        seen += count
        if rank < seen:
            return value
    raise LookupError(f"rank {rank} is beyond the {seen} durations of its bin")
