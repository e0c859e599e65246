"""Deterministic stats fixture: seeded page views and custom events over several sites, all in 2024.

`build_fixture(path)` writes a DuckDB analytics file with Medama's schema. The same seed always gives the
same rows, so the snapshot files stay valid. The rows themselves, and `make_view` / `insert_views` for the
small hand-made cases, come from tests/support/rows.py.
"""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import duckdb

from medama_py.storage.analytics_file import create_analytics_schema
from tests.support.rows import Event, View, insert_events, insert_views, make_view

if TYPE_CHECKING:
    from pathlib import Path

# The row factory is re-exported: the stats tests import it from here.
__all__ = ["Event", "View", "build_fixture", "insert_events", "insert_views", "make_view"]

T = TypeVar("T")

SITES = {"example.com": 18_000, "docs.example.com": 7_000, "shop.example.org": 4_000}
EMPTY_SITE = "empty.example.net"
YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)
BURST_START = (30 * 24 + 22) * 3600  # 2024-01-31T22:00:00Z, in seconds from YEAR_START

# Referrer host → group, as ingestion would store them ('' = no group, '' host = direct).
REFERRERS = [
    ("", "", 30),
    ("www.google.com", "Google", 20),
    ("google.co.uk", "Google", 6),
    ("www.bing.com", "Bing", 5),
    ("duckduckgo.com", "DuckDuckGo", 4),
    ("t.co", "Twitter", 5),
    ("news.ycombinator.com", "Hacker News", 4),
    ("github.com", "GitHub", 4),
    ("blog.example.net", "", 3),
    ("Forum.Example.io", "", 2),
    ("google-alternative.org", "", 1),
]
BROWSERS = [("Chrome", 50), ("Firefox", 15), ("Safari", 20), ("Edge", 10), ("Opera", 3), ("Samsung Internet", 2)]
OSES = [("Windows", 35), ("macOS", 20), ("Linux", 8), ("iOS", 20), ("Android", 17)]
DEVICES = [("Desktop", 60), ("Mobile", 35), ("Tablet", 5)]
COUNTRIES = [
    ("United Kingdom", 25),
    ("United States", 30),
    ("Germany", 12),
    ("France", 8),
    ("Japan", 6),
    ("India", 7),
    ("Brazil", 5),
    ("", 2),
]
LANGUAGES = [
    ("English", "British English", 20),
    ("English", "American English", 35),
    ("English", "English", 5),
    ("German", "German", 12),
    ("French", "Canadian French", 3),
    ("French", "French", 7),
    ("Japanese", "Japanese", 6),
    ("Portuguese", "Brazilian Portuguese", 5),
]
UTMS = [
    (("", "", ""), 70),
    (("newsletter", "email", "spring_sale"), 8),
    (("newsletter", "email", "winter"), 4),
    (("twitter", "social", "launch"), 6),
    (("Google", "cpc", "Brand"), 7),
    (("google", "cpc", "brand"), 3),
    (("reddit", "", ""), 2),
]
SECTIONS = {
    "example.com": ["/", "/about", "/About", "/pricing", "/contact", "/blog", "/100%_off", "/café", "/c_ntact"],
    "docs.example.com": ["/", "/install", "/guide", "/api", "/faq"],
    "shop.example.org": ["/", "/cart", "/checkout", "/products"],
}
EVENT_NAMES = {"plan": ["free", "pro", "team"], "theme": ["dark", "light"], "click": ["signup", "buy", ""]}


def _pick(rng: random.Random, weighted: list[tuple[T, int]]) -> T:
    return rng.choices([item for item, _ in weighted], weights=[w for _, w in weighted])[0]


def _duration(rng: random.Random) -> int | None:
    roll = rng.random()
    if roll < 0.2:
        return None  # no unload beacon arrived
    if roll < 0.27:
        return rng.randint(0, 99)  # too short to be a bounce
    if roll < 0.30:
        return rng.choice([100, 5000])  # the inclusive band edges
    if roll < 0.65:
        return rng.randint(100, 5000)
    return rng.randint(5001, 600_000)


