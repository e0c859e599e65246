"""GET /website/{hostname}/time: duration quartiles per path (docs/stats.md#time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.grouped import rolled_counts
from medama_py.stats.medians import quantiles_of
from medama_py.stats.query import (
    PAGE_VISITORS,
    QUARTILES,
    Params,
    Query,
    rounded_duration,
    share,
    with_group_totals,
)
from medama_py.stats.results import StatsTimeItem, as_int, as_ratio, as_text

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.params import StatsParams
    from medama_py.storage.rollups import Rollups

__all__ = ["get_time"]

# Up to this limit a page reads quartiles of its own paths only (_listed_page). At 10M rows (bench, CPU ms):
# limit 5 ~520 → ~406; limit 100 ~497 → ~602, as the top 100 of 5000 paths hold a quarter of the rows and the
# counting pass then costs more than the quartiles it saves.
_LISTED_PAGE_MAX = 25
_METRICS = ["page_visitors", "total_duration", "durations", "zeros", "least"]


def get_time(
    cur: duckdb.DuckDBPyConnection, params: StatsParams, rollups: Rollups | None = None
) -> list[StatsTimeItem]:
    """Per path: median and quartile durations and the path's share of all time spent.

    With `rollups`, a limited page counts the paths of whole days from the day rows (stats/grouped.py), which
    costs less than the quartiles it saves whatever the limit; the numbers are the same.
    """
    limit = params.page.limit
    if limit is None:
        return _every_path(cur, params)
    # The counts' SQL is built once, into the statement that reads it: deciding and reading each asked the
    # rollups which days are usable (four small statements, a few ms).
    query = Query()
    counts = _counts(cur, params.filters, query.params, rollups)
    if limit <= _LISTED_PAGE_MAX or counts is not None:
        return _listed_page(cur, params, query, counts)
    return _every_path(cur, params)


def _every_path(cur: duckdb.DuckDBPyConnection, params: StatsParams) -> list[StatsTimeItem]:
    """One statement: quartiles of every path, then the kept paths, their shares, order and page."""
    summary, page = params.summary, params.page
    query = Query()
    _with_path_quartiles(query, params.filters)
    # Only paths with at least 3 unique-page visitors and a positive median count; the full list also
    # needs a positive lower quartile, so the two variants can list different paths.
    kept = Query(params=query.params).select("*").from_("rounded").where("duration > 0", "visitors >= 3")
    if not summary:
        kept.where("lower_quartile > 0")
    # The share's denominator is the kept paths' time, before pagination.
    with_group_totals(query, kept, "total_duration")
    query.select(
        "g.path",
        "g.duration",
        f"{share('g.total_duration', 't.total_total_duration')} AS duration_percentage",
        "g.upper_quartile",
        "g.lower_quartile",
        "g.visitors",
    )
    if summary:
        # Ordered by the rounded share first, as Medama does.
        query.order_by("duration_percentage DESC", "duration DESC", "visitors DESC", "path ASC")
    else:
        query.order_by("visitors DESC", "duration DESC", "path ASC")
    rows = query.page(page).fetch(cur)
    if summary:
        return [StatsTimeItem(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in rows]
    return [
        StatsTimeItem(as_text(r[0]), as_int(r[1]), as_ratio(r[2]), as_int(r[3]), as_int(r[4]), as_int(r[5]))
        for r in rows
    ]


def _with_path_quartiles(query: Query, filters: Filters) -> None:
    """Add to `query`'s WITH clause `paths` (each filtered path's visitors, quartiles and time) and `rounded`."""
    paths = (
        Query(params=query.params)
        .select(
            "v.pathname AS path",
            f"{PAGE_VISITORS} AS visitors",
            f"{QUARTILES} AS quartiles",
            "coalesce(sum(v.duration_ms), 0) AS total_duration",
        )
        .from_("views AS v")
        .where(filters.where(query.params))
        .group_by("v.pathname")
    )
    rounded = (
        Query(params=query.params)
        .select(
            "path",
            "visitors",
            f"{rounded_duration('quartiles[2]')} AS duration",
            f"{rounded_duration('quartiles[3]')} AS upper_quartile",
            f"{rounded_duration('quartiles[1]')} AS lower_quartile",
            "total_duration",
        )
        .from_("paths")
    )
    query.with_("paths", paths.sql()).with_("rounded", rounded.sql())


def _positive(q: float) -> str:
    """SQL: the path's q-quantile rounds to more than 0, from its duration count n, zeros z and least positive m.

    The quantile sits at position (n − 1)·q = k + f over the sorted durations s. It is at least 1 when s[k] is
    (fewer than k + 1 zeros); 0 when s[k] and s[k + 1] are both zeros; otherwise f·m, which rounds (ties to even)
    above 0 exactly when it exceeds 0.5.
    """
    k, f = f"floor((p.n - 1) * {q})", f"((p.n - 1) * {q} - floor((p.n - 1) * {q}))"
    return f"(p.n > 0 AND (p.z <= {k} OR (p.z = {k} + 1 AND {f} * p.m > 0.5)))"


def _listed_page(
    cur: duckdb.DuckDBPyConnection, params: StatsParams, query: Query, counts: str | None
) -> list[StatsTimeItem]:
    """A limited page: which paths are kept and their shares come from counts; quartiles only for the page.

    The order's first key (visitors, or the share for the summary) needs no quantile, so only the paths that
    reach the page's last first-key value can be in it; their quartiles settle the rest of the order.
    """
    summary, offset, limit = params.summary, params.page.offset, params.page.limit or 0
    rows = _kept_paths(cur, params.filters, query, counts, summary=summary)

    def first(row: tuple[str, int, float]) -> float:
        """The order's first key of a (path, visitors, share) row: the share for the summary, else visitors."""
        return row[2] if summary else row[1]

    rows.sort(key=first, reverse=True)
    if offset + limit <= len(rows):
        rows = [r for r in rows if first(r) >= first(rows[offset + limit - 1])]
    quartiles = quantiles_of(cur, params.filters, "v.pathname", [r[0] for r in rows], [0.25, 0.5, 0.75])
    if summary:
        # Share, then median, then visitors descending; the path ascending byte-wise, as DuckDB compares text.
        rows.sort(key=lambda r: (-r[2], -quartiles[r[0]][1], -r[1], r[0].encode()))
        return [StatsTimeItem(path, quartiles[path][1], ratio) for path, _, ratio in rows[offset : offset + limit]]
    rows.sort(key=lambda r: (-r[1], -quartiles[r[0]][1], r[0].encode()))
    return [
        StatsTimeItem(path, quartiles[path][1], ratio, quartiles[path][2], quartiles[path][0], visitors)
        for path, visitors, ratio in rows[offset : offset + limit]
    ]


