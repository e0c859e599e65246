"""Query string → StatsParams; any malformed known parameter raises BadRequest naming it.

Which names are ours (docs/compatibility.md, "Unknown query parameters"): the scalar parameters, and any
key that begins with a filter field's name (`path[eq]`, but also the malformed `path]` or `path`). Those
are validated strictly, so a mistyped operator or a bad date never silently returns unfiltered numbers.
Every other name, bracketed or not (`chart[stat]`, `foo`, `utm_content[eq]`), is ignored as the
original server ignores it: Medama's dashboard forwards its own page parameters to every stats request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

from medama_py.errors import BadRequest
from medama_py.stats.filters import FIELDS, OPERATORS, Condition, Filters
from medama_py.stats.intervals import INTERVALS, bucket_count
from medama_py.stats.query import Page

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "LANGUAGES",
    "LIST",
    "MAX_BUCKETS",
    "MAX_CONDITIONS",
    "MAX_LIST_VALUES",
    "PROPERTIES",
    "REFERRERS",
    "SUMMARY",
    "StatsParams",
    "parse_params",
    "parse_time",
]

# Scalar parameters each endpoint accepts besides start, end and the filters (docs/stats.md#parameters).
SUMMARY: Final = frozenset({"previous", "interval"})
LIST: Final = frozenset({"summary", "limit", "offset"})
REFERRERS: Final = LIST | {"grouped"}
LANGUAGES: Final = LIST | {"locale"}
PROPERTIES: Final = frozenset({"limit", "offset"})

# A zero-filled series of more buckets than this is refused rather than built (a minute series over a
# decade would be gigabytes of JSON). 100 000 covers a minute series over two months.
MAX_BUCKETS: Final = 100_000
MAX_LIST_VALUES: Final = 200
# Filter conditions per request: far more than any dashboard sends, few enough to keep the SQL small.
MAX_CONDITIONS: Final = 64

# A space before the offset is read as "+": an unencoded "+05:30" in a query string arrives as " 05:30".
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+ -])(\d{2}):(\d{2}))",
    re.ASCII,
)
_INTEGER = re.compile(r"[+-]?\d{1,9}", re.ASCII)
_FILTER_KEY = re.compile(r"([A-Za-z0-9_]+)\[([^\[\]]*)\]")
_LEADING_NAME = re.compile(r"[A-Za-z0-9_]+")
_HOSTNAME = re.compile(r"[A-Za-z0-9.-]{1,253}", re.ASCII)
# Go's strconv.ParseBool spellings, which the original router accepts.
_BOOLEANS: Final = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}
_SCALARS: Final = frozenset({"start", "end", "previous", "interval", "summary", "limit", "offset", "grouped", "locale"})


@dataclass(frozen=True, slots=True)
class StatsParams:
    """Decoded parameters of one stats request."""

    filters: Filters
    summary: bool = False
    page: Page = field(default_factory=Page)
    grouped: bool = True
    locale: bool = False
    previous: bool = False
    interval: str | None = None


def parse_params(items: Iterable[tuple[str, str]], hostname: str, *, accepts: frozenset[str]) -> StatsParams:
    """Decode query items for an endpoint that takes the scalar parameters in `accepts`."""
    check_hostname(hostname)
    scalars: dict[str, str] = {}
    conditions: list[Condition] = []
    for key, value in items:
        if key in _SCALARS:
            if key in scalars:
                raise BadRequest(f"query parameter '{key}' is given more than once")
            scalars[key] = value
        elif (name := _filter_name(key)) is not None:
            if len(conditions) == MAX_CONDITIONS:
                raise BadRequest(f"too many filter conditions: at most {MAX_CONDITIONS} per request")
            conditions.append(_parse_condition(name, key, value))
        # Any other name belongs to someone else (a dashboard's own state, a cache-buster): ignored.
    start = _parse_time(scalars, "start")
    end = _parse_time(scalars, "end")
    known = {k: v for k, v in scalars.items() if k in accepts}
    order = {name: index for index, name in enumerate(FIELDS)}
    conditions.sort(key=lambda c: (order[c.field], OPERATORS.index(c.op)))
    params = StatsParams(
        filters=Filters(hostname=hostname, conditions=tuple(conditions), start=start, end=end),
        summary=_parse_bool(known, "summary", default=False),
        page=Page(limit=_parse_int(known, "limit", 1, 5000), offset=_parse_int(known, "offset", 0, 5000) or 0),
        grouped=_parse_bool(known, "grouped", default=True),
        locale=_parse_bool(known, "locale", default=False),
        previous=_parse_bool(known, "previous", default=False),
        interval=_parse_interval(known, start, end),
    )
    if params.previous and start is not None and end is not None:
        try:
            _ = start - (end - start)
        except OverflowError:
            raise BadRequest(
                "query parameter 'previous': the previous period lies outside the supported dates"
            ) from None
    return params


def check_hostname(hostname: str) -> None:
    """Raise BadRequest unless `hostname` is 1–253 characters of letters, digits, '.' and '-'."""
    if not _HOSTNAME.fullmatch(hostname):
        raise BadRequest("path parameter 'hostname' must be 1 to 253 characters of letters, digits, '.' and '-'")


def _filter_name(key: str) -> str | None:
    """The filter field `key` starts with (`path` for `path[eq]`, and for the malformed `path]` or `path`)."""
    leading = _LEADING_NAME.match(key)
    return leading.group() if leading is not None and leading.group() in FIELDS else None


def _parse_condition(name: str, key: str, value: str) -> Condition:
    """`name[op]=value` → Condition; any other shape of a key starting with a filter's name is a 400."""
    match = _FILTER_KEY.fullmatch(key)
    if match is None:
        problem = f"filter '{key}' needs an operator" if key == name else f"malformed filter parameter '{key}'"
        raise BadRequest(f"{problem}; use {name}[eq]=value, operators are {', '.join(OPERATORS)}")
    op = match.group(2)
    if op not in OPERATORS:
        raise BadRequest(f"unknown operator '{op}' in query parameter '{key}'; operators are {', '.join(OPERATORS)}")
    if op in ("in", "not_in"):
        # A comma-separated list; spaces around the commas are not part of the values.
        values = tuple(v.strip() for v in value.split(","))
        if len(values) > MAX_LIST_VALUES:
            raise BadRequest(f"query parameter '{key}' has more than {MAX_LIST_VALUES} values")
        return Condition(name, op, values)
    return Condition(name, op, (value,))


