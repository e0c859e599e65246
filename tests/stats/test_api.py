"""The stats endpoints over HTTP on the real server: same numbers as the reports, check order, ingestion e2e."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import msgspec
import pytest

from medama_py.stats.reports import REPORTS
from tests.stats.harness import ENDPOINTS, params
from tests.support.hits import make_hit, make_unload
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

QUERIES = [
    "",
    "start=2024-03-01T00:00:00Z&end=2024-03-31T23:59:59Z&previous=true&interval=week&summary=true",
    "path%5Bstarts_with%5D=/blog&referrer[neq]=google&limit=5&offset=1&grouped=false&locale=1",
    "prop_name[eq]=plan&browser[in]=Chrome,%20Safari",
]


@pytest.mark.parametrize("query", QUERIES)
def test_http_answers_are_the_reports(client: httpx.Client, cur: duckdb.DuckDBPyConnection, query: str) -> None:
    for endpoint in ENDPOINTS:
        response = client.get(f"/api/website/example.com/{endpoint}?{query}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        expected = msgspec.json.encode(REPORTS[endpoint].run(cur, params(endpoint, query.replace("%20", " "))))
        assert response.content == expected, endpoint  # compact JSON, optional keys omitted


def test_check_order_401_then_400_then_404(stats_server: Server, client: httpx.Client) -> None:
    bad = "/api/website/unknown.example/pages?limit=0"
    with httpx.Client(base_url=stats_server.base_url) as anonymous:
        assert anonymous.get(bad).status_code == 401
        assert anonymous.get("/api/website/example.com/summary").status_code == 401
    response = client.get(bad)
    assert response.status_code == 400
    assert "'limit'" in response.json()["error"]["message"]
    assert client.get("/api/website/bad_name/pages").status_code == 400
    missing = client.get("/api/website/unknown.example/pages")
    assert (missing.status_code, missing.json()) == (404, {"error": {"code": 404, "message": "website not found"}})
    # Rows alone do not make a website: it must be registered; and the hostname matches exactly.
    assert client.get("/api/website/shop.example.org/summary").status_code == 404
    assert client.get("/api/website/Example.com/summary").status_code == 404


@pytest.mark.parametrize(
    ("endpoint", "query", "named"),
    [
        ("summary", "interval=day", "'interval'"),
        ("summary", "start=2024-01-01", "'start'"),
        ("pages", "summary=maybe", "'summary'"),
        ("referrers", "grouped=2", "'grouped'"),
        ("languages", "locale=x", "'locale'"),
        ("time", "offset=9999", "'offset'"),
        ("browsers", "browser[is]=Chrome", "'browser[is]'"),
        ("os", "os=Linux", "'os'"),
        ("properties", "prop_name]=x", "'prop_name]'"),
    ],
)
def test_malformed_parameters_are_400_naming_them(client: httpx.Client, endpoint: str, query: str, named: str) -> None:
    response = client.get(f"/api/website/example.com/{endpoint}?{query}")
    assert response.status_code == 400
    assert named in response.json()["error"]["message"]


# ---- a new user: hits in through ingestion, numbers out through every endpoint ----------------------------------

HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB,en;q=0.9", "Content-Type": "text/plain;charset=UTF-8"}
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"


def _load(bid: str, path: str, *, user: bool, referrer: str = "", **more: object) -> bytes:
    return make_hit(b=bid, u=f"https://new.example{path}", r=referrer, p=user, q=True, **more)


def test_a_new_user_reads_what_was_ingested(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server:
        client = logged_in_client(server)
        register_website(client, "new.example")
        hits = [
            (_load("a1", "/?utm_source=news", user=True, referrer="https://www.google.com/"), HEADERS),
            (make_unload("a1", 3000), HEADERS),
            (_load("a2", "/about/", user=False, d={"plan": "pro"}), HEADERS),
            (make_unload("a2", 200000), HEADERS),
            (_load("b1", "/", user=True), {**HEADERS, "User-Agent": FIREFOX}),
        ]
        for body, headers in hits:
            assert httpx.post(f"{server.base_url}/api/event/hit", content=body, headers=headers).status_code == 204

        def get(endpoint: str, query: str = "") -> object:
            response = client.get(f"/api/website/new.example/{endpoint}?{query}")
            assert response.status_code == 200, response.text
            return response.json()

        # 2 unique users, 3 views; 2 timed views but none of them a first visit with >5 peers: no bounce rate.
        assert get("summary") == {
            "current": {"visitors": 2, "pageviews": 3, "bounce_percentage": 0, "duration": 101500}
        }
        assert get("pages", "summary=true") == [
            {"path": "/", "visitors": 2, "visitors_percentage": 0.6667},
            {"path": "/about", "visitors": 1, "visitors_percentage": 0.3333},
        ]
        assert get("referrers", "summary=true") == [
            {"referrer": "", "visitors": 1, "visitors_percentage": 0.5},
            {"referrer": "Google", "visitors": 1, "visitors_percentage": 0.5},
        ]
        assert get("sources", "summary=true") == [
            {"source": "", "visitors": 1, "visitors_percentage": 0.5},
            {"source": "news", "visitors": 1, "visitors_percentage": 0.5},
        ]
        assert [b["browser"] for b in get("browsers")] == ["Chrome", "Firefox"]  # type: ignore[attr-defined]
        assert get("countries", "summary=true") == [
            {"country": "United Kingdom", "visitors": 2, "visitors_percentage": 1}
        ]
        assert get("languages", "locale=true&summary=true") == [
            {"language": "British English", "visitors": 2, "visitors_percentage": 1}
        ]
        assert get("properties") == [{"name": "plan", "events": 1, "events_percentage": 1}]
        assert get("mediums", "summary=true") == [{"medium": "", "visitors": 2, "visitors_percentage": 1}]
        assert get("campaigns", "summary=true") == [{"campaign": "", "visitors": 2, "visitors_percentage": 1}]
        assert [o["visitors"] for o in get("os", "summary=true")] == [1, 1]  # type: ignore[attr-defined]
        assert get("devices", "summary=true") == [{"device": "Desktop", "visitors": 2, "visitors_percentage": 1}]
        assert get("time") == []  # no path has the 3 unique-page visitors /time needs
        assert get("summary", "prop_value[eq]=pro")["current"]["pageviews"] == 1  # type: ignore[index]
        now = get("summary", "start=" + quote("2000-01-01T00:00:00Z") + "&end=2100-01-01T00:00:00Z&interval=month")
        assert len(now["interval"]) == 1201  # type: ignore[index]
        client.close()


def test_openapi_documents_every_stats_parameter_and_response(stats_server: Server) -> None:
    import yaml

    document = yaml.safe_load(httpx.get(f"{stats_server.base_url}/openapi.yaml").text)
    filters = {"path", "referrer", "utm_source", "utm_medium", "utm_campaign", "browser", "os", "device", "country",
               "language", "prop_name", "prop_value"}  # fmt: skip
    extra = {"summary": {"previous", "interval"}, "referrers": {"summary", "limit", "offset", "grouped"},
             "languages": {"summary", "limit", "offset", "locale"}, "properties": {"limit", "offset"}}  # fmt: skip
    operations = {
        "summary": "get-website-id-summary", "pages": "get-website-id-pages", "time": "get-website-id-time",
        "referrers": "get-website-id-referrers", "sources": "get-website-id-sources",
        "mediums": "get-website-id-mediums", "campaigns": "get-website-id-campaigns",
        "browsers": "get-website-id-browsers", "os": "get-website-id-os", "devices": "get-website-id-device",
        "countries": "get-website-id-country", "languages": "get-website-id-language",
        "properties": "get-website-id-properties",
    }  # fmt: skip
    for endpoint, operation_id in operations.items():
        operation = document["paths"][f"/api/website/{{hostname}}/{endpoint}"]["get"]
        assert operation["operationId"] == operation_id
        query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        expected = {"start", "end"} | filters | extra.get(endpoint, {"summary", "limit", "offset"})
        assert set(query) == expected, endpoint
        assert all(query[f]["style"] == "deepObject" and query[f]["explode"] for f in filters)
        assert {"200", "400", "401", "404"} <= set(operation["responses"])
    operators = document["components"]["schemas"]["FilterString"]["properties"]
    assert set(operators) == {"eq", "neq", "contains", "not_contains", "starts_with", "not_starts_with",
                              "ends_with", "not_ends_with", "in", "not_in"}  # fmt: skip
