"""GET /website/{hostname}/properties: custom event properties (docs/stats.md#properties)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import UNSET

from medama_py.stats.filters import condition_sql
from medama_py.stats.query import Query, share, with_group_totals
from medama_py.stats.results import StatsPropertiesItem, as_int, as_ratio, as_text
from medama_py.stats.rolled import split_properties

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.filters import Filters
    from medama_py.stats.params import StatsParams
    from medama_py.stats.query import Params
    from medama_py.stats.rolled import PropSplit
    from medama_py.storage.rollups import Rollups

# The property fields over the rollups' columns (the allow-list of condition_sql).
_ROLLED_FIELDS = {"prop_name": ("r.name",), "prop_value": ("r.value",)}
_JOIN = "views AS v JOIN events AS e ON e.bid = v.bid AND e.bid <> ''"

__all__ = ["get_properties"]


def get_properties(
    cur: duckdb.DuckDBPyConnection, params: StatsParams, rollups: Rollups | None = None
) -> list[StatsPropertiesItem]:
    """Events per property name or, when prop_name has a value, per (name, value) pair.

    With `rollups`, whole event hours come from the properties rollups where they are current (same numbers).
    """
    filters, page = params.filters, params.page
    by_value = any(c.has_value for c in filters.event_conditions if c.field == "prop_name")
    query = Query()
    split = split_properties(cur, rollups, filters)
    if split is None:
        groups = _joined(query.params, filters, by_value)
    else:
        groups = _rolled(query.params, filters, by_value, split)
    with_group_totals(query, groups, "events")
    query.select("g.name", *(["g.value"] if by_value else []), "g.events")
    query.select(f"{share('g.events', 't.total_events')} AS events_percentage")
    if by_value:
        query.order_by("events DESC", "name ASC", "value ASC")
    else:
        query.order_by("events DESC", "name ASC")
    rows = query.page(page).fetch(cur)
    items = []
    for row in rows:
        name = as_text(row[0])
        value = as_text(row[1]) if by_value else ""
        events, events_percentage = (row[2], row[3]) if by_value else (row[1], row[2])
        # The name is not returned per value; empty labels are left out.
        items.append(
            StatsPropertiesItem(
                name=name if name and not by_value else UNSET,
                value=value or UNSET,
                events=as_int(events),
                events_percentage=as_ratio(events_percentage),
            )
        )
    return items


def _labels(table: str, by_value: bool) -> list[str]:
    return [f"{table}.name AS name", *([f"{table}.value AS value"] if by_value else [])]


def _joined(params: Params, filters: Filters, by_value: bool) -> Query:
    """Every page view joined with its events, counted per label."""
    groups = Query(params=params).select(*_labels("e", by_value), "count(*) AS events")
    # An inner join: only events tied to a page view count, and the period bounds the event time. The
    # original's LEFT JOIN produced a NULL-name group (and a 500) for views without events.
    groups.from_(_JOIN)
    groups.where(filters.where(params, period_column="e.date_created", events_joined=True))
    return groups.group_by("name", *(["value"] if by_value else []))


def _rolled(params: Params, filters: Filters, by_value: bool, split: PropSplit) -> Query:
    """The rollups' counts of the whole event hours plus the raw join of the other events (no view filters)."""
    rolled = Query(params=params).select(*_labels("r", by_value), "sum(r.events) AS events")
    rolled.from_("rollup_props AS r").where(split.events.hours_where(params))
    rolled.where(*(condition_sql(c, params, _ROLLED_FIELDS) for c in filters.event_conditions))
    rolled.group_by("name", *(["value"] if by_value else []))
    parts = [rolled.sql()]
    raw_events = split.events.raw_where(params, period_column="e.date_created")
    if raw_events is not None:
        raw = Query(params=params).select(*_labels("e", by_value), "count(*) AS events").from_(_JOIN)
        raw.where(raw_events, split.views_where(params))
        raw.where(*(condition_sql(c, params) for c in filters.event_conditions))
        parts.append(raw.group_by("name", *(["value"] if by_value else [])).sql())
    union = "\nUNION ALL\n".join(parts)
    groups = Query(params=params).select("p.name AS name", *(["p.value AS value"] if by_value else []))
    groups.select("sum(p.events) AS events").from_(f"({union}) AS p")
    return groups.group_by("name", *(["value"] if by_value else []))