def _visit(rng: random.Random, site: str, number: int, when: datetime) -> tuple[list[View], list[Event]]:
    """One visitor's session: the first view carries is_unique_user, a path's first view is_unique_page."""
    host, group = _pick(rng, [((h, g), w) for h, g, w in REFERRERS])
    base, dialect = _pick(rng, [((b, d), w) for b, d, w in LANGUAGES])
    source, medium, campaign = _pick(rng, UTMS)
    browser, os, device, country = (_pick(rng, BROWSERS), _pick(rng, OSES), _pick(rng, DEVICES), _pick(rng, COUNTRIES))
    returning = rng.random() < 0.25  # a returning visitor: no unique-user flag on any view
    seen: set[str] = set()
    views: list[View] = []
    events: list[Event] = []
    paths = SECTIONS[site]
    for index in range(min(1 + int(rng.expovariate(0.6)), 8)):
        path = (
            paths[min(int(rng.expovariate(0.45)), len(paths) - 1)]
            if rng.random() < 0.9
            else f"/blog/post-{rng.randint(1, 40)}"
        )
        bid = f"{site[:2]}{number:06d}{index}"
        first = index == 0
        views.append(
            View(
                bid=bid,
                hostname=site,
                pathname=path,
                is_unique_user=first and not returning,
                is_unique_page=path not in seen and not returning,
                referrer_host=host if first else "",
                referrer_group=group if first else "",
                country=country,
                language_base=base,
                language_dialect=dialect,
                ua_browser=browser,
                ua_os=os,
                ua_device_type=device,
                utm_source=source if first else "",
                utm_medium=medium if first else "",
                utm_campaign=campaign if first else "",
                duration_ms=_duration(rng),
                date_created=when,
            )
        )
        seen.add(path)
        for batch in range(rng.choices([0, 1, 2], weights=[80, 15, 5])[0]):
            name = rng.choice(list(EVENT_NAMES))
            moment = when + timedelta(seconds=rng.randint(1, 60))
            events.append(Event(f"{bid}-{batch}", site, name, rng.choice(EVENT_NAMES[name]), moment, bid))
        when += timedelta(seconds=rng.randint(5, 400))
    return views, events


def generate(seed: int = 1) -> tuple[list[View], list[Event]]:
    """Every fixture row, in time order per site (new lists; the rows are made once per process, ~0.9 s)."""
    views, events = _generate(seed)
    return list(views), list(events)


@functools.cache
def _generate(seed: int) -> tuple[tuple[View, ...], tuple[Event, ...]]:
    rng = random.Random(seed)
    views: list[View] = []
    events: list[Event] = []
    for site, target in SITES.items():
        number = 0
        site_views: list[View] = []
        while len(site_views) < target:
            # Traffic grows through the year (all within 2024, UTC), with a burst around the night of
            # 31 January so minute and hour series have rows on both sides of a month boundary.
            offset = rng.triangular(0, 366 * 86400 - 4000, 300 * 86400)
            if number % 25 == 0:
                offset = BURST_START + rng.uniform(0, 4 * 3600)
            when = YEAR_START + timedelta(seconds=int(offset))
            new_views, new_events = _visit(rng, site, number, when)
            site_views.extend(new_views)
            events.extend(new_events)
            number += 1
        views.extend(sorted(site_views, key=lambda v: v.date_created))
    # Events not tied to a page view (custom events sent without a beacon id) never join.
    events.extend(
        Event(f"loose{i}", "example.com", "plan", "free", YEAR_START + timedelta(days=i), "") for i in range(5)
    )
    return tuple(views), tuple(events)


def build_fixture(path: Path | str, seed: int = 1) -> tuple[int, int]:
    """Write the fixture file; returns (views, events) row counts."""
    views, events = generate(seed)
    conn = duckdb.connect(str(path))
    try:
        create_analytics_schema(conn)
        insert_views(conn, views)
        insert_events(conn, events)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return len(views), len(events)
