"""The last minutes: /active (5 minutes) and /realtime (30 minutes) (docs/umami.md, "Sessions and visits").

A Medama page load links to nothing, so its visitor is its unique-visitor flag. An Umami-collected hit
belongs to a session (`umami_hits.session_id`), and an active session is one seen in the window: its
visitor counts once, whether or not the session began in the window (its flag marks only its first hit).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from medama_py.stats.results import as_int
from medama_py.umami.countries import code_for_country
from medama_py.umami.sql import is_event_row, iso

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

__all__ = ["active_visitors", "realtime"]

# The window's Umami-collected page views by bid, to name their session (a small range: the last minutes).
_UMAMI_VIEWS = (
    "SELECT uh.bid, uh.session_id FROM umami_hits AS uh"
    " WHERE uh.site = $h AND uh.date_created >= $since AND uh.event_type = 1"
)


def active_visitors(cur: duckdb.DuckDBPyConnection, hostname: str, now: datetime) -> dict[str, int]:
    """GET /websites/:id/active: visitors of the last five minutes.

    Medama page loads count their unique-visitor flags; Umami-collected hits their distinct sessions, custom
    events included (a server sending only events is active too).
    """
    row = cur.execute(
        "SELECT (SELECT count_if(v.is_unique_user) FROM views AS v WHERE v.hostname = $h"  # noqa: S608
        f" AND v.date_created >= $since AND v.bid NOT IN (SELECT bid FROM ({_UMAMI_VIEWS})))"
        " + (SELECT count(DISTINCT uh.session_id) FROM umami_hits AS uh WHERE uh.site = $h"
        " AND uh.date_created >= $since)",
        {"h": hostname, "since": now - timedelta(minutes=5)},
    ).fetchone()
    return {"visitors": as_int(row[0] if row else 0)}


class _Visitors:
    """Visitors per key: Medama flags add one each, an Umami session once per key."""

    def __init__(self) -> None:
        self.flags: dict[str, int] = {}
        self.sessions: dict[str, set[str]] = {}

    def add(self, key: str, unique: bool, session: str | None) -> None:
        if session is not None:
            self.sessions.setdefault(key, set()).add(session)
        elif unique:
            self.flags[key] = self.flags.get(key, 0) + 1

    def counts(self) -> dict[str, int]:
        keys = self.flags.keys() | self.sessions.keys()
        return {k: self.flags.get(k, 0) + len(self.sessions.get(k, ())) for k in sorted(keys)}


def _custom_events(cur: duckdb.DuckDBPyConnection, values: dict[str, object]) -> int:
    row = cur.execute(
        "SELECT count(*) FROM events AS e WHERE e.group_name = $h AND e.date_created >= $since"  # noqa: S608
        f" AND {is_event_row('$h')}",
        values,
    ).fetchone()
    return as_int(row[0] if row else 0)


def realtime(cur: duckdb.DuckDBPyConnection, hostname: str, now: datetime) -> dict[str, object]:
    """GET /realtime/:id: the last 30 minutes' page views by country, page, referrer and minute, latest first."""
    since = now - timedelta(minutes=30)
    values = {"h": hostname, "since": since}
    rows = cur.execute(
        "SELECT v.country, v.pathname, v.referrer_host, v.is_unique_user,"  # noqa: S608
        " strftime(date_trunc('minute', make_timestamp(epoch_us(v.date_created))), '%Y-%m-%d %H:%M:%S'),"
        f" v.date_created, uv.session_id FROM views AS v LEFT JOIN ({_UMAMI_VIEWS}) AS uv ON uv.bid = v.bid"
        " WHERE v.hostname = $h AND v.date_created >= $since ORDER BY v.date_created DESC, v.bid DESC LIMIT 100000",
        values,
    ).fetchall()
    countries, minutes, everyone = _Visitors(), _Visitors(), _Visitors()
    urls: dict[str, int] = {}
    referrers: dict[str, int] = {}
    views: dict[str, int] = {}
    for country, path, referrer, unique, minute, _, session in rows:
        code = code_for_country(country)
        if code:
            countries.add(code, unique, session)
        minutes.add(minute, unique, session)
        everyone.add("", unique, session)
        urls[path] = urls.get(path, 0) + 1
        if referrer and referrer != hostname:
            referrers[referrer] = referrers.get(referrer, 0) + 1
        views[minute] = views.get(minute, 0) + 1
    events = _custom_events(cur, values)
    by_country = countries.counts()
    return {
        "countries": by_country,
        "urls": urls,
        "referrers": referrers,
        "events": [
            {"createdAt": iso(at), "urlPath": path, "eventType": 1, "country": code_for_country(c)}
            for c, path, _, _, _, at, _ in rows[:50]
        ],
        "series": {
            "views": [{"x": x, "y": y} for x, y in sorted(views.items())],
            "visitors": [{"x": x, "y": y} for x, y in minutes.counts().items()],
        },
        "totals": {
            "views": len(rows),
            "visitors": everyone.counts().get("", 0),
            "events": events,
            "countries": len(by_country),
        },
    }
