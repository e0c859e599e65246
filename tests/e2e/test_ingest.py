"""Ingestion end to end through the real server: ping, load → unload → custom, errors, CORS, shutdown flush."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
import httpx
import pytest

from tests.support.hits import make_custom, make_hit, make_unload
from tests.support.server import BROWSER_UA, logged_in_client, register_website

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB,en;q=0.9", "Content-Type": "text/plain;charset=UTF-8"}


@pytest.fixture
def admin(server: Server) -> Iterator[httpx.Client]:
    """A logged-in client (logged_in_client returns an already open httpx.Client)."""
    client = logged_in_client(server)
    yield client
    client.close()


def hit(server: Server, body: str | bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{server.base_url}/api/event/hit", content=body, headers=headers or HEADERS, timeout=10)


def test_load_unload_custom_are_stored_column_by_column(server: Server, admin: httpx.Client) -> None:
    register_website(admin, "example.com")
    before = datetime.now(UTC)
    load = make_hit(
        b="k3x9q1",
        u="https://example.com/blog/post/?utm_source=news&utm_medium=email&utm_campaign=spring#top",
        r="https://www.google.com/search?q=medama",
        t="Europe/Istanbul",
        d={"plan": "pro", "seats": 3, "trial": False},
    )
    assert hit(server, load).status_code == 204
    assert hit(server, make_unload("k3x9q1", 4321)).status_code == 204
    custom = make_custom("example.com", {"clicked": "signup", "n": 1}, bid="k3x9q1")
    json_headers = {**HEADERS, "Content-Type": "application/json"}
    assert hit(server, custom, json_headers).status_code == 204
    after = datetime.now(UTC)
    assert server.stop() == 0

    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        views = conn.execute("SELECT * FROM views").fetchall()
        events = conn.execute("SELECT * FROM events ORDER BY date_created, name").fetchall()
    assert len(views) == 1
    *columns, created = views[0]
    assert columns == [
        "k3x9q1",  # bid
        "example.com",  # hostname
        "/blog/post",  # pathname: one trailing slash removed, query and fragment not part of it
        True,  # is_unique_user
        False,  # is_unique_page
        "www.google.com",  # referrer_host, www. kept
        "Google",  # referrer_group
        "Türkiye",  # country
        "English",  # language_base
        "British English",  # language_dialect
        "Chrome",  # ua_browser
        "Windows",  # ua_os
        "Desktop",  # ua_device_type
        "news",  # utm_source
        "email",  # utm_medium
        "spring#top",  # utm_campaign keeps the fragment (request-URI parsing)
        4321,  # duration_ms
    ]
    assert before <= created <= after
    load_batch, custom_batch = events[0][0], events[-1][0]
    assert load_batch != custom_batch
    assert [(*row[:4], row[5]) for row in events] == [
        (load_batch, "example.com", "plan", "pro", "k3x9q1"),
        (load_batch, "example.com", "seats", "3", "k3x9q1"),
        (load_batch, "example.com", "trial", "false", "k3x9q1"),
        (custom_batch, "example.com", "clicked", "signup", "k3x9q1"),
        (custom_batch, "example.com", "n", "1", "k3x9q1"),
    ]


def test_ping_protocol(server: Server) -> None:
    first = httpx.get(f"{server.base_url}/api/event/ping?u=example.com%2F")
    assert first.status_code == 200
    assert first.text == "0"
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["content-type"] == "text/plain; charset=utf-8"
    assert "x-api-commit" not in first.headers
    today = first.headers["last-modified"]
    assert today.endswith(" 00:00:00 GMT")
    again = httpx.get(f"{server.base_url}/api/event/ping", headers={"If-Modified-Since": today})
    assert again.text == "1"
    assert again.headers["last-modified"] == today
    assert 0 <= int(again.headers["cache-control"].removeprefix("max-age=")) <= 86400
    bad = httpx.get(f"{server.base_url}/api/event/ping", headers={"If-Modified-Since": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == 400


def test_statuses(server: Server, admin: httpx.Client) -> None:
    register_website(admin, "example.com")
    load = make_hit(b="b1", u="https://unknown.example/", r=..., q=True)
    not_found = hit(server, load)
    assert not_found.status_code == 404
    assert not_found.json() == {"error": {"code": 404, "message": "website not found"}}
    assert hit(server, '{"b":"b1","e":"unload","m":0}').status_code == 400
    assert hit(server, '{"b":"b1","e":"unload","m":4294967296}').status_code == 400
    empty = hit(server, '{"e":"custom","g":"example.com","d":{}}')
    assert empty.json() == {"error": {"code": 400, "message": "invalid custom property"}}
    assert hit(server, "").status_code == 400
    assert hit(server, "{}", {**HEADERS, "Content-Type": "text/xml"}).status_code == 415
    no_type = httpx.post(f"{server.base_url}/api/event/hit", content=b"{}", headers={"User-Agent": BROWSER_UA})
    assert no_type.status_code == 400
    too_big = hit(server, '{"e":"custom","g":"example.com","d":{"a":"' + "x" * 70_000 + '"}}')
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == 413
    wrong_method = httpx.get(f"{server.base_url}/api/event/hit")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    # Non-browser clients are dropped silently, as Medama does.
    curl = {"User-Agent": "curl/8.5.0", "Content-Type": "text/plain"}
    assert hit(server, make_hit(b="b1", u="https://example.com/", r=..., q=True), curl).status_code == 204


def test_cors_for_a_tracker_on_another_origin(server: Server) -> None:
    origin = {"Origin": "https://blog.example.org"}
    preflight = httpx.options(
        f"{server.base_url}/api/event/hit",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    response = hit(server, make_unload("x", 5), {**HEADERS, **origin})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.content == b""
    ping = httpx.get(f"{server.base_url}/api/event/ping", headers=origin)
    assert ping.headers["access-control-allow-origin"] == "*"


def hit_from(server: Server, source: str, body: bytes) -> httpx.Response:
    """A hit sent from another loopback address (127.0.0.0/8 all work on Linux): a client of its own."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), headers=HEADERS, timeout=10) as client:
        return client.post(f"{server.base_url}/api/event/hit", content=body)


