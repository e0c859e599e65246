"""Umami-collected hits are grouped into the sessions and visits the collector gave them, Medama's page views
keep theirs (a page load each): hits sent through /umami/api/send with tokens, distinct ids and timestamps,
and by the real @umami/node, read back with the real @umami/api-client. Every expected number is worked out
by hand in the comments (docs/umami.md, "Sessions and visits")."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.e2e.test_umami_node import CLIENT as NODE_CLIENT
from tests.e2e.test_umami_node import _node as installed_node
from tests.support.server import BROWSER_UA
from tests.umami.seed import medama_view
from tests.umami.test_api_client import installed_client, run_client

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.server import Server

__all__ = ["installed_client"]  # a fixture, used by name


def _website(cookie_client: httpx.Client, umami: httpx.Client, hostname: str) -> str:
    assert cookie_client.post("/api/websites", json={"hostname": hostname}).status_code == 201
    websites = umami.get("/websites", params={"pageSize": 1000}).json()["data"]
    website: str = next(w["id"] for w in websites if w["domain"] == hostname)
    return website


def _first_second() -> int:
    """A start, in unix seconds, such that the next 400 s lie in one UTC day and before now."""
    now = int(time.time())
    start = now - 500
    if start // 86_400 != now // 86_400:
        start = (now // 86_400) * 86_400 - 1_000  # the previous day, wholly
    return start


class Sender:
    """POST /umami/api/send for one website, keeping each answer's ids."""

    def __init__(self, base_url: str, website: str) -> None:
        self.url = f"{base_url}/umami/api/send"
        self.website = website

    def send(self, at: int, cache: str | None = None, **payload: Any) -> dict[str, str]:
        headers = {"User-Agent": BROWSER_UA, **({"x-umami-cache": cache} if cache else {})}
        body = {"type": "event", "payload": {"website": self.website, "timestamp": at, **payload}}
        response = httpx.post(self.url, json=body, headers=headers)
        assert response.status_code == 200, response.text
        answer: dict[str, str] = response.json()
        return answer


@pytest.fixture(scope="module")
def visits_site(umami_server: Server, cookie_client: httpx.Client, umami: httpx.Client) -> dict[str, Any]:
    """Four Umami sessions and two Medama page views; see each hit's comment."""
    website = _website(cookie_client, umami, "visits.example")
    t0 = _first_second()
    s = Sender(umami_server.base_url, website)
    a1 = s.send(t0, url="/home")  # new visit VA = session SA; a new visitor
    a2 = s.send(t0 + 20, a1["cache"], url="/pricing")  # same visit; a1 lasted 20 s
    a3 = s.send(t0 + 25, a2["cache"], url="/pricing", name="click")  # a custom event of VA
    a4 = s.send(t0 + 65, a3["cache"], url="/signup")  # same visit; a2 lasted 45 s; a4's length unknown
    b1 = s.send(t0 + 100, url="/home")  # visit VB = session SB, one page view: a bounce; a new visitor
    c1 = s.send(t0 + 200, url="/docs", id="u-7")  # session D (the distinct id), visit VC1; a new visitor
    c2 = s.send(t0 + 230, c1["cache"], url="/docs/api", id="u-7")  # same visit; c1 lasted 30 s
    c3 = s.send(t0 + 300, url="/docs", id="u-7", name="search")  # no token: new visit VC2 of D, not a new visitor
    d1 = s.send(t0 + 310, url="/hook", name="webhook")  # an event-only session SE = VE; a new visitor
    medama_view(umami_server.base_url, "visits.example", "/home", unique=True, duration_ms=3_000)  # a bounce
    medama_view(umami_server.base_url, "visits.example", "/pricing", unique=False, duration_ms=60_000)
    window = {"startAt": (t0 - 1) * 1000, "endAt": int(time.time() * 1000) + 3_600_000}
    return {"website": website, "t0": t0, "window": window, "a": (a1, a2, a3, a4), "b": b1, "c": (c1, c2, c3), "d": d1}


