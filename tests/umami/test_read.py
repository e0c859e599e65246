"""The Umami read API against a real server and a seeded site: numbers equal Medama's API, the 11 connector
streams page completely, bad input is a 4xx in Umami's envelope (Hypothesis: never a 5xx)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.examples import examples
from tests.umami.conftest import assert_umami_error
from tests.umami.seed import SeededSite, seed_site

if TYPE_CHECKING:
    import httpx

    from tests.support.server import Server

STREAM_METRICS = ("url", "referrer", "country", "device", "event")


@pytest.fixture(scope="module")
def site(umami_server: Server, cookie_client: httpx.Client) -> SeededSite:
    return seed_site(umami_server.base_url, cookie_client, "read.example")


@pytest.fixture(scope="module")
def window() -> dict[str, int]:
    now = int(time.time() * 1000)
    return {"startAt": now - 86_400_000, "endAt": now + 3_600_000}


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def medama(cookie_client: httpx.Client, site: SeededSite, report: str, window: dict[str, int], **extra: str) -> Any:
    params = {"start": rfc3339(window["startAt"]), "end": rfc3339(window["endAt"]), **extra}
    response = cookie_client.get(f"/api/website/{site.hostname}/{report}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def get(umami: httpx.Client, route: str, **params: Any) -> Any:
    response = umami.get(route, params=params)
    assert response.status_code == 200, (route, response.text)
    return response.json()


def test_numbers_equal_medamas(
    umami: httpx.Client, cookie_client: httpx.Client, site: SeededSite, window: dict[str, int]
) -> None:
    base = f"/websites/{site.website_id}"
    stats = get(umami, f"{base}/stats", **window)
    summary = medama(cookie_client, site, "summary", window)["current"]
    assert stats["pageviews"] == summary["pageviews"] == 8 * 3 + 1
    assert stats["visitors"] == summary["visitors"]
    assert stats["visitors"] <= stats["visits"] <= stats["pageviews"]
    assert set(stats["comparison"]) == {"pageviews", "visitors", "visits", "bounces", "totaltime"}
    # Per path: Medama's page visitors; per referrer host: Medama's ungrouped referrer visitors.
    paths = {m["x"]: m["y"] for m in get(umami, f"{base}/metrics", type="url", **window)}
    assert paths == {p["path"]: p["visitors"] for p in medama(cookie_client, site, "pages", window)}
    referrers = {m["x"]: m["y"] for m in get(umami, f"{base}/metrics", type="referrer", **window)}
    medama_referrers = medama(cookie_client, site, "referrers", window, grouped="false")
    assert referrers == {r["referrer"]: r["visitors"] for r in medama_referrers if r["referrer"]}
    # Custom events: Medama properties of Medama's tracker, named events of the Umami protocol.
    events = {m["x"]: m["y"] for m in get(umami, f"{base}/metrics", type="event", **window)}
    properties = {p["name"]: p["events"] for p in medama(cookie_client, site, "properties", window)}
    named = {
        p["value"]: p["events"] for p in medama(cookie_client, site, "properties", window, **{"prop_name[eq]": "event"})
    }
    assert events == {
        **{k: v for k, v in properties.items() if k not in ("event", "seats") and k != "plan"},
        **named,
        "plan": 6,
    }
    # Filters: a path filter and its Medama twin.
    filtered = get(umami, f"{base}/stats", path="eq./pricing", **window)
    assert (
        filtered["pageviews"]
        == medama(cookie_client, site, "summary", window, **{"path[eq]": "/pricing"})["current"]["pageviews"]
    )
    assert get(umami, f"{base}/stats", url="c.blog", **window)["pageviews"] == 9
    assert get(umami, f"{base}/stats", browser="neq.Firefox", **window)["pageviews"] == summary["pageviews"] - 9
    assert (
        get(umami, f"{base}/stats", country="eq.GB,JP", **window)["pageviews"]
        == medama(cookie_client, site, "summary", window, **{"country[in]": "United Kingdom,Japan"})["current"][
            "pageviews"
        ]
    )
    assert get(umami, f"{base}/stats", title="eq.anything", **window)["pageviews"] == 0


def test_pageviews_series_and_units(umami: httpx.Client, site: SeededSite, window: dict[str, int]) -> None:
    base = f"/websites/{site.website_id}"
    series = get(umami, f"{base}/pageviews", unit="day", **window)
    # A one-day range coerces day to hour, as Umami does.
    assert all(item["x"].endswith(":00:00") for item in series["pageviews"])
    assert sum(item["y"] for item in series["pageviews"]) == 25
    assert len(series["sessions"]) == len(series["pageviews"])
    for item in series["pageviews"]:
        datetime.strptime(item["x"], "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 (Umami's label has no zone)
    year = {"startAt": window["endAt"] - 365 * 86_400_000, "endAt": window["endAt"]}
    monthly = get(umami, f"{base}/pageviews", unit="minute", timezone="Asia/Tokyo", **year)
    assert sum(item["y"] for item in monthly["pageviews"]) == 25
    assert all(item["x"].endswith("-01 00:00:00") for item in monthly["pageviews"])


def test_session_and_event_stats(umami: httpx.Client, site: SeededSite, window: dict[str, int]) -> None:
    base = f"/websites/{site.website_id}"
    sessions = get(umami, f"{base}/sessions/stats", **window)
    assert sessions["pageviews"]["value"] == 25
    assert sessions["countries"]["value"] >= 4
    events = get(umami, f"{base}/events/stats", **window)["data"]
    assert events["events"] == sessions["events"]["value"]
    assert events["uniqueEvents"] == 3  # the Medama properties plan and button, the Umami event signup
    assert get(umami, f"{base}/active")["visitors"] >= 1
    daterange = get(umami, f"{base}/daterange")
    assert daterange["startDate"] <= daterange["endDate"]


def _all_pages(umami: httpx.Client, route: str, page_size: int, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = get(umami, route, page=page, pageSize=page_size, **params)
        assert body["page"] == page
        assert body["pageSize"] == page_size
        rows.extend(body["data"])
        if page * page_size >= body["count"]:
            assert len(rows) == body["count"]
            return rows
        page += 1


FIELD_TYPES: dict[str, dict[str, tuple[type, ...]]] = {
    "websites": dict.fromkeys(("id", "name", "domain", "createdAt", "updatedAt"), (str,))
    | {"shareId": (str, type(None)), "teamId": (str, type(None))},
    "sessions": dict.fromkeys(
        ("id", "websiteId", "hostname", "browser", "os", "device", "createdAt", "visitId", "lastAt"), (str,)
    )
    | {k: (str, type(None)) for k in ("screen", "language", "country", "subdivision1", "subdivision2", "city")}
    | dict.fromkeys(("views", "events", "totaltime"), (int,)),
    "events": dict.fromkeys(("id", "websiteId", "sessionId", "visitId", "createdAt"), (str,))
    | {
        k: (str, type(None))
        for k in ("urlPath", "urlQuery", "referrerPath", "referrerQuery", "referrerDomain", "pageTitle", "eventName")
    }
    | {"eventType": (int,)},
}


def _check_types(stream: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for field, kinds in FIELD_TYPES[stream].items():
            assert isinstance(row[field], kinds), (stream, field, row[field])


@pytest.mark.parametrize("page_size", [1, 3, 7, 100])
def test_connector_sync_of_the_eleven_streams(
    umami: httpx.Client, cookie_client: httpx.Client, site: SeededSite, window: dict[str, int], page_size: int
) -> None:
    websites = _all_pages(umami, "/websites", page_size)
    _check_types("websites", websites)
    assert site.website_id in [w["id"] for w in websites]
    base = f"/websites/{site.website_id}"
    sessions = _all_pages(umami, f"{base}/sessions", page_size, **window)
    events = _all_pages(umami, f"{base}/events", page_size, **window)
    for stream, rows in (("sessions", sessions), ("events", events)):
        _check_types(stream, rows)
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), f"{stream}: a row came twice"
    session_stats = get(umami, f"{base}/sessions/stats", **window)
    event_stats = get(umami, f"{base}/events/stats", **window)["data"]
    pageviews = get(umami, f"{base}/pageviews", unit="day", **window)
    metrics = {t: get(umami, f"{base}/metrics", type=t, **window) for t in STREAM_METRICS}
    for items in metrics.values():
        assert all(isinstance(m["x"], str) and isinstance(m["y"], int) for m in items)
    # Cross-stream sums: page views sent = session_stats = Σ pageviews series = page-view rows of the events stream.
    page_rows = [e for e in events if e["eventType"] == 1]
    assert session_stats["pageviews"]["value"] == sum(p["y"] for p in pageviews["pageviews"]) == len(page_rows) == 25
    assert sum(s["visits"] for s in sessions) == session_stats["visits"]["value"]
    assert len(events) - len(page_rows) == event_stats["events"] == session_stats["events"]["value"]
    assert sum(m["y"] for m in metrics["event"]) == event_stats["events"]
    assert sum(s["views"] for s in sessions) == 25
    assert sum(s["events"] for s in sessions) <= event_stats["events"]
    assert session_stats["pageviews"]["value"] == medama(cookie_client, site, "summary", window)["current"]["pageviews"]


def test_incremental_sync_by_start_date(umami: httpx.Client, site: SeededSite, window: dict[str, int]) -> None:
    base = f"/websites/{site.website_id}"
    everything = _all_pages(umami, f"{base}/events", 10, **window)
    times = sorted(e["createdAt"] for e in everything)
    middle = datetime.fromisoformat(times[len(times) // 2].replace("Z", "+00:00"))
    later = _all_pages(umami, f"{base}/events", 10, startAt=int(middle.timestamp() * 1000), endAt=window["endAt"])
    assert {e["id"] for e in later} == {e["id"] for e in everything if e["createdAt"] >= times[len(times) // 2]}


def test_bad_input_is_a_4xx_in_umamis_envelope(umami: httpx.Client, site: SeededSite, window: dict[str, int]) -> None:
    base = f"/websites/{site.website_id}"
    bad: list[tuple[dict[str, Any], str]] = [
        ({}, "startAt"),
        ({"startAt": window["startAt"]}, "endAt"),
        ({**window, "startAt": "yesterday"}, "startAt"),
        ({**window, "endAt": "-5"}, "endAt"),
        ({"startAt": window["endAt"], "endAt": window["startAt"]}, "endAt"),
        ({**window, "startAt": "9" * 30}, "startAt"),
    ]
    for params, named in bad:
        response = umami.get(f"{base}/stats", params=params)
        assert_umami_error(response, 400, "bad-request")
        assert named in response.json()["error"]["message"]
    series_bad: list[tuple[dict[str, Any], str]] = [
        ({**window, "unit": "fortnight"}, "unit"),
        ({**window, "timezone": "Mars/Olympus"}, "timezone"),
    ]
    for params, named in series_bad:
        response = umami.get(f"{base}/pageviews", params=params)
        assert_umami_error(response, 400, "bad-request")
        assert named in response.json()["error"]["message"]
    for params, named in [({**window, "pageSize": 10**9}, "pageSize"), ({**window, "page": 0}, "page")]:
        response = umami.get(f"{base}/events", params=params)
        assert_umami_error(response, 400, "bad-request")
        assert named in response.json()["error"]["message"]
    assert_umami_error(umami.get(f"{base}/metrics", params=window), 400, "bad-request")
    assert_umami_error(umami.get(f"{base}/metrics", params={**window, "type": "shoes"}), 400, "bad-request")
    for unknown in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert_umami_error(umami.get(f"/websites/{unknown}/stats", params=window), 404, "not-found")
    assert_umami_error(umami.get(f"{base}/sessions/nope"), 404, "not-found")
    assert_umami_error(umami.get(f"{base}/event-data/values", params=window), 400, "bad-request")


_KEYS = st.sampled_from(
    ["startAt", "endAt", "unit", "timezone", "page", "pageSize", "limit", "offset", "type", "search", "path", "url",
     "referrer", "country", "event", "browser", "host", "title", "utmSource", "orderBy", "x[y]", "language"]
)  # fmt: skip
_VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["eq.a,b", "c.%", "neq.", "s._", "ns.\x00", "dnc.'", "hour", "Europe/London", "url", "event"]),
)


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(_KEYS, _VALUES), max_size=6), route=st.sampled_from(
    ["stats", "pageviews", "metrics", "metrics/expanded", "events", "events/stats", "events/series", "sessions",
     "sessions/stats", "event-data/fields", "event-data/stats", "sessions/x/activity"]
))  # fmt: skip
def test_no_query_string_gives_a_5xx(
    umami: httpx.Client, site: SeededSite, items: list[tuple[str, str]], route: str
) -> None:
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in items)
    response = umami.get(f"/websites/{site.website_id}/{route}?{query}")
    assert response.status_code < 500, (route, query, response.text)
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"message", "code", "status"}
