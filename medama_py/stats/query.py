"""A small SELECT builder and the metric expressions every report shares (docs/stats.md#metrics).

Values never enter the SQL text: `Params.bind` returns a `$name` placeholder and keeps the value for
DuckDB's named-parameter binding. Column names come from code (filters.FIELDS or the constants here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from medama_py.storage.view_sums import TIMINGS

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "ALL_ROWS",
    "BOUNCE",
    "DURATION",
    "PAGEVIEWS",
    "PAGE_VISITORS",
    "TIMINGS",
    "VISITORS",
    "Page",
    "Params",
    "Query",
    "bounce",
    "rounded_duration",
    "share",
    "with_group_totals",
]


# Visitors are the tracker's flags, never DISTINCT. count_if over the bare BOOLEAN column is
# the cheapest count DuckDB offers (about 5 ms CPU per 10M rows, against 45 ms for sum(CASE ...) and more for
# count(*) FILTER; bench/stats.py). It gives 0, not NULL, over no rows, which every reader treats alike.
VISITORS = "count_if(v.is_unique_user)"
PAGE_VISITORS = "count_if(v.is_unique_page)"
PAGEVIEWS = "count(*)"

# Bounce: unique-user rows with a duration in 100..5000 ms over unique-user rows with any duration,
# reported only when more than 5 such rows exist; otherwise 0. TIMINGS packs both counts into one sum
# (storage/view_sums.py, shared with the rollup builds so both sides sum the same expression).


def bounce(timings: str) -> str:
    """The bounce rate from a TIMINGS sum (or a sum of TIMINGS sums: the packing adds up exactly)."""
    timed, bounced = f"({timings} % 4294967296)", f"({timings} // 4294967296)"
    return f"CASE WHEN {timed} > 5 THEN round({bounced} / {timed}, 4) ELSE 0 END"


BOUNCE = bounce(TIMINGS)


def rounded_duration(expr: str) -> str:
    """A duration quantile as an integer, 0 when the group has no durations.

    DuckDB's cast from DOUBLE rounds to the nearest integer with ties to even (5000.5 → 5000, 4999.5 → 5000),
    which is what the original's `CAST(quantile_cont(...) AS INTEGER)` reports; round() would take ties away
    from zero. BIGINT rather than INTEGER: a median above 2^31 ms is possible in a UINTEGER column.
    """
    return f"coalesce(({expr})::BIGINT, 0)"


# quantile_cont interpolates in DOUBLE even over the stored UINTEGER (checked in tests/stats/test_metrics.py).
DURATION = rounded_duration("quantile_cont(v.duration_ms, 0.5)")


def share(part: str, total: str) -> str:
    """round4(part / total); DuckDB gives NaN for 0/0 (serialised as null) and NULL becomes 0."""
    return f"coalesce(round({part} / {total}, 4), 0)"


class Params:
    """Named parameters of one statement; each bound value gets a fresh `$pN` placeholder."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def bind(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@dataclass(frozen=True, slots=True)
class Page:
    """LIMIT/OFFSET of a list report; `limit=None` returns every row after `offset`."""

    limit: int | None = None
    offset: int = 0


ALL_ROWS = Page()


@dataclass(slots=True)
class Query:
    """SELECT … FROM … WHERE … GROUP BY … HAVING … ORDER BY … LIMIT, assembled in that order."""

    params: Params = field(default_factory=Params)
    _with: list[str] = field(default_factory=list)
    _select: list[str] = field(default_factory=list)
    _from: str = ""
    _where: list[str] = field(default_factory=list)
    _group_by: list[str] = field(default_factory=list)
    _having: list[str] = field(default_factory=list)
    _order_by: list[str] = field(default_factory=list)
    _limit: str = ""

    def with_(self, name: str, body: str, *, materialized: bool = False) -> Self:
        self._with.append(f"{name} AS {'MATERIALIZED ' if materialized else ''}({body})")
        return self

    def select(self, *columns: str) -> Self:
        self._select.extend(columns)
        return self

    def from_(self, source: str) -> Self:
        self._from = source
        return self

    def where(self, *conditions: str) -> Self:
        self._where.extend(c for c in conditions if c)
        return self

    def group_by(self, *columns: str) -> Self:
        self._group_by.extend(columns)
        return self

    def having(self, *conditions: str) -> Self:
        self._having.extend(conditions)
        return self

    def order_by(self, *columns: str) -> Self:
        self._order_by.extend(columns)
        return self

    def page(self, page: Page) -> Self:
        parts = []
        if page.limit is not None:
            parts.append(f"LIMIT {self.params.bind(page.limit)}")
        if page.offset:
            parts.append(f"OFFSET {self.params.bind(page.offset)}")
        self._limit = " ".join(parts)
        return self

    def sql(self) -> str:
        parts = []
        if self._with:
            parts.append("WITH " + ", ".join(self._with))
        parts.append("SELECT " + ", ".join(self._select))
        parts.append("FROM " + self._from)
        if self._where:
            parts.append("WHERE " + " AND ".join(self._where))
        if self._group_by:
            parts.append("GROUP BY " + ", ".join(self._group_by))
        if self._having:
            parts.append("HAVING " + " AND ".join(self._having))
        if self._order_by:
            parts.append("ORDER BY " + ", ".join(self._order_by))
        if self._limit:
            parts.append(self._limit)
        return "\n".join(parts)

    def fetch(self, cur: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
        """Run the statement on `cur` with its bound values and return every row."""
        return cur.execute(self.sql(), self.params.values).fetchall()


def with_group_totals(query: Query, groups: Query, *columns: str) -> None:
    """Read `groups` as `g`, next to the one-row `t` holding the sum of each of its `columns` (as `total_<col>`).

    A share's denominator written as `sum(x) OVER ()` over an aggregate's output made DuckDB finalise that
    aggregate on one thread: with thousands of groups and a median each, about 80 ms more wall time for the
    same CPU (bench/stats.py). Summing the materialised groups once gives the same HUGEINT sums.
    """
    query.with_("g", groups.sql(), materialized=True)
    totals = Query(params=query.params).select(*(f"sum(g.{column}) AS total_{column}" for column in columns))
    query.with_("t", totals.from_("g").sql()).from_("g, t")