def parse_time(scalars: dict[str, str], name: str) -> datetime | None:
    """The RFC 3339 date-time in `scalars[name]`, as the stats endpoints read `start` and `end`; 400 if malformed."""
    return _parse_time(scalars, name)


def _parse_time(scalars: dict[str, str], name: str) -> datetime | None:
    raw = scalars.get(name)
    if raw is None:
        return None
    match = _RFC3339.fullmatch(raw)
    if match is None:
        raise BadRequest(f"query parameter '{name}' must be an RFC 3339 date-time such as 2024-06-01T00:00:00Z")
    year, month, day, hour, minute, second, zulu, sign, off_h, off_m = match.groups()
    try:
        offset = timedelta(0)
        if not zulu:
            if int(off_h) > 23 or int(off_m) > 59:
                raise ValueError("offset")
            offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
        # The fraction is truncated, as the original re-formats the period without it.
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=timezone(offset))
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequest(f"query parameter '{name}' is not a valid date-time: {raw!r}") from None


def _parse_bool(scalars: dict[str, str], name: str, *, default: bool) -> bool:
    raw = scalars.get(name)
    if raw is None:
        return default
    if raw not in _BOOLEANS:
        raise BadRequest(f"query parameter '{name}' must be a boolean (true or false)")
    return _BOOLEANS[raw]


def _parse_int(scalars: dict[str, str], name: str, low: int, high: int) -> int | None:
    raw = scalars.get(name)
    if raw is None:
        return None
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadRequest(f"query parameter '{name}' must be an integer from {low} to {high}")
    return int(raw)


def _parse_interval(scalars: dict[str, str], start: datetime | None, end: datetime | None) -> str | None:
    raw = scalars.get("interval")
    if raw is None:
        return None
    if raw not in INTERVALS:
        raise BadRequest(f"query parameter 'interval' must be one of {', '.join(INTERVALS)}")
    if start is None or end is None:
        raise BadRequest("query parameter 'interval' needs both 'start' and 'end'")
    if bucket_count(raw, start, end) > MAX_BUCKETS:
        raise BadRequest(f"query parameter 'interval': {raw} buckets over this period exceed {MAX_BUCKETS}")
    return raw
