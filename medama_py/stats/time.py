"""GET /website/{hostname}/time: duration quartiles per path (docs/stats.md#time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.grouped import rolled_counts
from medama_py.stats.medians import listed_quantiles
from medama_py.stats.query import (
    PAGE_VISITORS,
    Params,
    Query,
    share,
    with_group_totals,
)
from medama_py.stats.results import StatsTimeItem, as_int, as_ratio, as_text
from medama_py.storage.view_sums import DAY_BIN_SHIFT

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.params import StatsParams
    from medama_py.storage.rollups import Rollups

__all__ = ["get_time"]

_METRICS = ["page_visitors", "total_duration", "durations", "zeros", "least"]
_QUARTILES = (0.25, 0.5, 0.75)


def get_time(
    cur: duckdb.DuckDBPyConnection, params: StatsParams, rollups: Rollups | None = None, held_max: int | None = None
) -> list[StatsTimeItem]:
    """Per path: median and quartile durations and the path's share of all time spent.

    Which paths are kept, and their shares, come from counts (with `rollups`, those of whole days from the day
    rows: stats/grouped.py); the quartiles are read for the paths of the page only (stats/medians.py
    `listed_quantiles`: held by `quantile_cont` up to `held_max` durations, from bins beyond). The numbers are the
    same either way.
    """
    # The counts' SQL is built once, into the statement that reads it: deciding and reading each asked the
    # rollups which days are usable (four small statements, a few ms).
    query = Query()
    counts = _counts(cur, params.filters, query.params, rollups)
    return _page(cur, params, query, counts, held_max)


def _positive(q: float) -> str:
    """SQL: the path's q-quantile rounds to more than 0, from its duration count n, zeros z and least positive m.

    The quantile sits at position (n − 1)·q = k + f over the sorted durations s. It is at least 1 when s[k] is
    (fewer than k + 1 zeros); 0 when s[k] and s[k + 1] are both zeros; otherwise f·m, which rounds (ties to even)
    above 0 exactly when it exceeds 0.5.
    """
    k, f = f"floor((p.n - 1) * {q})", f"((p.n - 1) * {q} - floor((p.n - 1) * {q}))"
    return f"(p.n > 0 AND (p.z <= {k} OR (p.z = {k} + 1 AND {f} * p.m > 0.5)))"


def _page(
    cur: duckdb.DuckDBPyConnection, params: StatsParams, query: Query, counts: str | None, held_max: int | None
) -> list[StatsTimeItem]:
    """The page: which paths are kept and their shares come from counts; quartiles only for the page.

    The order's first key (visitors, or the share for the summary) needs no quantile, so with a limit only the
    paths that reach the page's last first-key value can be in it; their quartiles settle the rest of the order.
    Without one every kept path is listed, and a quantile per path held every duration of the period at once (an
    open hour of 4M views per site: /time at ~230 MB RSS under -memorylimit 128MB).
    """
    summary, offset, limit = params.summary, params.page.offset, params.page.limit
    rows = _kept_paths(cur, params.filters, query, counts, summary=summary)

    def first(row: tuple[str, int, float, int]) -> float:
        """The order's first key of a (path, visitors, share, durations) row: the share (summary) or visitors."""
        return row[2] if summary else row[1]

    rows.sort(key=first, reverse=True)
    if limit is not None and offset + limit <= len(rows):
        rows = [r for r in rows if first(r) >= first(rows[offset + limit - 1])]
    listed, durations = [r[0] for r in rows], sum(r[3] for r in rows)
    quartiles = listed_quantiles(
        cur, params.filters, "v.pathname", listed, _QUARTILES, DAY_BIN_SHIFT, durations=durations, held_max=held_max
    )
    end = None if limit is None else offset + limit
    if summary:
        # Share, then median, then visitors descending; the path ascending byte-wise, as DuckDB compares text.
        rows.sort(key=lambda r: (-r[2], -quartiles[r[0]][1], -r[1], r[0].encode()))
        return [StatsTimeItem(path, quartiles[path][1], ratio) for path, _, ratio, _ in rows[offset:end]]
    rows.sort(key=lambda r: (-r[1], -quartiles[r[0]][1], r[0].encode()))
    return [
        StatsTimeItem(path, quartiles[path][1], ratio, quartiles[path][2], quartiles[path][0], visitors)
        for path, visitors, ratio, _ in rows[offset:end]
    ]


def _kept_paths(
    cur: duckdb.DuckDBPyConnection, filters: Filters, query: Query, counts: str | None, *, summary: bool
) -> list[tuple[str, int, float, int]]:
    """(path, visitors, share of the kept paths' time, durations) of every kept path, without computing a quantile.

    `counts` is _counts' SQL bound to `query`'s parameters, or None to count from the views.
    """
    if counts is None:
        counts = (
            Query(params=query.params)
            .select(
                "v.pathname AS path",
                f"{PAGE_VISITORS} AS visitors",
                "coalesce(sum(v.duration_ms), 0) AS total_duration",
                "count(v.duration_ms) AS n",
                "count_if(v.duration_ms = 0) AS z",
                "min(v.duration_ms) FILTER (WHERE v.duration_ms > 0) AS m",
            )
            .from_("views AS v")
            .where(filters.where(query.params))
            .group_by("v.pathname")
            .sql()
        )
    kept = Query(params=query.params).select("p.path", "p.visitors", "p.total_duration", "p.n").from_("counts AS p")
    kept.where("p.visitors >= 3", _positive(0.5), *([] if summary else [_positive(0.25)]))
    query.with_("counts", counts)
    with_group_totals(query, kept, "total_duration")
    query.select("g.path", "g.visitors", f"{share('g.total_duration', 't.total_total_duration')} AS ratio", "g.n")
    return [(as_text(r[0]), as_int(r[1]), as_ratio(r[2]), as_int(r[3])) for r in query.fetch(cur)]


def _counts(cur: duckdb.DuckDBPyConnection, filters: Filters, params: Params, rollups: Rollups | None) -> str | None:
    """_kept_paths' counts per path from the day rows plus the raw rest; None when they must be read raw."""
    counts = rolled_counts(cur, rollups, filters, "v.pathname", params, _METRICS)
    if counts is None:
        return None
    rows = Query(params=params).select("c.label AS path", "c.page_visitors AS visitors")
    rows.select("coalesce(c.total_duration, 0) AS total_duration", "c.durations AS n", "c.zeros AS z", "c.least AS m")
    return rows.from_(f"({counts}) AS c").sql()
