"""The dimension reports' query: group by one label; unique-user visitors and their share (docs/stats.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Final, TypeVar

from medama_py.stats.grouped import rolled_counts
from medama_py.stats.medians import bin_sql, histogram_pairs, label_medians
from medama_py.stats.query import ALL_ROWS, TIMINGS, VISITORS, Query, bounce, share, with_group_totals
from medama_py.stats.results import as_int, as_ratio, as_text
from medama_py.stats.rolled import block_runs, block_where, split_blocks, split_period
from medama_py.storage.rollup_days import GROUPED_LABELS, PATHS
from medama_py.storage.rollups import ROLLED_LABELS
from medama_py.storage.view_sums import DAY_BIN_SHIFT

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Page, Params
    from medama_py.stats.rolled import Split
    from medama_py.storage.rollups import Rollups

__all__ = ["get_dimension"]


ItemT = TypeVar("ItemT")
# The lists binned per day (storage/rollup_days.py rollup_day_bins): their label over `views AS v` -> their key.
_BINNED: Final = {label: key for key, label in GROUPED_LABELS.items() if key != PATHS}
# The hourly label rollups' bins (stats/medians.py).
_HOUR_BIN_SHIFT: Final = 10


@dataclass(frozen=True, slots=True)
class _Cells:
    """Where a report's (label, duration bin) cells are rolled up: each table with the runs it serves, the rest raw."""

    report: str  # the tables' `report` value
    shift: int  # bins of 2^shift ms
    split: Split | None  # None: nothing rolled up serves the period, every filtered view is read raw
    tables: tuple[tuple[str, list[tuple[int, int]], Callable[[Params], str]], ...]  # (table, what it serves, WHERE)

    def raw_where(self, filters: Filters, params: Params) -> str | None:
        """WHERE body over `views AS v` for the views the rolled tables leave out; None when they cover all."""
        return filters.where(params) if self.split is None else self.split.raw_where(params)


