"""POST /umami/api/send and /umami/api/batch against the real server (docs/umami.md "Collection").

Numbers are read back through the Medama API and the stored rows; Medama's own tables keep their columns.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from contextlib import closing
from typing import TYPE_CHECKING, Any

import duckdb
import httpx
import pytest

from medama_py.storage.analytics_file import VIEWS_COLUMNS
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

NODE_UA = "Mozilla/5.0 Umami/v20.11.0"
SEND = "/umami/api/send"
_sites = itertools.count()
EVENTS_COLUMNS = ("batch_id", "group_name", "name", "value", "date_created", "bid")
BATCH = "/umami/api/batch"


def website_uuid(server: Server, hostname: str) -> str:
    with closing(sqlite3.connect(server.appdb)) as conn:
        row = conn.execute("SELECT uuid FROM website_uuids WHERE hostname = ?", (hostname,)).fetchone()
    assert row is not None, hostname
    return str(row[0])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The test client on 127.0.0.1 stands for a proxy, so X-Forwarded-For can name other visitors.
    with running_server(tmp_path_factory.mktemp("umami") / "data", "-trustedproxies", "127.0.0.1") as running:
        yield running


@pytest.fixture(scope="module")
def admin(server: Server) -> Iterator[httpx.Client]:
    with closing(logged_in_client(server)) as client:
        yield client


@pytest.fixture
def site(server: Server, admin: httpx.Client) -> tuple[str, str]:
    """A fresh website (hostname, uuid) per test."""
    hostname = f"site-{next(_sites)}.example"
    register_website(admin, hostname)
    return hostname, website_uuid(server, hostname)


def send(server: Server, payload: dict[str, Any], *, kind: str = "event", **headers: str) -> httpx.Response:
    merged = {"User-Agent": NODE_UA, **headers}
    return httpx.post(f"{server.base_url}{SEND}", json={"type": kind, "payload": payload}, headers=merged, timeout=10)


def stored(server: Server, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of the analytics file, read after the server stopped (DuckDB locks the file while it runs)."""
    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def summary(admin: httpx.Client, hostname: str) -> dict[str, Any]:
    response = admin.get(f"/api/website/{hostname}/summary")
    assert response.status_code == 200, response.text
    current: dict[str, Any] = response.json()["current"]
    return current


def test_page_view_answers_a_visit_token_and_shows_in_medama(
    server: Server, admin: httpx.Client, site: tuple[str, str]
) -> None:
    hostname, uuid = site
    first = send(server, {"website": uuid, "hostname": hostname, "url": "/pricing?utm_source=news", "title": "Pricing"})
    assert first.status_code == 200, first.text
    answer = first.json()
    assert set(answer) == {"cache", "sessionId", "visitId"}
    assert answer["sessionId"] == answer["visitId"]  # an anonymous visit is its own session
    assert first.headers["access-control-allow-origin"] == "*"

    again = send(server, {"website": uuid, "hostname": hostname, "url": "/docs"}, **{"x-umami-cache": answer["cache"]})
    assert again.json()["visitId"] == answer["visitId"]  # the token continues the visit

    current = summary(admin, hostname)
    assert (current["pageviews"], current["visitors"]) == (2, 1)
    pages = {row["path"]: row["visitors"] for row in admin.get(f"/api/website/{hostname}/pages").json()}
    assert set(pages) == {"/pricing", "/docs"}
    sources = admin.get(f"/api/website/{hostname}/sources").json()
    assert [row["source"] for row in sources if row["source"]] == ["news"]


