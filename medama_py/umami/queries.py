"""The query parameters of each Umami read route, as Structs (docs/umami.md, "Parameters").

They are the one statement of what a route accepts: `umami/params.py` decodes only the names a route's Struct
has (others are ignored, as Umami ignores them), a name that is required here is required there, and
openapi.yaml lists each field as a query parameter with its type, bounds and description. The decoding
itself stays in params.py, because Umami's filters (`op.value`, comma lists, old names) are not plain types.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Final, Literal

import msgspec

__all__ = [
    "MAX_EPOCH_MS",
    "MAX_LIMIT",
    "MAX_PAGE_SIZE",
    "ActivityQuery",
    "EventDataQuery",
    "EventValuesQuery",
    "FilterQuery",
    "ListQuery",
    "MetricQuery",
    "MetricType",
    "NoQuery",
    "RangeQuery",
    "SeriesQuery",
    "Unit",
    "WebsiteListQuery",
    "accepted_names",
    "required_names",
]

MAX_PAGE_SIZE: Final = 1000
MAX_LIMIT: Final = 10_000
MAX_EPOCH_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

_FILTER = "Filter `op.value`, op one of eq, neq, c, dnc, s, ns (bare value: eq; eq/neq take a comma list)."
Filter = Annotated[str | None, msgspec.Meta(description=_FILTER)]
Unit = Literal["minute", "hour", "day", "month", "year"]
MetricType = Literal[
    "path", "url", "entry", "exit", "referrer", "title", "query", "event", "tag", "hostname", "host", "browser",
    "os", "device", "screen", "language", "country", "region", "city", "utmSource", "utmMedium", "utmCampaign",
    "utmContent", "utmTerm", "channel",
]  # fmt: skip
EpochMs = Annotated[int, msgspec.Meta(ge=0, le=MAX_EPOCH_MS)]


class NoQuery(msgspec.Struct, rename="camel", kw_only=True):
    """No query parameters."""


class FilterQuery(NoQuery, kw_only=True):
    """Umami's filters; each names a field of the hit (url, host and subdivision1 are Umami 2's names)."""

    path: Filter = None
    url: Annotated[str | None, msgspec.Meta(description="Umami 2's name for `path`.")] = None
    referrer: Filter = None
    title: Filter = None
    query: Filter = None
    hostname: Filter = None
    host: Annotated[str | None, msgspec.Meta(description="Umami 2's name for `hostname`.")] = None
    event: Filter = None
    tag: Filter = None
    os: Filter = None
    browser: Filter = None
    device: Filter = None
    country: Annotated[str | None, msgspec.Meta(description=_FILTER + " Values are ISO 3166 alpha-2 codes.")] = None
    region: Filter = None
    subdivision1: Annotated[str | None, msgspec.Meta(description="Umami 2's name for `region`.")] = None
    city: Filter = None
    language: Filter = None
    utm_source: Filter = None
    utm_medium: Filter = None
    utm_campaign: Filter = None
    utm_content: Filter = None
    utm_term: Filter = None
    distinct_id: Filter = None


class RangeQuery(FilterQuery, kw_only=True):
    """A required range of epoch milliseconds, both ends inclusive, and the filters."""

    start_at: Annotated[EpochMs, msgspec.Meta(description="Range start, epoch milliseconds (inclusive).")]
    end_at: Annotated[EpochMs, msgspec.Meta(description="Range end, epoch milliseconds (inclusive, >= startAt).")]


_ZONE = "An IANA time zone for the buckets, e.g. Europe/London."
_UNIT = "Bucket size; one too fine for the range is coerced as Umami does (<= 60 min minute, <= 30 days hour, ...)."


class SeriesQuery(RangeQuery, kw_only=True):
    """A range bucketed by `unit` in `timezone`."""

    unit: Annotated[Unit, msgspec.Meta(description=_UNIT)] = "day"
    timezone: Annotated[str, msgspec.Meta(description=_ZONE, max_length=64)] = "UTC"


_SEARCH = Annotated[str, msgspec.Meta(description="Keep rows whose label contains this text.", max_length=200)] | None


class MetricQuery(RangeQuery, kw_only=True):
    """One dimension's values (`type`), `limit` and `offset` over the ranked list."""

    type: Annotated[MetricType, msgspec.Meta(description="The dimension (url = path, host = hostname).")]
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT, description="At most this many values.")] = 500
    offset: Annotated[int, msgspec.Meta(ge=0, le=10_000_000, description="Skip this many values.")] = 0
    search: _SEARCH = None


_PAGE = Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description="Page number, from 1.")]
_PAGE_SIZE = Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")]


class ListQuery(RangeQuery, kw_only=True):
    """A paged list, newest first."""

    page: _PAGE = 1
    page_size: _PAGE_SIZE = 20
    search: Annotated[str | None, msgspec.Meta(description="Keep rows whose path or event name contains this.")] = None


class EventDataQuery(RangeQuery, kw_only=True):
    """Event data in the range; `propertyName` keeps one property."""

    property_name: Annotated[str, msgspec.Meta(description="Keep this property only.", max_length=500)] | None = None


class EventValuesQuery(RangeQuery, kw_only=True):
    """The values of one property of one event."""

    event: Annotated[str, msgspec.Meta(description="The event's name (also a filter, `op.value`).")]
    property_name: Annotated[str, msgspec.Meta(description="The property.", max_length=500)]


class ActivityQuery(NoQuery, kw_only=True):
    """An optional range of epoch milliseconds."""

    start_at: Annotated[EpochMs | None, msgspec.Meta(description="Range start, epoch milliseconds.")] = None
    end_at: Annotated[EpochMs | None, msgspec.Meta(description="Range end, epoch milliseconds.")] = None


class WebsiteListQuery(NoQuery, kw_only=True):
    """A page of websites."""

    page: _PAGE = 1
    page_size: _PAGE_SIZE = 20
    search: Annotated[str | None, msgspec.Meta(description="Keep websites whose domain contains this.")] = None


@cache
def accepted_names(query: type[NoQuery]) -> frozenset[str]:
    """The parameter names (as sent) a route with this query Struct reads."""
    return frozenset(field.encode_name for field in msgspec.structs.fields(query))


@cache
def required_names(query: type[NoQuery]) -> tuple[str, ...]:
    """The parameter names a route with this query Struct needs (400 without them), in the Struct's order."""
    return tuple(field.encode_name for field in msgspec.structs.fields(query) if field.required)
