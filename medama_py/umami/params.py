"""Umami's query parameters → UmamiParams; anything malformed raises BadRequest naming the parameter.

Ranges are `startAt`/`endAt` in epoch milliseconds (inclusive, as Umami's BETWEEN). `unit` too fine for the
range is coerced to the smallest allowed one, as Umami does. Filters are `name=op.value` with Umami's
operators; they become the stats layer's Conditions, so values are bound and columns come from allow-lists.
Unknown parameter names are ignored (clients add cache-busters and parameters we do not use).
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Final, get_args

from medama_py.errors import BadRequest
from medama_py.stats.filters import Condition, Filters
from medama_py.umami.countries import country_for_code
from medama_py.umami.queries import (
    MAX_EPOCH_MS,
    MAX_LIMIT,
    MAX_PAGE_SIZE,
    MetricType,
    Unit,
    accepted_names,
    required_names,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from medama_py.umami.queries import NoQuery

__all__ = ["METRIC_TYPES", "UMAMI_COLUMNS", "UNITS", "UmamiParams", "parse_umami_params"]

UNITS: Final = get_args(Unit)
MAX_LIST_VALUES: Final = 200
# Umami 2's names are accepted too: url = path, host = hostname, subdivision1 = region.
_ALIASES: Final = {"url": "path", "host": "hostname", "subdivision1": "region"}
# Umami filter → the stats layer's filter field (same columns, same rules as Medama's API).
_MEDAMA_FIELDS: Final = {
    "path": "path",
    "referrer": "referrer",
    "os": "os",
    "browser": "browser",
    "device": "device",
    "country": "country",
    "language": "language",
    "utmSource": "utm_source",
    "utmMedium": "utm_medium",
    "utmCampaign": "utm_campaign",
}
# Umami filters without a Medama column: the allow-list of their SQL. medama_py keeps no page title, query,
# tag, second-level UTM, region, city or distinct id for these rows, so they are NULL, which no filter matches.
_NULL = "CAST(NULL AS VARCHAR)"
UMAMI_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "hostname": ("v.hostname",),
    **dict.fromkeys(("title", "query", "tag", "utmContent", "utmTerm", "region", "city", "distinctId"), (_NULL,)),
}
# A custom event's name: the value of its `event` property (how Umami-protocol events are stored), otherwise the
# property's own name (a Medama property is an event of that name). `event=` filters test it.
EVENT_NAME = "CASE WHEN e.name = 'event' THEN e.value ELSE e.name END"
EVENT_COLUMNS: Final[dict[str, tuple[str, ...]]] = {"event": (EVENT_NAME,)}
# The same name seen from an event-data row `e` joined to its batch's `event` row `n`.
EVENT_DATA_COLUMNS: Final[dict[str, tuple[str, ...]]] = {"event": ("coalesce(n.value, e.name)",)}
METRIC_TYPES: Final = tuple(name for name in get_args(MetricType) if name not in _ALIASES)
_OPERATORS: Final = {
    "eq": "eq",
    "neq": "neq",
    "c": "contains",
    "dnc": "not_contains",
    "s": "starts_with",
    "ns": "not_starts_with",
}
_INTEGER = re.compile(r"\d{1,16}", re.ASCII)


@dataclass(frozen=True, slots=True)
class UmamiParams:
    """Decoded parameters of one Umami read request."""

    filters: Filters
    extra: tuple[Condition, ...] = ()
    unit: str = "day"
    timezone: str = "UTC"
    page: int = 1
    page_size: int = 20
    limit: int = 500
    offset: int = 0
    metric_type: str = ""
    search: str = ""
    event: str = ""  # the raw `event` parameter: event data's values need the event's name
    property_name: str = ""

    @property
    def start(self) -> datetime:
        if self.filters.start is None:
            raise ValueError("no start")
        return self.filters.start

    @property
    def end(self) -> datetime:
        if self.filters.end is None:
            raise ValueError("no end")
        return self.filters.end


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() | {"UTC"})


def parse_umami_params(items: Iterable[tuple[str, str]], hostname: str, query: type[NoQuery]) -> UmamiParams:
    """Decode the query items of a request about the website `hostname` for a route taking `query`.

    Names the route's query Struct lacks are ignored; the ones it requires are checked (400 naming them).
    """
    accepted = accepted_names(query)
    scalars: dict[str, str] = {}
    conditions: list[Condition] = []
    extra: list[Condition] = []
    for raw_key, value in items:
        if raw_key not in accepted:
            continue
        key = _ALIASES.get(raw_key, raw_key)
        if key in _MEDAMA_FIELDS or key in UMAMI_COLUMNS or key in EVENT_COLUMNS:
            condition = _condition(raw_key, key, value)
            (conditions if key in _MEDAMA_FIELDS else extra).append(condition)
            if key == "event":
                scalars[key] = value
        elif key in scalars:
            raise BadRequest(f"query parameter '{raw_key}' is given more than once")
        else:
            scalars[key] = value
    for name in required_names(query):
        if not scalars.get(name):
            raise BadRequest(f"query parameter '{name}' is required")
    start, end = _range(scalars)
    return UmamiParams(
        filters=Filters(hostname=hostname, conditions=tuple(conditions), start=start, end=end),
        extra=tuple(extra),
        unit=_unit(scalars, start, end),
        timezone=_timezone(scalars),
        page=_integer(scalars, "page", 1, 1, 1_000_000),
        page_size=_integer(scalars, "pageSize", 20, 1, MAX_PAGE_SIZE),
        limit=_integer(scalars, "limit", 500, 1, MAX_LIMIT),
        offset=_integer(scalars, "offset", 0, 0, 10_000_000),
        metric_type=_metric_type(scalars) if "type" in accepted else "",
        search=scalars.get("search", "")[:200],
        event=scalars.get("event", ""),
        property_name=scalars.get("propertyName", "")[:500],
    )


def _condition(raw_key: str, key: str, raw: str) -> Condition:
    op_name, dot, rest = raw.partition(".")
    if dot and op_name in _OPERATORS:
        op, value = _OPERATORS[op_name], rest
    else:
        op, value = "eq", raw
    field = _MEDAMA_FIELDS.get(key, key)
    values: tuple[str, ...] = (value,)
    if op in ("eq", "neq") and "," in value:
        # eq/neq take comma-separated lists, as in Umami.
        values = tuple(v.strip() for v in value.split(","))
        if len(values) > MAX_LIST_VALUES:
            raise BadRequest(f"query parameter '{raw_key}' has more than {MAX_LIST_VALUES} values")
        op = "in" if op == "eq" else "not_in"
    if key == "country":
        values = tuple(country_for_code(v) for v in values)
    return Condition(field, op, values)


def _epoch_ms(scalars: dict[str, str], name: str) -> datetime | None:
    raw = scalars.get(name)
    if raw is None or raw == "":
        return None
    if not _INTEGER.fullmatch(raw) or int(raw) > MAX_EPOCH_MS:
        raise BadRequest(f"query parameter '{name}' must be a time in epoch milliseconds, e.g. 1717200000000")
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(raw))


def _range(scalars: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    start, end = _epoch_ms(scalars, "startAt"), _epoch_ms(scalars, "endAt")
    if start is not None and end is not None and end < start:
        raise BadRequest("query parameter 'endAt' must not be before 'startAt'")
    return start, end


def _minimum_unit(start: datetime, end: datetime) -> str:
    """The finest unit Umami allows for a range: ≤ 60 min minute, ≤ 30 days hour, ≤ 7 months day, ≤ 24 month."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end - start <= timedelta(minutes=60):
        return "minute"
    if end - start <= timedelta(days=30):
        return "hour"
    if months <= 7:
        return "day"
    return "month" if months <= 24 else "year"


def _unit(scalars: dict[str, str], start: datetime | None, end: datetime | None) -> str:
    unit = scalars.get("unit") or "day"
    if unit not in UNITS:
        raise BadRequest(f"query parameter 'unit' must be one of {', '.join(UNITS)}")
    if start is None or end is None:
        return unit
    smallest = _minimum_unit(start, end)
    return unit if UNITS.index(unit) >= UNITS.index(smallest) else smallest


def _timezone(scalars: dict[str, str]) -> str:
    zone = scalars.get("timezone") or "UTC"
    if zone not in _zones():
        raise BadRequest("query parameter 'timezone' must be an IANA time zone such as Europe/London")
    return zone


def _integer(scalars: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = scalars.get(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadRequest(f"query parameter '{name}' must be an integer from {low} to {high}")
    return int(raw)


def _metric_type(scalars: dict[str, str]) -> str:
    raw = scalars.get("type", "")
    metric = _ALIASES.get(raw, raw)
    if metric not in METRIC_TYPES:
        raise BadRequest(f"query parameter 'type' must be one of {', '.join(METRIC_TYPES)} (or url, host)")
    return metric