def test_forged_or_foreign_tokens_start_a_new_visit(server: Server, admin: httpx.Client, site: tuple[str, str]) -> None:
    hostname, uuid = site
    real = send(server, {"website": uuid, "url": "/"}).json()
    forged = real["cache"][:-2] + ("AA" if not real["cache"].endswith("AA") else "BB")
    for token in (forged, "not-a-token", "x" * 5000, ""):
        answer = send(server, {"website": uuid, "url": "/"}, **{"x-umami-cache": token})
        assert answer.status_code == 200
        assert answer.json()["visitId"] != real["visitId"]
    # A token of another site starts a new visit on this one.
    other_host = f"other-{hostname}"
    register_website(admin, other_host)
    other = send(server, {"website": website_uuid(server, other_host), "url": "/"}).json()
    answer = send(server, {"website": uuid, "url": "/"}, **{"x-umami-cache": other["cache"]}).json()
    assert answer["visitId"] != other["visitId"]
    assert summary(admin, hostname)["visitors"] == 6


def test_distinct_ids_name_the_session_and_count_one_visitor_a_day(
    server: Server, admin: httpx.Client, site: tuple[str, str]
) -> None:
    hostname, uuid = site
    answers = [send(server, {"website": uuid, "url": f"/p{i}", "id": "user-42"}).json() for i in range(3)]
    assert len({a["sessionId"] for a in answers}) == 1
    assert len({a["visitId"] for a in answers}) == 3  # no token: each hit is a visit of its own
    other = send(server, {"website": uuid, "url": "/p0", "id": "user-43"}).json()
    assert other["sessionId"] != answers[0]["sessionId"]
    current = summary(admin, hostname)
    assert (current["pageviews"], current["visitors"]) == (4, 2)


def test_custom_events_become_medama_properties(server: Server, admin: httpx.Client, site: tuple[str, str]) -> None:
    hostname, uuid = site
    view = send(server, {"website": uuid, "url": "/"}).json()
    payload = {"website": uuid, "url": "/", "name": "signup", "data": {"plan": "pro", "seats": 3, "trial": True}}
    assert send(server, payload, **{"x-umami-cache": view["cache"]}).status_code == 200
    assert send(server, payload | {"name": "later"}, **{"x-umami-cache": view["cache"]}).status_code == 200
    # Without a token the event belongs to no page view: stored, but Medama's report counts only linked events.
    assert send(server, payload | {"data": None}).status_code == 200
    properties = {row["name"]: row["events"] for row in admin.get(f"/api/website/{hostname}/properties").json()}
    assert properties == {"event": 2, "plan": 2, "seats": 2, "trial": 2}
    values = admin.get(f"/api/website/{hostname}/properties", params={"prop_name[eq]": "event"}).json()
    assert {(row.get("value"), row["events"]) for row in values} == {("signup", 1), ("later", 1)}
    assert summary(admin, hostname)["pageviews"] == 1  # events are not page views


