"""GET /websites/:id/metrics and /metrics/expanded: one dimension's values with their counts (docs/umami.md).

`y` is visitors: the unique-page flag for paths (the number Medama's /pages reports), the unique-visitor flag
for every other page-view dimension (as Medama's dimension reports), and the row count for custom events (as
Medama's /properties). Dimensions medama_py does not keep (title, query, tag, screen, region, city,
utmContent, utmTerm) have no values.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Final

from medama_py.ingest.datafiles import read_data_text
from medama_py.stats.query import Params
from medama_py.stats.results import as_int
from medama_py.umami.countries import code_for_country
from medama_py.umami.reports import BOUNCES, TOTALTIME
from medama_py.umami.sql import EVENT_NAME, event_where, view_where

if TYPE_CHECKING:
    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = ["EMPTY_TYPES", "expanded_metrics", "metrics"]

EMPTY_TYPES: Final = frozenset({"title", "query", "tag", "screen", "region", "city", "utmContent", "utmTerm"})
# Allow-listed label SQL per metric type (never user input).
_LABELS: Final = {
    "path": "v.pathname",
    "entry": "v.pathname",
    "exit": "v.pathname",
    "referrer": "v.referrer_host",
    "hostname": "v.hostname",
    "browser": "v.ua_browser",
    "os": "v.ua_os",
    "device": "lower(v.ua_device_type)",
    "language": "v.language_dialect",
    "country": "v.country",
    "utmSource": "v.utm_source",
    "utmMedium": "v.utm_medium",
    "utmCampaign": "v.utm_campaign",
}
# Values that are not a value: no referrer (and the site itself), no UTM tag, an unknown country.
_EXCLUDED: Final = {
    "referrer": "v.referrer_host <> '' AND v.referrer_host <> v.hostname",
    "utmSource": "v.utm_source <> ''",
    "utmMedium": "v.utm_medium <> ''",
    "utmCampaign": "v.utm_campaign <> ''",
    "country": "v.country <> 'Unknown'",
}


@cache
def _referrer_media() -> dict[str, list[str]]:
    """Referrer group names by medium (search, social, email, paid) from the vendored referrer table."""
    media: dict[str, set[str]] = {}
    for line in read_data_text("referrer-groups.csv").splitlines():
        medium, _, rest = line.partition(",")
        name = rest.rpartition(",")[0]
        media.setdefault(medium, set()).add(name)
    return {medium: sorted(names) for medium, names in media.items()}


def _channel_sql(params: Params) -> str:
    """Umami's channel of a page view, from its UTM medium and its referrer group."""
    media = _referrer_media()
    group = "v.referrer_group"
    return (
        "CASE WHEN lower(v.utm_medium) IN ('cpc', 'ppc', 'paid', 'paidsearch') THEN 'paidSearch'"
        " WHEN lower(v.utm_medium) LIKE '%email%' OR lower(v.utm_medium) LIKE '%mail%' THEN 'email'"
        f" WHEN {group} IN (SELECT unnest({params.bind(media.get('email', []))}::VARCHAR[])) THEN 'email'"
        f" WHEN {group} IN (SELECT unnest({params.bind(media.get('search', []))}::VARCHAR[])) THEN 'organicSearch'"
        f" WHEN {group} IN (SELECT unnest({params.bind(media.get('social', []))}::VARCHAR[])) THEN 'organicSocial'"
        f" WHEN {group} IN (SELECT unnest({params.bind(media.get('paid', []))}::VARCHAR[])) THEN 'paidSearch'"
        " WHEN coalesce(v.referrer_host, '') = '' OR v.referrer_host = v.hostname THEN 'direct'"
        " ELSE 'referral' END"
    )


def _label(q: UmamiParams, params: Params) -> str:
    return _channel_sql(params) if q.metric_type == "channel" else _LABELS[q.metric_type]


def _search(q: UmamiParams, params: Params, label: str) -> str:
    return f" AND contains(lower({label}), lower({params.bind(q.search)}))" if q.search else ""


def _x(q: UmamiParams, value: object) -> str | None:
    text = "" if value is None else str(value)
    return code_for_country(text) if q.metric_type == "country" else text


def metrics(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> list[dict[str, object]]:
    """[{x, y}], y descending then x ascending, `limit` and `offset` applied."""
    if q.metric_type in EMPTY_TYPES:
        return []
    params = Params()
    if q.metric_type == "event":
        label, count = EVENT_NAME, "count(*)"
        source, where = "events AS e", event_where(q, params)
    else:
        label = _label(q, params)
        count = "count_if(v.is_unique_page)" if q.metric_type == "path" else "count_if(v.is_unique_user)"
        source, where = "views AS v", view_where(q, params)
        if q.metric_type in _EXCLUDED:
            where += f" AND {_EXCLUDED[q.metric_type]}"
    where += _search(q, params, label)
    sql = (
        f"SELECT {label} AS x, {count} AS y FROM {source} WHERE {where}"  # noqa: S608
        f" GROUP BY x ORDER BY y DESC, x ASC LIMIT {params.bind(q.limit)} OFFSET {params.bind(q.offset)}"
    )
    rows = cur.execute(sql, params.values).fetchall()
    return [{"x": _x(q, x), "y": as_int(y)} for x, y in rows]


def expanded_metrics(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> list[dict[str, object]]:
    """[{name, pageviews, visitors, visits, bounces, totaltime}] for page-view dimensions (events: counts only)."""
    if q.metric_type in EMPTY_TYPES:
        return []
    params = Params()
    if q.metric_type == "event":
        sql = (
            f"SELECT {EVENT_NAME} AS x, count(*) AS y, count(*), count(DISTINCT e.bid), count(*), 0"  # noqa: S608
            f" FROM events AS e WHERE {event_where(q, params)}{_search(q, params, EVENT_NAME)}"
        )
    else:
        label = _label(q, params)
        visitors = "count_if(v.is_unique_page)" if q.metric_type == "path" else "count_if(v.is_unique_user)"
        where = view_where(q, params)
        if q.metric_type in _EXCLUDED:
            where += f" AND {_EXCLUDED[q.metric_type]}"
        sql = (
            f"SELECT {label} AS x, {visitors} AS y, count(*), count(*), {BOUNCES}, {TOTALTIME}"  # noqa: S608
            " FROM views AS v"
            f" WHERE {where}{_search(q, params, label)}"
        )
    sql += f" GROUP BY x ORDER BY y DESC, x ASC LIMIT {params.bind(q.limit)} OFFSET {params.bind(q.offset)}"
    names = ("visitors", "pageviews", "visits", "bounces", "totaltime")
    return [
        {"name": _x(q, row[0]), **{n: as_int(v) for n, v in zip(names, row[1:], strict=True)}}
        for row in cur.execute(sql, params.values).fetchall()
    ]
