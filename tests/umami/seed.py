"""A small, varied data set sent through the real tracker endpoints: Medama hits and Umami-protocol hits."""

from __future__ import annotations

import itertools
import json

import httpx

from tests.support.server import BROWSER_UA

__all__ = ["SeededSite", "medama_view", "seed_site"]

FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
_bids = itertools.count()

PAGES: tuple[tuple[str, str, str, bool, bool, int | None, str, str, dict[str, str]], ...] = (
    # path, referrer, utm query, unique user, unique page, duration ms, timezone, user agent, properties
    ("/", "", "", True, True, 1200, "Europe/London", BROWSER_UA, {}),
    ("/", "https://www.google.com/", "", True, True, 40_000, "Europe/Berlin", FIREFOX_UA, {"plan": "pro"}),
    (
        "/pricing",
        "https://news.ycombinator.com/item",
        "?utm_source=hn&utm_medium=social",
        False,
        True,
        3000,
        "Europe/London",
        BROWSER_UA,
        {},
    ),
    ("/pricing", "", "", False, False, None, "America/New_York", BROWSER_UA, {"plan": "team", "button": "buy"}),
    ("/blog/a", "https://duckduckgo.com/", "?utm_source=ddg", True, True, 800, "Asia/Tokyo", FIREFOX_UA, {}),
    ("/blog/a", "", "", False, True, 70_000, "Europe/London", BROWSER_UA, {"button": "share"}),
    ("/blog/b", "https://t.co/x", "?utm_campaign=launch", True, True, 15_000, "Europe/Paris", BROWSER_UA, {}),
    ("/contact", "", "", True, True, 2500, "Europe/London", FIREFOX_UA, {}),
)


class SeededSite:
    def __init__(self, hostname: str, website_id: str) -> None:
        self.hostname = hostname
        self.website_id = website_id


def _hit(base_url: str, body: dict[str, object], ua: str) -> None:
    response = httpx.post(
        f"{base_url}/api/event/hit",
        content=json.dumps(body),
        headers={"User-Agent": ua, "Content-Type": "text/plain", "Accept-Language": "en-GB,en;q=0.8"},
    )
    assert response.status_code in (200, 204), response.text


def medama_view(base_url: str, hostname: str, path: str, *, unique: bool, duration_ms: int | None) -> None:
    """One page load through Medama's tracker endpoint, with its unload beacon when `duration_ms` is given."""
    bid = f"seed{next(_bids)}"
    load = {
        "b": bid,
        "e": "load",
        "u": f"https://{hostname}{path}",
        "r": "",
        "p": unique,
        "q": unique,
        "t": "Europe/London",
    }
    _hit(base_url, load, BROWSER_UA)
    if duration_ms is not None:
        _hit(base_url, {"b": bid, "e": "unload", "m": duration_ms}, BROWSER_UA)


def seed_site(base_url: str, cookie_client: httpx.Client, hostname: str, rounds: int = 3) -> SeededSite:
    """Register `hostname` and send `rounds` times every page of PAGES, with durations and custom events."""
    assert cookie_client.post("/api/websites", json={"hostname": hostname}).status_code == 201
    for _ in range(rounds):
        for path, referrer, query, user, page, duration, zone, ua, props in PAGES:
            bid = f"seed{next(_bids)}"
            load = {
                "b": bid,
                "e": "load",
                "u": f"https://{hostname}{path}{query}",
                "r": referrer,
                "p": user,
                "q": page,
                "t": zone,
            }
            _hit(base_url, load, ua)
            if props:
                _hit(base_url, {"b": bid, "e": "custom", "g": hostname, "d": props}, ua)
            if duration is not None:
                _hit(base_url, {"b": bid, "e": "unload", "m": duration}, ua)
    key = cookie_client.post("/api/user/api-keys", json={"name": f"seed {hostname}"}).json()["key"]
    websites = httpx.get(
        f"{base_url}/umami/api/websites", headers={"x-umami-api-key": key}, params={"pageSize": 1000}
    ).json()
    website_id = next(w["id"] for w in websites["data"] if w["domain"] == hostname)
    # Umami-protocol hits: a page view, then a named event with data on it (same visit through the cache token).
    umami = {
        "website": website_id,
        "hostname": hostname,
        "url": "/signup?from=ad",
        "title": "Sign up",
        "language": "en-US",
    }
    sent = httpx.post(
        f"{base_url}/umami/api/send", json={"type": "event", "payload": umami}, headers={"User-Agent": BROWSER_UA}
    )
    assert sent.status_code == 200, sent.text
    event = {**umami, "name": "signup", "data": {"plan": "pro", "seats": 3}}
    sent = httpx.post(
        f"{base_url}/umami/api/send",
        json={"type": "event", "payload": event},
        headers={"User-Agent": BROWSER_UA, "x-umami-cache": sent.json()["cache"]},
    )
    assert sent.status_code == 200, sent.text
    return SeededSite(hostname, website_id)