def get_dimension(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    item: Callable[..., ItemT],
    *,
    summary: bool = False,
    page: Page = ALL_ROWS,
    report: str = "",
    rollups: Rollups | None = None,
) -> list[ItemT]:
    """Group the filtered views by `label_sql` (code-defined SQL, never user input) into the endpoint's items.

    Every dimension item takes (label, visitors, visitors_percentage[, bounce_percentage, duration]) in order.
    With `rollups`, a `report` whose labels are rolled up per hour (storage/rollups.py ROLLED_LABELS) reads its
    whole current days and hours from them (stats/rolled.py), the full variant of the others its whole days from
    their day bins, and their summary variant its whole days from the day counts (stats/grouped.py); the numbers
    are the same.
    """
    cells = _rolled_cells(cur, rollups, filters, label_sql, report=report, summary=summary)
    if cells is None and not summary:
        # Nothing rolled up serves it (filters, or no current hour yet): the same cells from the views alone. A
        # quantile per label held every duration of the period at once (one browser's 4M views in the open hour:
        # reports at ~245 MB RSS under -memorylimit 128MB); cells hold counts, and the second scan the middle bins.
        cells = _Cells(report, DAY_BIN_SHIFT, None, ())
    if cells is not None:
        return _rolled(cur, filters, label_sql, item, summary=summary, page=page, cells=cells)
    query = Query()
    # The denominator is every unique user of the filtered set, summed before LIMIT.
    with_group_totals(query, _visitors(cur, filters, label_sql, query.params, rollups), "visitors")
    query.select("g.label", "g.visitors", f"{share('g.visitors', 't.total_visitors')} AS visitors_percentage")
    # VARCHAR ordering in DuckDB is byte-wise, so "" sorts first and uppercase before lowercase.
    query.order_by("visitors DESC", "label ASC").page(page)
    return [item(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in query.fetch(cur)]


def _visitors(
    cur: duckdb.DuckDBPyConnection, filters: Filters, label_sql: str, params: Params, rollups: Rollups | None
) -> Query:
    """The summary variant's (label, visitors) per label.

    From the day rows plus the raw rest when they serve the period (stats/grouped.py), else from the views.
    """
    counts = rolled_counts(cur, rollups, filters, label_sql, params, ["visitors"])
    if counts is not None:
        return Query(params=params).select("c.label AS label", "c.visitors AS visitors").from_(f"({counts}) AS c")
    groups = Query(params=params).select(f"{label_sql} AS label", f"{VISITORS} AS visitors")
    # No HAVING: groups whose rows are all repeat visits stay, with 0 visitors.
    return groups.from_("views AS v").where(filters.where(params)).group_by("label")


def _rolled_cells(
    cur: duckdb.DuckDBPyConnection,
    rollups: Rollups | None,
    filters: Filters,
    label_sql: str,
    *,
    report: str,
    summary: bool,
) -> _Cells | None:
    """The rolled-up cells that serve this request, or None when it reads the views (or the day counts) instead.

    The summary variant of a binned list sums fewer rows from the day counts (stats/grouped.py) than from its bins.
    """
    if ROLLED_LABELS.get(report) == label_sql:
        split = split_period(cur, rollups, filters)
        if split is None:
            return None
        hours = ("rollup_labels", split.hours, split.hours_where)
        return _Cells(report, _HOUR_BIN_SHIFT, split, (hours, ("rollup_day_labels", split.days, split.days_where)))
    key = _BINNED.get(label_sql)
    split = split_period(cur, rollups, filters, lists=True) if key is not None and not summary else None
    if key is None or rollups is None or split is None:
        return None
    blocks, days = split_blocks(cur, rollups, split)
    parts = [("rollup_day_bins", days, lambda params: split.runs_where(params, "r.day", days))]
    parts.append(("rollup_hour_bins", split.hours, split.hours_where))
    for size, first, last in block_runs(blocks):
        parts.append(("rollup_block_bins", [(first, last)], partial(block_where, split.hostname, size, first, last)))
    return _Cells(key, DAY_BIN_SHIFT, split, tuple(parts))


def _rolled(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    label_sql: str,
    item: Callable[..., ItemT],
    *,
    summary: bool,
    page: Page,
    cells: _Cells,
) -> list[ItemT]:
    """The report from (label, duration bin) cells: the rollups' whole days and hours plus the raw rest, per label.

    The cells' TIMINGS sums add up exactly to the bounce counts, and their histograms give each listed label's
    exact median with one narrow scan of the raw durations (stats/medians.py).
    """
    query = Query()
    params = query.params
    # The rolled rows of every part are summed by one GROUP BY: a GROUP BY per part (up to ten blocks and the days)
    # cost a hash table each (referrers at 10M: ~200 ms CPU for 270k rows).
    parts = []
    for table, spans, where in cells.tables:
        if spans:
            rolled = Query(params=params).select("r.label", "r.bin", "r.durations", "r.visitors", "r.timings")
            parts.append(rolled.from_(f"{table} AS r").where(f"r.report = {params.bind(cells.report)}", where(params)))
    raw_where = cells.raw_where(filters, params)
    if raw_where is not None:
        raw = Query(params=params).select(f"{label_sql} AS label", f"{bin_sql(cells.shift)} AS bin")
        raw.select("count(v.duration_ms) AS durations", f"{VISITORS} AS visitors", f"{TIMINGS} AS timings")
        parts.append(raw.from_("views AS v").where(raw_where).group_by("label", "bin"))
    summed = Query(params=params).select("p.label AS label", "p.bin AS bin", "sum(p.durations) AS durations")
    summed.select("sum(p.visitors) AS visitors", "sum(p.timings) AS timings").group_by("p.label", "p.bin")
    query.with_("cells", summed.from_("(" + "\nUNION ALL\n".join(part.sql() for part in parts) + ") AS p").sql())
    groups = Query(params=params).select("c.label AS label", "sum(c.visitors)::BIGINT AS visitors")
    groups.select(f"{bounce('sum(c.timings)')} AS bounce_percentage", "list([c.bin, c.durations]) AS histogram")
    with_group_totals(query, groups.from_("cells AS c").group_by("c.label"), "visitors")
    query.select("g.label", "g.visitors", f"{share('g.visitors', 't.total_visitors')} AS visitors_percentage")
    query.select("g.bounce_percentage", "g.histogram").order_by("visitors DESC", "label ASC").page(page)
    rows = query.fetch(cur)
    if summary:
        return [item(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in rows]
    histograms = {as_text(r[0]): histogram_pairs(r[4]) for r in rows}
    medians = label_medians(cur, filters, label_sql, histograms, shift=cells.shift)
    return [item(as_text(r[0]), as_int(r[1]), as_ratio(r[2]), as_ratio(r[3]), medians[as_text(r[0])]) for r in rows]