def test_checks_run_in_umamis_order(server: Server, admin: httpx.Client, site: tuple[str, str]) -> None:
    hostname, uuid = site
    unknown = "00000000-0000-4000-8000-000000000000"
    # Body shape first, even for a bot.
    assert send(server, {"website": "nope"}, **{"User-Agent": "curl/8.0"}).status_code == 400
    # Then the website, even for a bot.
    missing = send(server, {"website": unknown, "url": "/"}, **{"User-Agent": "curl/8.0"})
    assert missing.status_code == 400
    assert missing.json() == {"error": {"message": "Website not found.", "code": "bad-request", "status": 400}}
    # Then bots: beep boop, nothing stored.
    for agent in ("curl/8.0", "python-requests/2.32", "Googlebot/2.1", f"{BROWSER_UA} HeadlessChrome/120"):
        bot = send(server, {"website": uuid, "url": "/"}, **{"User-Agent": agent})
        assert (bot.status_code, bot.json()) == (200, {"beep": "boop"})
    # Then the block list: 403 with Umami's envelope.
    assert admin.patch("/api/tenant/settings", json={"blockedIPs": ["203.0.113.9"]}).status_code in (200, 204)
    try:
        blocked = send(server, {"website": uuid, "url": "/"}, **{"X-Forwarded-For": "203.0.113.9"})
        assert blocked.status_code == 403
        assert blocked.json()["error"]["code"] == "forbidden"
        assert send(
            server, {"website": uuid, "url": "/"}, **{"User-Agent": "curl/8", "X-Forwarded-For": "203.0.113.9"}
        ).json() == {"beep": "boop"}
    finally:
        admin.patch("/api/tenant/settings", json={"blockedIPs": []})
    assert summary(admin, hostname)["pageviews"] == 0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "x" * 51}, "name"),
        ({"hostname": "h" * 101}, "hostname"),
        ({"screen": "1" * 12}, "screen"),
        ({"timestamp": 4102444800}, "future"),
        ({"timestamp": 1}, "days old"),
        ({"url": 5}, "url"),
        ({"data": [1, 2]}, "data"),
        ({"url": "http://[::1/"}, "URL"),
    ],
)
def test_bad_payloads_are_400(server: Server, site: tuple[str, str], payload: dict[str, Any], message: str) -> None:
    response = send(server, {"website": site[1], "url": "/"} | payload)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_unknown_keys_types_and_performance(server: Server, admin: httpx.Client, site: tuple[str, str]) -> None:
    hostname, uuid = site
    extra = {"website": uuid, "url": "/", "session": "abc", "duration": 5, "ip": "1.2.3.4", "nonsense": {"a": [1]}}
    assert send(server, extra).status_code == 200
    assert send(server, {"website": uuid}, kind="performance").json() == {}
    wrong = httpx.post(f"{server.base_url}{SEND}", json={"type": "pageview", "payload": {"website": uuid}})
    assert wrong.status_code == 400
    assert summary(admin, hostname)["pageviews"] == 1


def test_text_plain_bodies_and_preflight(server: Server, site: tuple[str, str]) -> None:
    body = '{"type":"event","payload":{"website":"' + site[1] + '","url":"/"}}'
    plain = httpx.post(
        f"{server.base_url}{SEND}", content=body, headers={"Content-Type": "text/plain", "User-Agent": NODE_UA}
    )
    assert plain.status_code == 200
    preflight = httpx.options(
        f"{server.base_url}{SEND}",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,x-umami-cache"},
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-headers"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    assert preflight.headers["access-control-max-age"] == "86400"
    assert httpx.get(f"{server.base_url}{SEND}").status_code == 405
    huge = httpx.post(f"{server.base_url}{SEND}", content=b"{" + b" " * 70_000 + b"}")
    assert huge.status_code == 413


def test_batch_answers_each_item(server: Server, admin: httpx.Client, site: tuple[str, str]) -> None:
    hostname, uuid = site
    items = [
        {"type": "event", "payload": {"website": uuid, "url": "/a"}},
        {"type": "event", "payload": {"website": "bad"}},
        {"type": "event", "payload": {"website": uuid, "url": "/b", "name": "click"}},
        {"type": "identify", "payload": {"website": uuid, "id": "u1", "data": {"plan": "pro"}}},
    ]
    response = httpx.post(f"{server.base_url}{BATCH}", json=items, headers={"User-Agent": NODE_UA})
    assert response.status_code == 200
    answer = response.json()
    assert (answer["size"], answer["processed"], answer["errors"]) == (4, 3, 1)
    assert answer["details"][0]["index"] == 1
    assert answer["details"][0]["response"]["error"]["status"] == 400
    assert isinstance(answer["cache"], str)
    assert httpx.post(f"{server.base_url}{BATCH}", json={"not": "a list"}).status_code == 400
    assert summary(admin, hostname)["pageviews"] == 1


def test_backfilled_timestamp_lands_on_its_day(server: Server, admin: httpx.Client, site: tuple[str, str]) -> None:
    hostname, uuid = site
    two_days_ago = int(time.time()) - 2 * 86400
    assert send(server, {"website": uuid, "url": "/old", "timestamp": two_days_ago}).status_code == 200
    day = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(two_days_ago))
    end = time.strftime("%Y-%m-%dT23:59:59Z", time.gmtime(two_days_ago))
    on_day = admin.get(f"/api/website/{hostname}/summary", params={"start": day, "end": end}).json()["current"]
    assert on_day["pageviews"] == 1


