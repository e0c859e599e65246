"""Hypothesis against the running server: hostile /umami/api/send and /batch bodies and headers.

Only 400, 403, 413 and 200 (a token, beep-boop for a bot, `{}` for performance) are acceptable, never
a 5xx; every error is Umami's envelope; and exactly the hits answered with a token are stored.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING, Any

import duckdb
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

SITE = "umami-fuzz.example"
BLOCKED = "203.0.113.9"
ALLOWED = {200, 400, 403, 413}
# Accepted page views and custom events, counted from the answers; compared with the rows at the end.
ACCEPTED: list[int] = [0]
WEBSITE: list[str] = []
TOKENS: list[str] = []

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"v": 1}
    for _ in range(levels):
        node = {"k": node}
    return node


websites = st.sampled_from(["<site>", "00000000-0000-4000-8000-000000000000", "not-a-uuid", ""]) | json_values
payloads = st.fixed_dictionaries(
    {"website": websites},
    optional={
        "url": st.sampled_from(["/", "/a?utm_source=x#h", "https://www.umami-fuzz.example/p", "http://[::1", ""])
        | st.text(max_size=60)
        | json_values,
        "referrer": st.sampled_from(["", "https://www.google.com/", ":bad", "http://[x"]) | st.text(max_size=40),
        "hostname": st.text(max_size=120) | json_values,
        "title": st.text(max_size=80) | json_values,
        "name": st.text(max_size=60) | json_values,
        "screen": st.sampled_from(["1920x1080", "x", "999999999999"]) | json_values,
        "language": st.sampled_from(["en-US", "xx;q=abc", "*"]) | st.text(max_size=40),
        "tag": st.text(max_size=60) | json_values,
        "id": st.text(max_size=30) | json_values,
        "data": st.dictionaries(st.text(max_size=8), json_values, max_size=6)
        | st.integers(min_value=0, max_value=12).map(_deep)
        | st.just({str(i): i for i in range(250)})
        | json_values,
        "timestamp": st.integers(min_value=-(2**70), max_value=2**70)
        | st.sampled_from([0, 4102444800, 1_700_000_000])
        | json_values,
        "tz": st.sampled_from(["Europe/London", "UTC", ""]) | json_values,
        "p": st.booleans() | json_values,
        "ip": st.just("1.2.3.4"),
        "extra": json_values,
    },
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["event", "identify", "performance", "pageview", ""]) | json_values,
        "payload": payloads | json_values,
    },
)


def _encode(value: Any) -> bytes:
    text = json.dumps(value)
    return text.replace('"<site>"', json.dumps(WEBSITE[0]) if WEBSITE else '"<site>"').encode()


bodies = (
    envelopes.map(_encode)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
    | envelopes.map(_encode).map(lambda b: b[:-1] + b"\xff\xfe}")  # invalid UTF-8 inside the JSON
    | st.integers(min_value=1, max_value=3).map(lambda n: b"[" * (n * 2000) + b"]" * (n * 2000))
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.strip)
tokens = st.sampled_from(["<real>", "", "x" * 139]) | header_text | st.text(alphabet="AB-_", min_size=139, max_size=139)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/plain", "application/xml"]) | header_text,
        "User-Agent": st.sampled_from([BROWSER_UA, "Mozilla/5.0 Umami/v20.1.0", "curl/8.0", "Googlebot/2.1"])
        | header_text,
        "Accept-Language": st.sampled_from(["en-GB,en;q=0.9", "xx;q=abc"]) | header_text,
        "X-Forwarded-For": st.sampled_from([BLOCKED, "198.51.100.7", "::1"]) | header_text,
        "x-umami-cache": tokens,
    },
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("umami-fuzz") / "data"
    # Loopback is a trusted proxy here, so X-Forwarded-For names the client and the block list applies.
    with running_server(data_dir, "-trustedproxies", "127.0.0.1/32") as server:
        with closing(logged_in_client(server)) as admin:
            register_website(admin, SITE)
            assert admin.patch("/api/tenant/settings", json={"blockedIPs": [BLOCKED]}).status_code == 200
        with closing(sqlite3.connect(server.appdb)) as meta:
            WEBSITE.append(meta.execute("SELECT uuid FROM website_uuids WHERE hostname = ?", (SITE,)).fetchone()[0])
        yield server


@pytest.fixture(scope="module")
def client(fuzz_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.base_url, timeout=10) as client:
        seed = {"type": "event", "payload": {"website": WEBSITE[0], "url": "/seed"}}
        real = client.post("/umami/api/send", json=seed, headers={"User-Agent": BROWSER_UA}).json()
        TOKENS.append(real["cache"])
        ACCEPTED[0] += 1
        yield client


def _check_error(response: httpx.Response) -> None:
    error = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["code"] in {"bad-request", "forbidden"}
    assert isinstance(error["message"], str)


def _sent_event(body: bytes) -> bool:
    """Whether the body was a well-formed `event` (which stores a row when answered with a token)."""
    try:
        return bool(json.loads(body).get("type") == "event")
    except (ValueError, AttributeError):
        return False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=bodies, request_headers=headers)
def test_send_never_fails_with_5xx(client: httpx.Client, body: bytes, request_headers: dict[str, str]) -> None:
    if request_headers.get("x-umami-cache") == "<real>":
        request_headers["x-umami-cache"] = TOKENS[0]
    response = client.post("/umami/api/send", content=body, headers=request_headers)
    assert response.status_code in ALLOWED, (response.status_code, response.text, body[:200])
    assert response.headers["access-control-allow-origin"] == "*"
    if response.status_code != 200:
        _check_error(response)
        return
    answer = response.json()
    assert answer in ({"beep": "boop"}, {}) or set(answer) == {"cache", "sessionId", "visitId"}
    if "cache" in answer and _sent_event(body):
        ACCEPTED[0] += 1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(items=st.lists(envelopes, max_size=6) | json_values, request_headers=headers)
def test_batch_never_fails_with_5xx(client: httpx.Client, items: Any, request_headers: dict[str, str]) -> None:
    request_headers.pop("x-umami-cache", None)
    request_headers["User-Agent"] = BROWSER_UA  # so every processed event item stores a row (no beep-boop)
    body = _encode(items)
    response = client.post("/umami/api/batch", content=body, headers=request_headers)
    assert response.status_code in ALLOWED, (response.status_code, response.text, body[:200])
    if response.status_code != 200:
        _check_error(response)
        return
    answer = response.json()
    assert answer["size"] == answer["processed"] + answer["errors"] == len(items)
    for detail in answer["details"]:
        assert detail["response"]["error"]["status"] in {400, 403}
    # Every processed `event` item stored one row (the sender is a browser, so none was beep-boop).
    erred = {detail["index"] for detail in answer["details"]}
    for index, item in enumerate(items):
        if index not in erred and isinstance(item, dict) and item.get("type") == "event":
            ACCEPTED[0] += 1


def test_oversized_bodies_are_413(client: httpx.Client) -> None:
    for path, size in (("/umami/api/send", 64 * 1024 + 1), ("/umami/api/batch", 1024 * 1024 + 1)):
        response = client.post(path, content=b"[" + b" " * size + b"]")
        assert response.status_code == 413
        _check_error(response)


def test_only_accepted_hits_were_stored(fuzz_server: Server, client: httpx.Client) -> None:
    # Runs last in this module (pytest keeps file order): stop the server, then read the file.
    assert fuzz_server.stop() == 0
    with duckdb.connect(str(fuzz_server.analyticsdb), read_only=True) as conn:
        hits = conn.execute("SELECT count(*) FROM umami_hits").fetchone()
        views = conn.execute("SELECT count(*) FROM views").fetchone()
        page_views = conn.execute("SELECT count(*) FROM umami_hits WHERE event_type = 1").fetchone()
    assert hits is not None and views is not None and page_views is not None
    assert hits[0] == ACCEPTED[0]
    assert views[0] == page_views[0]  # a views row only with its umami_hits row