def _kept_paths(
    cur: duckdb.DuckDBPyConnection, filters: Filters, query: Query, counts: str | None, *, summary: bool
) -> list[tuple[str, int, float]]:
    """(path, visitors, share of the kept paths' time) of every kept path, without computing a quantile.

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
    kept = Query(params=query.params).select("p.path", "p.visitors", "p.total_duration").from_("counts AS p")
    kept.where("p.visitors >= 3", _positive(0.5), *([] if summary else [_positive(0.25)]))
    query.with_("counts", counts)
    with_group_totals(query, kept, "total_duration")
    query.select("g.path", "g.visitors", f"{share('g.total_duration', 't.total_total_duration')} AS ratio")
    return [(as_text(r[0]), as_int(r[1]), as_ratio(r[2])) for r in query.fetch(cur)]


def _counts(cur: duckdb.DuckDBPyConnection, filters: Filters, params: Params, rollups: Rollups | None) -> str | None:
    """_kept_paths' counts per path from the day rows plus the raw rest; None when they must be read raw."""
    counts = rolled_counts(cur, rollups, filters, "v.pathname", params, _METRICS)
    if counts is None:
        return None
    rows = Query(params=params).select("c.label AS path", "c.page_visitors AS visitors")
    rows.select("coalesce(c.total_duration, 0) AS total_duration", "c.durations AS n", "c.zeros AS z", "c.least AS m")
    return rows.from_(f"({counts}) AS c").sql()
