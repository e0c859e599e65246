"""SQL pieces the Umami reports share: the row selections and the time buckets (docs/umami.md).

Conditions come from the stats layer's filter builder (bound values, allow-listed columns); the Umami-only
fields use their own allow-lists, UMAMI_COLUMNS and EVENT_COLUMNS.

Custom events: a Medama property row is one event named after the property. An Umami-protocol event is
stored as one batch whose `event` property holds its name and whose other properties are its data: that
batch is one event, read from its `event` row (EVENT_NAME), and its other rows are only event data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from medama_py.stats.filters import Filters, condition_sql
from medama_py.umami.params import EVENT_COLUMNS, EVENT_DATA_COLUMNS, EVENT_NAME, UMAMI_COLUMNS

if TYPE_CHECKING:
    import duckdb

    from medama_py.stats.query import Params
    from medama_py.umami.params import UmamiParams

__all__ = [
    "EVENT_NAME",
    "event_data_source",
    "event_data_where",
    "event_where",
    "has_named_events",
    "is_event_row",
    "iso",
    "view_where",
]


def _event_filters(q: UmamiParams, params: Params, columns: dict[str, tuple[str, ...]] = EVENT_COLUMNS) -> list[str]:
    return [condition_sql(c, params, columns) for c in q.extra if c.field in EVENT_COLUMNS]


def is_event_row(host: str) -> str:
    """`e` is the row that stands for its custom event: an `event` row, or a property of a batch without one.

    `host` is the bound hostname placeholder.
    """
    named = f"SELECT n.batch_id FROM events AS n WHERE n.group_name = {host} AND n.name = 'event'"  # noqa: S608
    return f"(e.name = 'event' OR e.batch_id NOT IN ({named}))"


def view_where(q: UmamiParams, params: Params, filters: Filters | None = None) -> str:
    """The WHERE body over `views AS v`: the website, the range, Medama's filters and the Umami-only ones.

    An `event` filter keeps the page views on which a matching custom event happened.
    """
    parts = [(filters or q.filters).where(params)]
    parts.extend(condition_sql(c, params, UMAMI_COLUMNS) for c in q.extra if c.field in UMAMI_COLUMNS)
    events = _event_filters(q, params)
    if events:
        match = " AND ".join(["e.bid = v.bid", "e.bid <> ''", *events])
        parts.append(f"EXISTS (SELECT 1 FROM events AS e WHERE {match})")  # noqa: S608 (values are bound)
    return " AND ".join(parts)


def _event_scope(q: UmamiParams, params: Params) -> list[str]:
    """The website's rows in the range whose page view (if any filter asks) matches the page-view filters."""
    chosen = q.filters
    parts = [f"e.group_name = {params.bind(chosen.hostname)}"]
    if chosen.start is not None:
        parts.append(f"e.date_created >= {params.bind(chosen.start)}")
    if chosen.end is not None:
        parts.append(f"e.date_created <= {params.bind(chosen.end)}")
    if chosen.conditions or any(c.field in UMAMI_COLUMNS for c in q.extra):
        views = [Filters(hostname=chosen.hostname, conditions=chosen.conditions).where(params)]
        views.extend(condition_sql(c, params, UMAMI_COLUMNS) for c in q.extra if c.field in UMAMI_COLUMNS)
        parts.append(f"EXISTS (SELECT 1 FROM views AS v WHERE v.bid = e.bid AND {' AND '.join(views)})")  # noqa: S608
    return parts


def has_named_events(cur: duckdb.DuckDBPyConnection, hostname: str) -> bool:
    """Whether the site holds any Umami-protocol event (a batch with an `event` row); ~5 ms at 2M event rows.

    Without one, every property row is an event of its own and `is_event_row` can be left out, which lets
    DuckDB answer a newest-first page from the last row groups instead of testing every row.
    """
    row = cur.execute(
        "SELECT EXISTS (SELECT 1 FROM events WHERE group_name = ? AND name = 'event')", [hostname]
    ).fetchone()
    return bool(row and row[0])


def event_where(q: UmamiParams, params: Params, *, named: bool = True) -> str:
    """The WHERE body over `events AS e` selecting one row per custom event (the range is the event's own time).

    `named=False` (from `has_named_events`) says no batch has an `event` row, so every row is an event.
    """
    parts = _event_scope(q, params)
    if named:
        parts.append(is_event_row(params.bind(q.filters.hostname)))
    parts.extend(_event_filters(q, params))
    return " AND ".join(parts)


def event_data_where(q: UmamiParams, params: Params) -> str:
    """The WHERE body over `events AS e` LEFT JOIN the batch's `event` row as `n`: the event-data rows."""
    parts = [*_event_scope(q, params), "e.name <> 'event'"]
    parts.extend(_event_filters(q, params, EVENT_DATA_COLUMNS))
    return " AND ".join(parts)


def event_data_source(host: str) -> str:
    """Event-data rows `e` with the `event` row `n` of their batch, if it has one."""
    return (
        "events AS e LEFT JOIN (SELECT batch_id, value FROM events"  # noqa: S608
        f" WHERE group_name = {host} AND name = 'event') AS n ON n.batch_id = e.batch_id"
    )


def iso(moment: object) -> str | None:
    """An instant as Umami writes it: `2024-06-01T08:00:00.000Z`."""
    if not isinstance(moment, datetime):
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
