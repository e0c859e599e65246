"""The answers of the Umami read routes, as Structs in Umami's JSON naming (docs/umami.md, "Routes").

The route table (umami/routes.py) gives each route one of these: openapi.yaml's response schema is made from
it, and every answer is converted to it before it leaves (a field of the wrong type is an error in our code,
not a surprise for a client). Field names are snake_case here and camelCase on the wire.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "UmamiActive",
    "UmamiActivity",
    "UmamiDateRange",
    "UmamiEvent",
    "UmamiEventDataEvent",
    "UmamiEventDataField",
    "UmamiEventDataProperty",
    "UmamiEventDataStats",
    "UmamiEventDataValue",
    "UmamiEventNumbers",
    "UmamiEventPage",
    "UmamiEventSeriesPoint",
    "UmamiEventStats",
    "UmamiEventStatsAnswer",
    "UmamiMetric",
    "UmamiMetricExpanded",
    "UmamiPageviews",
    "UmamiPoint",
    "UmamiRealtime",
    "UmamiRealtimeEvent",
    "UmamiRealtimeSeries",
    "UmamiRealtimeTotals",
    "UmamiSession",
    "UmamiSessionPage",
    "UmamiSessionStats",
    "UmamiStats",
    "UmamiStatsNumbers",
    "UmamiValue",
    "UmamiWebsite",
    "UmamiWebsitePage",
]


class _Answer(msgspec.Struct, rename="camel", kw_only=True):
    """Umami's JSON naming."""


class UmamiWebsite(_Answer, kw_only=True):
    id: str
    name: str
    domain: str
    share_id: str | None
    team_id: str | None
    user_id: str | None
    created_by: str | None
    created_at: str | None
    updated_at: str | None
    reset_at: str | None
    deleted_at: str | None
    recorder_enabled: bool
    replay_config: None


class _Page(_Answer, kw_only=True):
    count: int
    page: int
    page_size: int


class UmamiWebsitePage(_Page, kw_only=True):
    data: list[UmamiWebsite]


class UmamiStatsNumbers(_Answer, kw_only=True):
    pageviews: int
    visitors: int
    visits: int
    bounces: int
    totaltime: int  # seconds


class UmamiStats(UmamiStatsNumbers, kw_only=True):
    comparison: UmamiStatsNumbers  # the previous range of equal length


class UmamiPoint(_Answer, kw_only=True):
    x: str
    y: int


class UmamiPageviews(_Answer, kw_only=True):
    pageviews: list[UmamiPoint]
    sessions: list[UmamiPoint]


class UmamiMetric(_Answer, kw_only=True):
    x: str | None
    y: int


class UmamiMetricExpanded(_Answer, kw_only=True):
    name: str | None
    pageviews: int
    visitors: int
    visits: int
    bounces: int
    totaltime: int


class UmamiEvent(_Answer, kw_only=True):
    id: str
    website_id: str
    session_id: str
    visit_id: str
    created_at: str
    hostname: str
    url_path: str | None
    url_query: str | None
    referrer_path: str | None
    referrer_query: str | None
    referrer_domain: str | None
    page_title: str | None
    event_type: int  # 1 page view, 2 custom event
    event_name: str | None
    country: str | None
    device: str | None
    os: str | None
    browser: str | None
    has_data: bool


class UmamiEventPage(_Page, kw_only=True):
    data: list[UmamiEvent]


class UmamiEventNumbers(_Answer, kw_only=True):
    events: int
    visitors: int
    visits: int
    unique_events: int


class UmamiEventStats(UmamiEventNumbers, kw_only=True):
    comparison: UmamiEventNumbers


class UmamiEventStatsAnswer(_Answer, kw_only=True):
    data: UmamiEventStats


class UmamiEventSeriesPoint(_Answer, kw_only=True):
    x: str  # the event's name
    t: str  # the bucket
    y: int


class UmamiSession(_Answer, kw_only=True):
    id: str
    website_id: str
    hostname: str
    browser: str
    os: str
    device: str
    screen: str | None
    language: str | None
    country: str | None
    region: str | None
    city: str | None
    subdivision1: str | None
    subdivision2: str | None
    first_at: str
    last_at: str
    visits: int
    views: int
    events: int
    totaltime: int
    created_at: str
    visit_id: str


class UmamiSessionPage(_Page, kw_only=True):
    data: list[UmamiSession]


class UmamiValue(_Answer, kw_only=True):
    value: int


class UmamiSessionStats(_Answer, kw_only=True):
    pageviews: UmamiValue
    visitors: UmamiValue
    visits: UmamiValue
    countries: UmamiValue
    events: UmamiValue


class UmamiActivity(_Answer, kw_only=True):
    created_at: str
    url_path: str | None
    url_query: str | None
    referrer_domain: str | None
    event_id: str
    event_type: int
    event_name: str | None
    visit_id: str


class UmamiEventDataEvent(_Answer, kw_only=True):
    event_name: str
    property_name: str
    data_type: int
    total: int


class UmamiEventDataField(_Answer, kw_only=True):
    property_name: str
    data_type: int
    value: str
    total: int


class UmamiEventDataProperty(_Answer, kw_only=True):
    event_name: str
    property_name: str
    total: int


class UmamiEventDataValue(_Answer, kw_only=True):
    value: str
    total: int


class UmamiEventDataStats(_Answer, kw_only=True):
    events: int
    properties: int
    records: int


class UmamiActive(_Answer, kw_only=True):
    visitors: int


class UmamiDateRange(_Answer, kw_only=True):
    start_date: str | None
    end_date: str | None


class UmamiRealtimeEvent(_Answer, kw_only=True):
    created_at: str | None
    url_path: str | None
    event_type: int
    country: str | None


class UmamiRealtimeSeries(_Answer, kw_only=True):
    views: list[UmamiPoint]
    visitors: list[UmamiPoint]


class UmamiRealtimeTotals(_Answer, kw_only=True):
    views: int
    visitors: int
    events: int
    countries: int


class UmamiRealtime(_Answer, kw_only=True):
    countries: dict[str, int]
    urls: dict[str, int]
    referrers: dict[str, int]
    events: list[UmamiRealtimeEvent]
    series: UmamiRealtimeSeries
    totals: UmamiRealtimeTotals
