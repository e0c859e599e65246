"""Event data for the Umami API, over Medama's custom-event properties (docs/umami.md).

Every property row other than an Umami event's `event` row is one data field: its event is the batch's
`event` value (Umami-protocol events) or the property itself (Medama properties). Values are read as text
from Medama's table; dataType is the type umami_event_data kept for an Umami-protocol event's value, else 1
(string).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.stats.query import Params
from medama_py.stats.results import as_int
from medama_py.umami.identity import has_umami_hits
from medama_py.umami.sql import event_data_source, event_data_where

if TYPE_CHECKING:
    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = ["event_data"]

STRING = 1
# Allow-listed shapes of the event-data routes: the GROUP BY columns and how each row reads.
_EVENT = "coalesce(n.value, e.name)"
_GROUPS = {
    "events": (f"{_EVENT}, e.name", ("eventName", "propertyName")),
    "fields": ("e.name, e.value", ("propertyName", "value")),
    "properties": (f"{_EVENT}, e.name", ("eventName", "propertyName")),
    "values": ("e.value", ("value",)),
}


def event_data(
    cur: duckdb.DuckDBPyConnection, q: UmamiParams, report: str, event: str = "", prop: str = ""
) -> list[dict[str, object]] | dict[str, int]:
    """/event-data/{events,fields,properties,values,stats} in Umami's shapes."""
    params = Params()
    source = event_data_source(params.bind(q.filters.hostname))
    where = event_data_where(q, params)
    if event:
        where += f" AND {_EVENT} = {params.bind(event)}"
    if prop:
        where += f" AND e.name = {params.bind(prop)}"
    if report == "stats":
        row = cur.execute(
            f"SELECT count(DISTINCT e.batch_id), count(DISTINCT e.name), count(*) FROM {source} WHERE {where}",  # noqa: S608
            params.values,
        ).fetchone() or (0, 0, 0)
        return {"events": as_int(row[0]), "properties": as_int(row[1]), "records": as_int(row[2])}
    columns, names = _GROUPS[report]
    typed = report in ("events", "fields")
    if typed:
        columns, source = _with_data_type(cur, q, params, columns, source)
    sql = (
        f"SELECT {columns}, count(*) AS total FROM {source} WHERE {where}"  # noqa: S608
        f" GROUP BY ALL ORDER BY total DESC, 1 ASC LIMIT 500"
    )
    items: list[dict[str, object]] = []
    for row in cur.execute(sql, params.values).fetchall():
        item: dict[str, object] = dict(zip(names, (str(v) for v in row[: len(names)]), strict=True))
        if typed:
            item["dataType"] = as_int(row[len(names)])
        item["total"] = as_int(row[-1])
        items.append(item)
    return items


def _with_data_type(
    cur: duckdb.DuckDBPyConnection, q: UmamiParams, params: Params, columns: str, source: str
) -> tuple[str, str]:
    """The columns and source with each value's Umami data type.

    A custom event collected through /umami/api/send keeps its values' types in umami_event_data (1 string,
    2 number, 3 boolean, 4 date, 5 array); Medama's properties are text.
    """
    if not has_umami_hits(cur, q):
        return f"{columns}, {STRING}", source
    typed = (
        f"{source} LEFT JOIN umami_event_data AS d ON d.event_id = e.batch_id AND d.data_key = e.name"
        f" AND d.site = {params.bind(q.filters.hostname)}"
    )
    return f"{columns}, coalesce(d.data_type, {STRING})", typed
