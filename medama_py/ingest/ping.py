"""The /api/event/ping cache protocol with real UTC day boundaries (docs/tracker.md#the-ping-protocol)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from medama_py.errors import BadRequest

__all__ = ["PingAnswer", "answer_ping", "http_date"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Go's time.Parse with layout "Mon, 02 Jan 2006 15:04:05 GMT": a layout space matches one or more
# spaces, the hour may have one digit, fractional seconds are accepted, and the weekday is not checked.
_HTTP_DATE_RE = re.compile(
    r"(?P<wday>[A-Za-z]{3}), +(?P<day>\d{2}) +(?P<mon>[A-Za-z]{3}) +(?P<year>\d{4})"
    r" +(?P<hour>\d{1,2}):(?P<min>\d{2}):(?P<sec>\d{2})(?:[.,]\d+)? +GMT",
    re.ASCII,
)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PingAnswer:
    body: str
    last_modified: str
    cache_control: str


def http_date(moment: datetime) -> str:
    """Format a UTC instant as an HTTP date (`Www, DD Mon YYYY HH:MM:SS GMT`)."""
    moment = moment.astimezone(UTC)
    return (
        f"{_DAY_NAMES[moment.weekday()]}, {moment.day:02d} {_MONTH_NAMES[moment.month - 1]} "
        f"{moment.year:04d} {moment:%H:%M:%S} GMT"
    )


def _parse_http_date(text: str) -> datetime | None:
    """Return the instant, or None for a year before 1 (still a valid, and very old, date)."""
    m = _HTTP_DATE_RE.fullmatch(text)
    if m is None or m["wday"].lower() not in _DAYS or m["mon"].lower() not in _MONTHS:
        raise BadRequest(f'parsing time "{text}" as "Mon, 02 Jan 2006 15:04:05 GMT": cannot parse')
    year = int(m["year"])
    try:
        if year == 0:
            # datetime cannot hold year 0; Go can. Validate the day against a leap year like 0000.
            datetime(  # noqa: DTZ001 (only validates the fields)
                2000, _MONTHS.index(m["mon"].lower()) + 1, int(m["day"]), int(m["hour"]), int(m["min"]), int(m["sec"])
            )
            return None
        return datetime(
            year,
            _MONTHS.index(m["mon"].lower()) + 1,
            int(m["day"]),
            int(m["hour"]),
            int(m["min"]),
            int(m["sec"]),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise BadRequest(f'parsing time "{text}": {exc}') from exc


def answer_ping(if_modified_since: str | None, now: datetime) -> PingAnswer:
    """Return the ping body and cache headers: `0` (new today) or `1` (seen today, cached till midnight).

    Raises:
        BadRequest: If-Modified-Since is present but not an HTTP date.
    """
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if not if_modified_since:
        return PingAnswer("0", http_date(today), "no-cache")
    seen = _parse_http_date(if_modified_since)
    if seen is None or seen < today:
        return PingAnswer("0", http_date(today), "no-cache")
    # Subtract first: `seen + 1 day` would overflow for 31 Dec 9999.
    max_age = int((seen - now).total_seconds() + _DAY.total_seconds())
    return PingAnswer("1", if_modified_since, f"max-age={max_age}")
