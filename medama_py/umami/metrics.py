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
from medama_py.umami.identity import has_umami_hits, umami_view_key
from medama_py.umami.reports import BOUNCES, TOTALTIME
from medama_py.umami.sql import EVENT_NAME, event_where, view_where
from medama_py.umami.visit_metrics import by_label_sql, by_visit_end_sql, umami_only_sql

if TYPE_CHECKING:
    import duckdb

    from medama_py.umami.params import UmamiParams

__all__ = ["EMPTY_TYPES", "expanded_metrics", "metrics"]

EMPTY_TYPES: Final = frozenset({"title", "query", "tag", "screen", "region", "city", "utmContent", "utmTerm"})
# Fields only Umami-collected page views have (umami_hits), with their visitors flag: the unique-page flag for
# the page's own fields, as for paths; the unique-visitor flag otherwise. Region and city: never kept.
_UMAMI_ONLY: Final = {
    "title": ("uh.page_title", "v.is_unique_page"),
    "query": ("uh.url_query", "v.is_unique_page"),
    "tag": ("uh.tag", "v.is_unique_user"),
    "screen": ("uh.screen", "v.is_unique_user"),
    "utmContent": ("uh.utm_content", "v.is_unique_user"),
    "utmTerm": ("uh.utm_term", "v.is_unique_user"),
}
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


def _page_view_parts(q: UmamiParams, params: Params) -> tuple[str, str, str]:
    """The label, the visitors flag and the extra condition of a page-view dimension (all code-built SQL)."""
    if q.metric_type in _UMAMI_ONLY:
        return "", "", ""
    label = _label(q, params)
    flag = "v.is_unique_page" if q.metric_type == "path" else "v.is_unique_user"
    where = f" AND {_EXCLUDED[q.metric_type]}" if q.metric_type in _EXCLUDED else ""
    return label, flag, where


def _visit_grouped_sql(q: UmamiParams, params: Params, key: str) -> str:
    """Per-value numbers with Umami-collected page views grouped into their visits (visit_metrics.py), paged."""
    label, flag, where = _page_view_parts(q, params)
    if q.metric_type in _UMAMI_ONLY:
        grouped = umami_only_sql(q, params, *_UMAMI_ONLY[q.metric_type], key)
    elif q.metric_type in ("entry", "exit"):
        grouped = by_visit_end_sql(q, params, label, key, last=q.metric_type == "exit")
    else:
        grouped = by_label_sql(q, params, label, flag, where, key)
    return (
        f"SELECT * FROM ({grouped}) WHERE true{_search(q, params, 'x')}"  # noqa: S608
        f" ORDER BY y DESC, x ASC LIMIT {params.bind(q.limit)} OFFSET {params.bind(q.offset)}"
    )


def _page_order(params: Params, q: UmamiParams) -> str:
    return f" GROUP BY x ORDER BY y DESC, x ASC LIMIT {params.bind(q.limit)} OFFSET {params.bind(q.offset)}"


def _has_umami_values(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> bool:
    """Whether a field only Umami-collected hits have can have values here (region and city never do)."""
    return q.metric_type in _UMAMI_ONLY and has_umami_hits(cur, q)


def metrics(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> list[dict[str, object]]:
    """[{x, y}], y descending then x ascending, `limit` and `offset` applied.

    Only entry and exit depend on visits; every other value's y is a flag count, the same for both kinds of rows.
    """
    if q.metric_type in EMPTY_TYPES and not _has_umami_values(cur, q):
        return []
    params = Params()
    if q.metric_type in (*_UMAMI_ONLY, "entry", "exit") and has_umami_hits(cur, q):
        sql = _visit_grouped_sql(q, params, umami_view_key(cur, q))
        return [{"x": _x(q, row[0]), "y": as_int(row[1])} for row in cur.execute(sql, params.values).fetchall()]
    if q.metric_type == "event":
        label, count = EVENT_NAME, "count(*)"
        source, where = "events AS e", event_where(q, params)
    else:
        label, flag, extra = _page_view_parts(q, params)
        count = f"count_if({flag})"
        source, where = "views AS v", view_where(q, params) + extra
    where += _search(q, params, label)
    sql = f"SELECT {label} AS x, {count} AS y FROM {source} WHERE {where}{_page_order(params, q)}"  # noqa: S608
    rows = cur.execute(sql, params.values).fetchall()
    return [{"x": _x(q, x), "y": as_int(y)} for x, y in rows]


def expanded_metrics(cur: duckdb.DuckDBPyConnection, q: UmamiParams) -> list[dict[str, object]]:
    """[{name, pageviews, visitors, visits, bounces, totaltime}] for page-view dimensions (events: counts only).

    entry/exit values count the visits that began (ended) there, with those visits' page views and time.
    """
    if q.metric_type in EMPTY_TYPES and not _has_umami_values(cur, q):
        return []
    params = Params()
    if q.metric_type == "event":
        sql = (
            f"SELECT {EVENT_NAME} AS x, count(*) AS y, count(*), count(DISTINCT e.bid), count(*), 0"  # noqa: S608
            f" FROM events AS e WHERE {event_where(q, params)}{_search(q, params, EVENT_NAME)}"
        )
    elif has_umami_hits(cur, q):
        sql = _visit_grouped_sql(q, params, umami_view_key(cur, q))
        return _expanded_rows(cur, q, sql, params)
    else:
        label, visitors, where = _page_view_parts(q, params)
        sql = (
            f"SELECT {label} AS x, count_if({visitors}) AS y, count(*), count(*), {BOUNCES}, {TOTALTIME}"  # noqa: S608
            f" FROM views AS v WHERE {view_where(q, params)}{where}{_search(q, params, label)}"
        )
    return _expanded_rows(cur, q, sql + _page_order(params, q), params)


def _expanded_rows(cur: duckdb.DuckDBPyConnection, q: UmamiParams, sql: str, params: Params) -> list[dict[str, object]]:
    names = ("visitors", "pageviews", "visits", "bounces", "totaltime")
    rows = cur.execute(sql, params.values).fetchall()
    return [{"name": _x(q, row[0]), **{n: as_int(v) for n, v in zip(names, row[1:], strict=True)}} for row in rows]
