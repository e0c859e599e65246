"""Per-label counts of a list report from the day rows of the rollups plus the raw rest (docs/stats.md#rollups).

The lists of many labels (paths, referrers, countries ...) keep, per UTC day and label, the counts every list
report sums (storage/rollup_days.py GROUPED_LABELS): a year of whole days is a few thousand to 1.7M rows instead
of every view. Medians are not counts: the reports read them raw, for the labels they list (stats/medians.py).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Final

from medama_py.stats.query import PAGE_VISITORS, PAGEVIEWS, TIMINGS, VISITORS, Query
from medama_py.stats.rolled import block_runs, block_where, split_blocks, split_period
from medama_py.storage.rollup_days import GROUPED_LABELS, PATHS

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.query import Params
    from medama_py.storage.rollups import Rollups

__all__ = ["METRICS", "rolled_counts"]

# A metric's SQL over the views of one label, how the parts' values add up, and the raw SQL's type (so shares and
# comparisons compute with the same types); the day rows hold the same columns.
METRICS: Final = {
    "visitors": (VISITORS, "sum", "BIGINT"),
    "page_visitors": (PAGE_VISITORS, "sum", "BIGINT"),
    "pageviews": (PAGEVIEWS, "sum", "BIGINT"),
    "timings": (TIMINGS, "sum", "HUGEINT"),
    "durations": ("count(v.duration_ms)", "sum", "BIGINT"),
    "total_duration": ("sum(v.duration_ms)", "sum", "HUGEINT"),
    "zeros": ("count_if(v.duration_ms = 0)", "sum", "BIGINT"),
    "least": ("min(v.duration_ms) FILTER (WHERE v.duration_ms > 0)", "min", "UINTEGER"),
}
_KEYS: Final = {label: key for key, label in GROUPED_LABELS.items()}


def rolled_counts(
    cur: duckdb.DuckDBPyConnection,
    rollups: Rollups | None,
    filters: Filters,
    label_sql: str,
    params: Params,
    metrics: list[str],
) -> str | None:
    """SQL of one row per label (`label` and each of `metrics`) over the period; None when it must be read raw.

    Whole usable days come from the fewest blocks of `rollup_block_groups` and the other days from
    `rollup_day_groups` (storage/rollup_blocks.py), recent hours outside them from `rollup_hour_groups`
    (storage/rollup_hour_lists.py), every other moment of the period from the views; the sums are the raw ones (a
    `sum` over no durations stays NULL, as the raw one does).
    """
    key = _KEYS.get(label_sql)
    # Only the paths keep every count; the other lists their visitors alone (storage/rollup_days.py).
    kept = key is not None and (key == PATHS or metrics == ["visitors"])
    split = split_period(cur, rollups, filters, lists=True) if kept else None
    if split is None:
        return None
    # The rows of the blocks, of the days outside them and of the recent hours are summed by the one GROUP BY below.
    blocks, days = split_blocks(cur, rollups, split) if rollups is not None else ([], split.days)
    tables: list[tuple[str, Callable[[Params], str]]] = []
    if days:
        tables.append(("rollup_day_groups", partial(split.runs_where, column="r.day", spans=days)))
    if split.hours:
        tables.append(("rollup_hour_groups", split.hours_where))
    tables += [
        ("rollup_block_groups", partial(block_where, split.hostname, size, first, last))
        for size, first, last in block_runs(blocks)
    ]
    parts = []
    for table, where in tables:
        rows = Query(params=params).select("r.label AS label", *(f"r.{m} AS {m}" for m in metrics))
        parts.append(rows.from_(f"{table} AS r").where(f"r.report = {params.bind(str(key))}", where(params)).sql())
    raw_where = split.raw_where(params)
    if raw_where is not None:
        raw = Query(params=params).select(f"{label_sql} AS label")
        raw.select(*(f"{METRICS[m][0]} AS {m}" for m in metrics)).from_("views AS v")
        parts.append(raw.where(raw_where).group_by("label").sql())
    both = Query(params=params).select("c.label AS label")
    both.select(*(f"{METRICS[m][1]}(c.{m})::{METRICS[m][2]} AS {m}" for m in metrics))
    return both.from_("(" + "\nUNION ALL\n".join(parts) + ") AS c").group_by("c.label").sql()