def _get(umami: httpx.Client, route: str, **params: Any) -> Any:
    response = umami.get(route, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_tokens_and_distinct_ids_make_the_sessions_and_visits(visits_site: dict[str, Any]) -> None:
    a1, a2, a3, a4 = visits_site["a"]
    c1, c2, c3 = visits_site["c"]
    assert a1["sessionId"] == a1["visitId"] == a2["visitId"] == a3["visitId"] == a4["visitId"]
    assert c1["sessionId"] == c2["sessionId"] == c3["sessionId"] != c1["visitId"]
    assert c1["visitId"] == c2["visitId"] != c3["visitId"]


def test_stats_count_umami_visits_and_medama_page_loads(
    umami: httpx.Client, cookie_client: httpx.Client, visits_site: dict[str, Any]
) -> None:
    base, window = f"/websites/{visits_site['website']}", visits_site["window"]
    stats = _get(umami, f"{base}/stats", **window)
    # 6 Umami page views (a1 a2 a4 b1 c1 c2) + 2 Medama; visitors: a1 b1 c1 + the first Medama view.
    # Visits: VA VB VC1 (the ones with page views) + 2 Medama page loads. Bounces: VB (one page view) and the
    # 3-second Medama view. Total time: 20 + 45 + 30 (Umami pages) + 3 + 60 (Medama) = 158 s.
    assert {k: v for k, v in stats.items() if k != "comparison"} == {
        "pageviews": 8,
        "visitors": 4,
        "visits": 5,
        "bounces": 2,
        "totaltime": 158,
    }
    start = datetime.fromtimestamp(window["startAt"] / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = datetime.fromtimestamp(window["endAt"] / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = cookie_client.get("/api/website/visits.example/summary", params={"start": start, "end": end})
    assert (summary.json()["current"]["pageviews"], summary.json()["current"]["visitors"]) == (8, 4)
    sessions = _get(umami, f"{base}/sessions/stats", **window)
    # Visitors: the 4 above + SE, whose only hit is a custom event. Visits: 2 Medama + VA VB VC1 VC2 VE.
    assert {k: v["value"] for k, v in sessions.items()} == {
        "pageviews": 8,
        "visitors": 5,
        "visits": 7,
        "countries": 1,  # the Medama views' Europe/London; Umami hits sent no time zone
        "events": 3,
    }
    events = _get(umami, f"{base}/events/stats", **window)["data"]
    # click (VA, SA), search (VC2, D), webhook (VE, SE): three visits of three sessions.
    assert {k: v for k, v in events.items() if k != "comparison"} == {
        "events": 3,
        "visitors": 3,
        "visits": 3,
        "uniqueEvents": 3,
    }
    year = {"startAt": window["endAt"] - 40 * 86_400_000, "endAt": window["endAt"]}
    series = _get(umami, f"{base}/pageviews", unit="day", **year)
    # Sessions with a page view: SA, SB, D (each within one day) + the 2 Medama page loads.
    assert sum(p["y"] for p in series["pageviews"]) == 8
    assert sum(p["y"] for p in series["sessions"]) == 5


def _all_sessions(umami: httpx.Client, base: str, window: dict[str, int], size: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = _get(umami, f"{base}/sessions", page=page, pageSize=size, **window)
        rows.extend(body["data"])
        if page * size >= body["count"]:
            assert len(rows) == body["count"] == 6
            return rows
        page += 1


@pytest.mark.parametrize("page_size", [1, 2, 4, 100])
def test_sessions_list_pages_umami_sessions_and_medama_page_loads(
    umami: httpx.Client, visits_site: dict[str, Any], page_size: int
) -> None:
    base, window = f"/websites/{visits_site['website']}", visits_site["window"]
    a1, c1, c3, d1, b1 = (
        visits_site["a"][0],
        visits_site["c"][0],
        visits_site["c"][2],
        visits_site["d"],
        visits_site["b"],
    )
    rows = _all_sessions(umami, base, window, page_size)
    assert len({r["id"] for r in rows}) == 6
    # Newest first by first hit: the two Medama page loads (sent last), then SE, D, SB, SA.
    assert [r["id"] for r in rows[2:]] == [d1["sessionId"], c1["sessionId"], b1["sessionId"], a1["sessionId"]]
    by_id = {r["id"]: r for r in rows}
    numbers = {sid: (r["visits"], r["views"], r["events"], r["totaltime"]) for sid, r in by_id.items()}
    assert numbers[a1["sessionId"]] == (1, 3, 1, 65)
    assert numbers[b1["sessionId"]] == (1, 1, 0, 0)
    assert numbers[c1["sessionId"]] == (2, 2, 1, 30)
    assert numbers[d1["sessionId"]] == (1, 0, 1, 0)
    medama = [
        r for sid, r in by_id.items() if sid not in {a1["sessionId"], b1["sessionId"], c1["sessionId"], d1["sessionId"]}
    ]
    assert sorted((r["visits"], r["views"], r["totaltime"]) for r in medama) == [(1, 1, 3), (1, 1, 60)]
    assert by_id[c1["sessionId"]]["visitId"] == c3["visitId"]  # its latest visit
    t0 = visits_site["t0"]
    assert by_id[a1["sessionId"]]["firstAt"] == datetime.fromtimestamp(t0, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert by_id[a1["sessionId"]]["lastAt"] == datetime.fromtimestamp(t0 + 65, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    # Σ visits and Σ views over the list are the session stats' visits and page views.
    assert sum(r["visits"] for r in rows) == 7
    assert sum(r["views"] for r in rows) == 8


def test_one_session_and_its_activity(umami: httpx.Client, visits_site: dict[str, Any]) -> None:
    base = f"/websites/{visits_site['website']}"
    a1 = visits_site["a"][0]
    session = _get(umami, f"{base}/sessions/{a1['sessionId']}")
    assert (session["visits"], session["views"], session["events"], session["totaltime"]) == (1, 3, 1, 65)
    activity = _get(umami, f"{base}/sessions/{a1['sessionId']}/activity")
    assert [(x["eventType"], x["urlPath"], x["eventName"]) for x in activity] == [
        (1, "/signup", None),
        (2, "/pricing", "click"),
        (1, "/pricing", None),
        (1, "/home", None),
    ]
    assert {x["visitId"] for x in activity} == {a1["visitId"]}


def test_events_carry_their_session_and_visit(umami: httpx.Client, visits_site: dict[str, Any]) -> None:
    base, window = f"/websites/{visits_site['website']}", visits_site["window"]
    events = _get(umami, f"{base}/events", pageSize=100, **window)["data"]
    assert len(events) == 11
    custom = {e["eventName"]: (e["sessionId"], e["visitId"]) for e in events if e["eventType"] == 2}
    a3, c3, d1 = visits_site["a"][2], visits_site["c"][2], visits_site["d"]
    assert custom == {
        "click": (a3["sessionId"], a3["visitId"]),
        "search": (c3["sessionId"], c3["visitId"]),
        "webhook": (d1["sessionId"], d1["visitId"]),
    }
    views = [e for e in events if e["eventType"] == 1 and e["sessionId"] == a3["sessionId"]]
    assert sorted(e["urlPath"] for e in views) == ["/home", "/pricing", "/signup"]


def test_the_api_client_reads_the_same_numbers(
    installed_client: Path, umami_server: Server, api_key: str, visits_site: dict[str, Any]
) -> None:
    window = visits_site["window"]
    read = run_client(
        umami_server.base_url, api_key, "key", visits_site["website"], (window["startAt"], window["endAt"])
    )
    stats = read["getWebsiteStats"]
    assert (stats["pageviews"], stats["visitors"], stats["visits"], stats["bounces"], stats["totaltime"]) == (
        8,
        4,
        5,
        2,
        158,
    )
    assert read["getWebsiteSessionStats"]["visits"]["value"] == 7
    assert read["getWebsiteSessions"]["count"] == 6
    assert read["getWebsiteEventStats"]["data"]["visits"] == 3


def test_umami_node_hits_read_back_through_the_api_client(
    installed_client: Path, umami_server: Server, cookie_client: httpx.Client, umami: httpx.Client, api_key: str
) -> None:
    website = _website(cookie_client, umami, "node-read.example")
    subprocess.run(
        [installed_node(), "drive.mjs", f"{umami_server.base_url}/umami", website],
        cwd=NODE_CLIENT,
        capture_output=True,
        timeout=60,
        check=True,
    )
    now = int(time.time() * 1000)
    read = run_client(umami_server.base_url, api_key, "key", website, (now - 3_600_000, now + 3_600_000))
    # drive.mjs: 3 page views without an id (3 sessions and visits), 2 page views and an event of user-1 (one
    # session, 3 visits: no cache token), 2 `signup` events without an id (2 event-only sessions), identify.
    stats = read["getWebsiteStats"]
    assert (stats["pageviews"], stats["visitors"], stats["visits"], stats["bounces"], stats["totaltime"]) == (
        5,
        4,
        5,
        5,
        0,
    )
    numbers = {k: v["value"] for k, v in read["getWebsiteSessionStats"].items()}
    assert numbers == {"pageviews": 5, "visitors": 6, "visits": 8, "countries": 0, "events": 3}
    sessions = read["getWebsiteSessions"]
    assert sessions["count"] == 6
    assert sorted((s["visits"], s["views"], s["events"]) for s in sessions["data"]) == [
        (1, 0, 1),
        (1, 0, 1),
        (1, 1, 0),
        (1, 1, 0),
        (1, 1, 0),
        (3, 2, 1),
    ]
    assert read["getWebsiteEventStats"]["data"]["visitors"] == 3  # user-1 and the two signup sessions


def test_filters_keep_the_hits_every_route_keeps(umami: httpx.Client, visits_site: dict[str, Any]) -> None:
    base, window = f"/websites/{visits_site['website']}", {**visits_site["window"], "path": "eq./pricing"}
    a2, a3 = visits_site["a"][1], visits_site["a"][2]
    # /pricing: a2 (its click a3 happened on it) and the second Medama view (60 s).
    stats = _get(umami, f"{base}/stats", **window)
    # Visits: VA (one /pricing view, so a bounce by Umami's rule) + the Medama view; time 45 + 60 s.
    assert {k: v for k, v in stats.items() if k != "comparison"} == {
        "pageviews": 2,
        "visitors": 0,
        "visits": 2,
        "bounces": 1,
        "totaltime": 105,
    }
    assert _get(umami, f"{base}/sessions/stats", **window)["visits"]["value"] == 2
    sessions = _get(umami, f"{base}/sessions", **window)
    assert sessions["count"] == 2
    umami_session = next(s for s in sessions["data"] if s["id"] == a2["sessionId"])
    assert (umami_session["visits"], umami_session["views"], umami_session["events"]) == (1, 1, 1)
    assert umami_session["visitId"] == a3["visitId"]


def test_entry_and_exit_pages_are_each_visits_first_and_last(umami: httpx.Client, visits_site: dict[str, Any]) -> None:
    base, window = f"/websites/{visits_site['website']}", visits_site["window"]
    # Visits with page views: VA /home → /pricing → /signup (a1's flag), VB /home (b1's), VC1 /docs → /docs/api
    # (c1's); the Medama page loads are visits of one page: /home (a flag), /pricing (none). y is the flags the
    # visits hold, so each list adds up to /stats' visitors (4).
    entry = _get(umami, f"{base}/metrics", type="entry", **window)
    assert [(m["x"], m["y"]) for m in entry] == [("/home", 3), ("/docs", 1), ("/pricing", 0)]
    exits = _get(umami, f"{base}/metrics", type="exit", **window)
    assert [(m["x"], m["y"]) for m in exits] == [("/home", 2), ("/docs/api", 1), ("/signup", 1), ("/pricing", 0)]
    # Expanded entry: the visits that began there with their page views, bounces and time. /home: VA (3 views,
    # 65 s), VB (1 view, a bounce), the 3-second Medama load (a bounce); /docs: VC1 (2 views, 30 s); /pricing:
    # the 60-second Medama load. The sums are /stats' numbers: 8 page views, 5 visits, 2 bounces, 158 s.
    expanded = _get(umami, f"{base}/metrics/expanded", type="entry", **window)
    fields = ("name", "visitors", "pageviews", "visits", "bounces", "totaltime")
    assert [tuple(m[f] for f in fields) for m in expanded] == [
        ("/home", 3, 5, 3, 2, 68),
        ("/docs", 1, 2, 1, 0, 30),
        ("/pricing", 0, 1, 1, 0, 60),
    ]


def test_expanded_metrics_count_umami_visits_once_per_value(umami: httpx.Client, visits_site: dict[str, Any]) -> None:
    base, window = f"/websites/{visits_site['website']}", visits_site["window"]
    rows = _get(umami, f"{base}/metrics/expanded", type="path", **window)
    numbers = {m["name"]: (m["pageviews"], m["visits"], m["bounces"], m["totaltime"]) for m in rows}
    # /home: a1 (VA, 20 s), b1 (VB, alone in its visit: a bounce), the 3-second Medama load (a bounce).
    # /pricing: a2 (VA, 45 s) and the 60-second Medama load. VA's /signup, VC1's /docs (30 s) and /docs/api.
    assert numbers == {
        "/home": (3, 3, 2, 23),
        "/pricing": (2, 2, 0, 105),
        "/signup": (1, 1, 0, 0),
        "/docs": (1, 1, 0, 30),
        "/docs/api": (1, 1, 0, 0),
    }
    # One browser for every hit: its row is /stats.
    (browser,) = _get(umami, f"{base}/metrics/expanded", type="browser", **window)
    assert (browser["pageviews"], browser["visitors"], browser["visits"], browser["bounces"]) == (8, 4, 5, 2)
    assert browser["totaltime"] == 158
    # Filtered to /pricing, VA keeps one page view: a bounce by Umami's rule, as /stats says with the filter.
    (pricing,) = _get(umami, f"{base}/metrics/expanded", type="path", path="eq./pricing", **window)
    assert (pricing["pageviews"], pricing["visits"], pricing["bounces"], pricing["totaltime"]) == (2, 2, 1, 105)


@pytest.fixture(scope="module")
def live_site(umami_server: Server, cookie_client: httpx.Client, umami: httpx.Client) -> dict[str, Any]:
    """Hits of the last minutes: an Umami session seen 10 and 2 minutes ago, one 30 s ago, two Medama loads now."""
    website = _website(cookie_client, umami, "live.example")
    now = int(time.time())
    s = Sender(umami_server.base_url, website)
    a1 = s.send(now - 600, url="/a")  # session A begins (its flag) 10 minutes ago
    a2 = s.send(now - 120, a1["cache"], url="/b")  # A again, 2 minutes ago: no flag
    s.send(now - 60, a2["cache"], url="/b", name="click")  # A's custom event
    s.send(now - 30, url="/a")  # session B begins (a flag)
    medama_view(umami_server.base_url, "live.example", "/a", unique=True, duration_ms=None)
    medama_view(umami_server.base_url, "live.example", "/c", unique=False, duration_ms=None)
    return {"website": website}


def test_active_counts_sessions_seen_in_the_last_five_minutes(umami: httpx.Client, live_site: dict[str, Any]) -> None:
    # A (seen 2 minutes ago, though it began 10 minutes ago) and B, plus the flagged Medama load.
    assert _get(umami, f"/websites/{live_site['website']}/active") == {"visitors": 3}


def test_realtime_counts_sessions_per_minute_and_in_total(umami: httpx.Client, live_site: dict[str, Any]) -> None:
    live = _get(umami, f"/realtime/{live_site['website']}")
    # Page views: A's two, B's, two Medama loads; visitors: A, B and the flagged Medama load; one custom event.
    assert live["totals"] == {"views": 5, "visitors": 3, "events": 1, "countries": 1}
    assert live["urls"] == {"/a": 3, "/b": 1, "/c": 1}
    # A counts in each minute it was seen (10 and 2 minutes ago), B in its minute, the Medama flag in its own.
    assert sum(point["y"] for point in live["series"]["visitors"]) == 4
    assert sum(point["y"] for point in live["series"]["views"]) == 5


def _fresh_site(
    server: Server, cookie_client: httpx.Client, umami: httpx.Client, hostname: str
) -> tuple[Sender, int, str, dict[str, int]]:
    """A new website: its sender, a start second (see _first_second), its route base and a window over it."""
    website = _website(cookie_client, umami, hostname)
    t0 = _first_second()
    window = {"startAt": (t0 - 1) * 1000, "endAt": int(time.time() * 1000) + 3_600_000}
    return Sender(server.base_url, website), t0, f"/websites/{website}", window


def test_fields_only_umami_hits_have_are_metrics_too(
    umami_server: Server, cookie_client: httpx.Client, umami: httpx.Client
) -> None:
    s, t0, base, window = _fresh_site(umami_server, cookie_client, umami, "titles.example")
    a1 = s.send(t0, url="/home?x=1", title="Home", screen="1920x1080", tag="A")  # visit VA, a new visitor
    s.send(t0 + 10, a1["cache"], url="/pricing", title="Pricing", screen="1920x1080", tag="A")  # VA; a1 lasted 10 s
    s.send(t0 + 20, url="/home?utm_content=banner&utm_term=shoes", title="Home", screen="390x844")  # VB, a bounce
    medama_view(umami_server.base_url, "titles.example", "/home", unique=True, duration_ms=None)  # no title

    def pairs(kind: str) -> list[tuple[str, int]]:
        return [(m["x"], m["y"]) for m in _get(umami, f"{base}/metrics", type=kind, **window)]

    # Titles count unique-page flags, as paths do: /home is new in VA and in VB, /pricing in VA.
    assert pairs("title") == [("Home", 2), ("Pricing", 1)]
    # Screens, tags and UTM content count unique-visitor flags (a1's and b1's).
    assert pairs("screen") == [("1920x1080", 1), ("390x844", 1)]
    assert pairs("tag") == [("A", 1)]
    assert pairs("utmContent") == [("banner", 1)]
    assert pairs("utmTerm") == [("shoes", 1)]
    assert len(pairs("query")) == 2
    assert pairs("region") == pairs("city") == []
    expanded = _get(umami, f"{base}/metrics/expanded", type="title", **window)
    # Home: a1 (VA, 10 s) and b1 (VB alone: a bounce); Pricing: a2 (VA).
    assert [(m["name"], m["pageviews"], m["visits"], m["bounces"], m["totaltime"]) for m in expanded] == [
        ("Home", 2, 2, 1, 10),
        ("Pricing", 1, 1, 0, 0),
    ]


def test_event_data_keeps_the_types_umami_hits_were_sent_with(
    umami_server: Server, cookie_client: httpx.Client, umami: httpx.Client
) -> None:
    s, t0, base, window = _fresh_site(umami_server, cookie_client, umami, "typed.example")
    view = s.send(t0, url="/shop")
    s.send(t0 + 5, view["cache"], url="/shop", name="buy", data={"plan": "pro", "seats": 3, "trial": True})
    events = _get(umami, f"{base}/event-data/events", **window)
    # Umami's types: 1 string, 2 number, 3 boolean.
    assert sorted((e["eventName"], e["propertyName"], e["dataType"], e["total"]) for e in events) == [
        ("buy", "plan", 1, 1),
        ("buy", "seats", 2, 1),
        ("buy", "trial", 3, 1),
    ]
    fields = _get(umami, f"{base}/event-data/fields", **window)
    assert {(f["propertyName"], f["dataType"]) for f in fields} == {("plan", 1), ("seats", 2), ("trial", 3)}
