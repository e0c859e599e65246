"""GET /website/{hostname}/properties: custom event properties (docs/stats.md#properties)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import UNSET

from medama_py.stats.query import Query, share, with_group_totals
from medama_py.stats.results import StatsPropertiesItem, as_int, as_ratio, as_text

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.params import StatsParams

__all__ = ["get_properties"]


def get_properties(cur: duckdb.DuckDBPyConnection, params: StatsParams) -> list[StatsPropertiesItem]:
    """Events per property name or, when prop_name has a value, per (name, value) pair."""
    filters, page = params.filters, params.page
    by_value = any(c.has_value for c in filters.event_conditions if c.field == "prop_name")
    query = Query()
    groups = Query(params=query.params).select("e.name AS name")
    if by_value:
        groups.select("e.value AS value")
    groups.select("count(*) AS events")
    # An inner join: only events tied to a page view count, and the period bounds the event time. The
    # original's LEFT JOIN produced a NULL-name group (and a 500) for views without events.
    groups.from_("views AS v JOIN events AS e ON e.bid = v.bid AND e.bid <> ''")
    groups.where(filters.where(query.params, period_column="e.date_created", events_joined=True))
    groups.group_by("name", *(["value"] if by_value else []))
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
