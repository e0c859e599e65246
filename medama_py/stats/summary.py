"""GET /website/{hostname}/summary: totals, the previous period and the interval series (docs/stats.md#summary)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from msgspec import UNSET

from medama_py.stats.intervals import bucket_index_sql, bucket_starts, format_date, whole_days, whole_hours
from medama_py.stats.medians import BIN_SQL, exact_medians, histogram_pairs
from medama_py.stats.query import BOUNCE, DURATION, PAGEVIEWS, TIMINGS, VISITORS, Params, Query, bounce
from medama_py.stats.results import StatsIntervalItem, StatsSummary, StatsSummaryMetrics, as_int, as_ratio
from medama_py.stats.rolled import ROLLUP_DAY_EPOCH_US, ROLLUP_EPOCH_US, split_period

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.params import StatsParams
    from medama_py.storage.rollups import Rollups

    # The bucket number SQL of a row, given the SQL of its instant in microseconds since 1970.
    Bucket = Callable[[str], str]

__all__ = ["get_summary", "previous_period"]

# Up to this many interval buckets, the series' medians come from binned histograms too (medians.py): the
# cells (bucket × 1024 ms bin) stay few. Beyond it (days of a year: ~220k cells) a quantile per bucket wins
# (bench/stats.py: about twice as fast over 366 buckets).
_BINNED_MAX_BUCKETS = 64
# Over the cells of a period: its counts, its bounce rate and its duration histogram.
_TOTALS = ("sum(c.visitors)", "sum(c.pageviews)", bounce("sum(c.timings)"), "list([c.bin, c.durations])")


def get_summary(cur: duckdb.DuckDBPyConnection, params: StatsParams, rollups: Rollups | None = None) -> StatsSummary:
    """Totals of the period, plus the previous period and the bucket series when asked for.

    With `rollups`, whole hours come from the hourly rollups where they are current (stats/rolled.py); the
    numbers are the same either way.
    """
    filters, previous, interval = params.filters, params.previous, params.interval
    if interval is not None:
        current, series = _metrics_and_series(cur, filters, interval, rollups)
    else:
        current, series = _metrics(cur, filters, rollups), None
    before = previous_period(filters) if previous else None
    return StatsSummary(
        current=current,
        previous=_metrics(cur, before, rollups) if before is not None else UNSET,
        interval=series if series is not None else UNSET,
    )


def previous_period(filters: Filters) -> Filters | None:
    """The same filters over [start − (end − start), start], both inclusive; None without both bounds."""
    if filters.start is None or filters.end is None:
        return None
    # Rows at exactly `start` count in both periods.
    return replace(filters, start=filters.start - (filters.end - filters.start), end=filters.start)


def _raw_cells(params: Params, where: str, bucket: Bucket | None) -> str:
    """Counts per duration bin (and bucket): every metric of the summary sums up from these (TIMINGS packs exactly)."""
    cells = Query(params=params)
    if bucket is not None:
        cells.select(f"{bucket('epoch_us(v.date_created)')} AS bucket").group_by("bucket")
    cells.select(f"{BIN_SQL} AS bin", "count(v.duration_ms) AS durations")
    cells.select(f"{VISITORS} AS visitors", f"{PAGEVIEWS} AS pageviews", f"{TIMINGS} AS timings")
    return cells.from_("views AS v").where(where).group_by("bin").sql()


def _cells(
    cur: duckdb.DuckDBPyConnection,
    query: Query,
    filters: Filters,
    rollups: Rollups | None,
    bucket: Bucket | None,
    *,
    days: bool = True,
) -> str:
    """The cells of the period: raw, or the rollups' current whole days and hours plus the raw rest (same sums).

    `days`: whether day rows may be used (every day of the period falls in one bucket).
    """
    split = split_period(cur, rollups, filters, days=days)
    if split is None:
        return _raw_cells(query.params, filters.where(query.params), bucket)
    parts = []
    for table, spans, where, epoch_us in (
        ("rollup_hours", split.hours, split.hours_where, ROLLUP_EPOCH_US),
        ("rollup_day_cells", split.days, split.days_where, ROLLUP_DAY_EPOCH_US),
    ):
        if not spans:
            continue
        rolled = Query(params=query.params)
        if bucket is not None:
            rolled.select(f"{bucket(epoch_us)} AS bucket").group_by("bucket")
        rolled.select("r.bin AS bin", "sum(r.durations) AS durations", "sum(r.visitors) AS visitors")
        rolled.select("sum(r.pageviews) AS pageviews", "sum(r.timings) AS timings")
        parts.append(rolled.from_(f"{table} AS r").where(where(query.params)).group_by("r.bin").sql())
    raw_where = split.raw_where(query.params)
    if raw_where is not None:
        parts.append(_raw_cells(query.params, raw_where, bucket))
    # The bins of the parts may repeat: the totals add them up (TIMINGS sums add exactly).
    return "\nUNION ALL\n".join(parts)


def _metrics(cur: duckdb.DuckDBPyConnection, filters: Filters, rollups: Rollups | None) -> StatsSummaryMetrics:
    query = Query()
    query.with_("cells", _cells(cur, query, filters, rollups, None)).select(*_TOTALS).from_("cells AS c")
    visitors, pageviews, bounce_rate, histogram = query.fetch(cur)[0]
    median = exact_medians(cur, filters, {None: histogram_pairs(histogram)})[None]
    return StatsSummaryMetrics(as_int(visitors), as_int(pageviews), as_ratio(bounce_rate), median)


def _metrics_and_series(
    cur: duckdb.DuckDBPyConnection, filters: Filters, interval: str, rollups: Rollups | None
) -> tuple[StatsSummaryMetrics, list[StatsIntervalItem]]:
    if filters.start is None or filters.end is None:
        raise ValueError("an interval series needs both start and end")
    start = filters.start
    starts = bucket_starts(interval, start, filters.end)
    if len(starts) > _BINNED_MAX_BUCKETS:
        return _metrics(cur, filters, rollups), _series_by_quantile(cur, filters, interval, start, starts)
    query = Query()

    def bucket_of(epoch_us: str) -> str:
        return bucket_index_sql(interval, start, query.params, epoch_us)

    # Buckets that split an hour (minutes, or a start off the hour) cannot be summed from hourly rollups, nor
    # buckets that split a day (hours, or days and weeks from a start off midnight) from daily ones.
    cells = _cells(
        cur, query, filters, rollups if whole_hours(interval, start) else None, bucket_of,
        days=whole_days(interval, start),
    )  # fmt: skip
    query.with_("cells", cells).select("grouping(c.bucket) = 1 AS whole", "c.bucket", *_TOTALS)
    # ROLLUP adds the period's row (whole) to the buckets' rows; over no rows at all it is the only one.
    query.from_("cells AS c").group_by("ROLLUP (c.bucket)")
    rows = query.fetch(cur)
    histograms: dict[int | None, list[list[int]]] = {}
    for whole, bucket, *_, histogram in rows:
        histograms[None if whole else as_int(bucket)] = histogram_pairs(histogram)
    medians = exact_medians(cur, filters, histograms, lambda params: bucket_index_sql(interval, start, params))
    current, found = StatsSummaryMetrics(0, 0, 0, 0), {}
    for whole, bucket, visitors, pageviews, bounce_rate, _ in rows:
        key = None if whole else as_int(bucket)
        metrics = (as_int(visitors), as_int(pageviews), as_ratio(bounce_rate), medians[key])
        if key is None:
            current = StatsSummaryMetrics(*metrics)
        else:
            found[key] = metrics
    return current, _zero_filled(starts, found)


def _series_by_quantile(
    cur: duckdb.DuckDBPyConnection, filters: Filters, interval: str, start: datetime, starts: list[datetime]
) -> list[StatsIntervalItem]:
    """Many buckets: one row per bucket with its own quantile_cont median."""
    query = Query()
    query.select(f"{bucket_index_sql(interval, start, query.params)} AS bucket")
    query.select(f"{VISITORS}", f"{PAGEVIEWS}", f"{BOUNCE}", f"{DURATION}").from_("views AS v")
    query.where(filters.where(query.params)).group_by("bucket")
    found = {as_int(r[0]): (as_int(r[1]), as_int(r[2]), as_ratio(r[3]), as_int(r[4])) for r in query.fetch(cur)}
    return _zero_filled(starts, found)


def _zero_filled(starts: list[datetime], found: dict[int, tuple[int, int, float, int]]) -> list[StatsIntervalItem]:
    """Every bucket in order; buckets without rows are listed with zeros."""
    return [
        StatsIntervalItem(format_date(start), *found.get(number, (0, 0, 0, 0))) for number, start in enumerate(starts)
    ]