def test_blocked_ips_apply_at_once_and_clearing_unblocks(server: Server, admin: httpx.Client) -> None:
    register_website(admin, "example.com")

    def body(bid: str) -> bytes:
        return make_hit(b=bid, u="https://example.com/", r=..., q=True)

    settings = admin.patch("/api/tenant/settings", json={"blockedIPs": ["127.0.0.9"]})
    assert settings.status_code == 200
    assert hit_from(server, "127.0.0.9", body("blocked")).status_code == 204
    assert hit(server, body("local"), HEADERS).status_code == 204  # loopback is never blocked by presets
    assert admin.patch("/api/tenant/settings", json={"blockedIPs": []}).status_code == 200
    assert hit_from(server, "127.0.0.9", body("unblocked")).status_code == 204
    assert server.stop() == 0
    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        bids = sorted(row[0] for row in conn.execute("SELECT bid FROM views").fetchall())
    assert bids == ["local", "unblocked"]


def test_sigterm_flushes_and_a_fresh_user_sees_rows(server: Server, admin: httpx.Client) -> None:
    register_website(admin, "shop.example")
    with httpx.Client(base_url=server.base_url, headers=HEADERS) as client:
        for i in range(50):
            body = make_hit(b=f"s{i}", u=f"https://shop.example/p/{i}", r=..., q=True, t="Europe/Paris")
            assert client.post("/api/event/hit", content=body).status_code == 204
    summary = admin.get("/api/websites", params={"summary": "true"})
    assert summary.status_code == 200
    assert {"hostname": "shop.example", "summary": {"visitors": 50}} in summary.json()
    assert server.stop() == 0
    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT bid) FROM views").fetchone() == (50, 50)