def test_stored_rows_and_medama_tables_unchanged(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server, closing(logged_in_client(server)) as admin:
        register_website(admin, "rows.example")
        uuid = website_uuid(server, "rows.example")
        view = send(server, {"website": uuid, "hostname": "www.rows.example", "url": "https://www.rows.example/a?x=1#top",
                             "referrer": "https://www.news.example/story?id=7", "title": "A", "screen": "390x844",
                             "language": "de-DE", "tz": "Europe/Berlin", "tag": "v2"},
                    **{"User-Agent": BROWSER_UA}).json()  # fmt: skip
        send(
            server,
            {"website": uuid, "url": "/b", "referrer": "https://rows.example/a"},
            **{"x-umami-cache": view["cache"]},
        )
        cart = {"cart": {"total": 9.5, "items": [1, 2]}, "at": "2026-01-02"}
        send(server, {"website": uuid, "url": "/b", "name": "buy", "data": cart}, **{"x-umami-cache": view["cache"]})
    views = stored(
        server,
        "SELECT pathname, referrer_host, referrer_group, country, language_base, ua_browser, ua_device_type,"
        " duration_ms IS NOT NULL FROM views ORDER BY date_created",
    )
    assert views[0] == ("/a#top", "www.news.example", "", "Germany", "German", "Chrome", "Desktop", True)
    assert views[1][:3] == ("/b", "", "")  # same-origin referrer is not a referrer
    # umami_hits keeps what `views` does not: the rest comes from the page view it names (docs/umami.md).
    hits = stored(
        server,
        "SELECT h.event_type, h.event_name, h.hostname, h.site, h.url_path, h.url_query, h.page_title,"
        " v.referrer_host, h.referrer_path, h.referrer_query, h.screen, h.language, h.tag, v.is_unique_user,"
        " v.ua_browser FROM umami_hits AS h LEFT JOIN views AS v ON v.bid = h.bid ORDER BY h.date_created",
    )
    # The reported hostname is the site's own without "www.", so it is not repeated.
    assert hits[0] == (
        *(1, None, None, "rows.example", "/a#top", "x=1", "A", "www.news.example", "/story", "id=7"),
        *("390x844", "de-DE", "v2", True, "Chrome"),
    )
    # The custom event sent with the first page's token is linked to that page view and its events batch.
    assert hits[2][:2] == (2, "buy")
    assert hits[2][-1] == "Chrome"
    links = stored(server, "SELECT bid, batch_id FROM umami_hits ORDER BY date_created")
    batches = stored(server, "SELECT DISTINCT batch_id, bid FROM events WHERE name = 'event' AND value = 'buy'")
    assert batches == [(links[2][1], links[0][0])]
    assert {row[0] for row in stored(server, "SELECT event_id FROM umami_event_data")} == {links[2][1]}
    data = stored(
        server, "SELECT data_key, data_type, string_value, number_value FROM umami_event_data ORDER BY data_key"
    )
    assert data == [("at", 4, "2026-01-02", None), ("cart.items", 5, "[1,2]", None), ("cart.total", 2, "9.5", 9.5)]
    # Medama's tables keep exactly their columns, in their order.
    for table, expected in (("views", VIEWS_COLUMNS), ("events", EVENTS_COLUMNS)):
        names = stored(
            server,
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            (table,),
        )
        assert tuple(name for (name,) in names) == expected


def test_umami_script_is_served_with_medamas_script_caching(server: Server) -> None:
    script = httpx.get(f"{server.base_url}/umami/script.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=21600, stale-while-revalidate=86400"
    assert "umami" in script.text
    again = httpx.get(f"{server.base_url}/umami/script.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
