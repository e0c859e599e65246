"""Event data and realtime for the Umami API, over Medama's custom-event properties (docs/umami.md).

Every property row other than an Umami event's `event` row is one data field: its event is the batch's
`event` value (Umami-protocol events) or the property itself (Medama properties). Values are kept as
text in Medama's table, so dataType is Umami's code for strings, 1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from medama_py.stats.query import Params
from medama_py.stats.results import as_int
from medama_py.umami.countries import code_for_country
from medama_py.umami.sql import event_data_source, event_data_where, is_event_row

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = ["event_data", "realtime"]

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
    sql = (
        f"SELECT {columns}, count(*) AS total FROM {source} WHERE {where}"  # noqa: S608
        f" GROUP BY ALL ORDER BY total DESC, 1 ASC LIMIT 500"
    )
    items: list[dict[str, object]] = []
    for row in cur.execute(sql, params.values).fetchall():
        item: dict[str, object] = dict(zip(names, (str(v) for v in row[:-1]), strict=True))
        if report in ("events", "fields"):
            item["dataType"] = STRING
        item["total"] = as_int(row[-1])
        items.append(item)
    return items


def realtime(cur: duckdb.DuckDBPyConnection, hostname: str, now: datetime) -> dict[str, object]:
    """GET /realtime/:id: the last 30 minutes by country, page, referrer and minute, with the latest events."""
    since = now - timedelta(minutes=30)
    rows = cur.execute(
        "SELECT country, pathname, referrer_host, is_unique_user,"
        " strftime(date_trunc('minute', make_timestamp(epoch_us(date_created))), '%Y-%m-%d %H:%M:%S'), date_created"
        " FROM views WHERE hostname = ? AND date_created >= ? ORDER BY date_created DESC LIMIT 100000",
        [hostname, since],
    ).fetchall()
    countries: dict[str, int] = {}
    urls: dict[str, int] = {}
    referrers: dict[str, int] = {}
    views: dict[str, int] = {}
    visitors: dict[str, int] = {}
    for country, path, referrer, unique, minute, _ in rows:
        code = code_for_country(country)
        if code and unique:
            countries[code] = countries.get(code, 0) + 1
        urls[path] = urls.get(path, 0) + 1
        if referrer and referrer != hostname:
            referrers[referrer] = referrers.get(referrer, 0) + 1
        views[minute] = views.get(minute, 0) + 1
        visitors[minute] = visitors.get(minute, 0) + (1 if unique else 0)
    events = cur.execute(
        "SELECT count(*) FROM events AS e WHERE e.group_name = $h AND e.date_created >= $since"  # noqa: S608
        f" AND {is_event_row('$h')}",
        {"h": hostname, "since": since},
    ).fetchone()
    latest = [
        {"createdAt": at.isoformat() if at else None, "urlPath": path, "eventType": 1, "country": code_for_country(c)}
        for c, path, _, _, _, at in rows[:50]
    ]
    return {
        "countries": countries,
        "urls": urls,
        "referrers": referrers,
        "events": latest,
        "series": {
            "views": [{"x": x, "y": y} for x, y in sorted(views.items())],
            "visitors": [{"x": x, "y": y} for x, y in sorted(visitors.items())],
        },
        "totals": {
            "views": len(rows),
            "visitors": sum(1 for r in rows if r[3]),
            "events": as_int(events[0] if events else 0),
            "countries": len(countries),
        },
    }
