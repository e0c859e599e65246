"""Hypothesis against the running server: hostile /api/event/hit bodies and headers never cause a 5xx.

Only 204, 400, 404, 413 and (for a foreign Content-Type) 415 are acceptable, and rows stored before
the fuzzing are left exactly as they were.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import duckdb
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.hits import make_hit
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

SITE = "fuzz.example"
ALLOWED = {204, 400, 404, 413}
BASELINE = 20

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
# Payload-shaped objects with every key optional and every value of any type, so the decoder sees
# near misses (wrong types, missing fields, unknown events) and not just random JSON.
payloads = st.fixed_dictionaries(
    {},
    optional={
        "e": st.sampled_from(["load", "unload", "custom", "view", ""]) | json_values,
        "b": st.text(max_size=20) | json_values,
        "u": st.sampled_from([f"https://{SITE}/", f"https://{SITE}/a/?utm_source=x", "https://other.example/", "/x"])
        | st.text(max_size=40),
        "r": st.sampled_from(["", "https://www.google.com/", ":bad", "http://[::1"]) | st.text(max_size=40),
        "p": st.booleans() | json_values,
        "q": st.booleans() | json_values,
        "t": st.sampled_from(["Europe/London", "UTC", ""]) | st.text(max_size=20),
        "m": st.integers(min_value=-(2**70), max_value=2**70) | json_values,
        "g": st.sampled_from([SITE, "other.example"]) | json_values,
        "d": st.dictionaries(st.text(max_size=8), json_values, max_size=5) | json_values,
    },
)


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


bodies = (
    payloads.map(_encode)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
    | payloads.map(_encode).map(lambda b: b[:-1] + b"\xff\xfe}")  # invalid UTF-8 inside the JSON
    | st.text(max_size=50).map(lambda t: ('{"e":"custom","g":"' + SITE + '","d":{"k":"' + t * 3000 + '"}}').encode())
)
# h11 (the client) refuses values with surrounding whitespace, so those are stripped.
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.strip)
headers = st.fixed_dictionaries(
    {"Content-Type": st.sampled_from(["text/plain", "text/plain;charset=UTF-8", "application/json"])},
    optional={
        "User-Agent": st.just(BROWSER_UA) | header_text,
        "Accept-Language": st.sampled_from(["en-GB,en;q=0.9", "*", "xx;q=abc"]) | header_text,
        "X-Forwarded-For": st.sampled_from(["203.0.113.5", "1.2.3.4 , 5.6.7.8", "::1"]) | header_text,
        "X-Real-IP": header_text,
    },
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    with running_server(data_dir) as server:
        admin = logged_in_client(server)
        register_website(admin, SITE)
        admin.close()
        for i in range(BASELINE):
            body = make_hit(b=f"base{i}", u=f"https://{SITE}/p{i}", r=..., q=True, t="Europe/Paris")
            response = httpx.post(
                f"{server.base_url}/api/event/hit",
                content=body,
                headers={"User-Agent": BROWSER_UA, "Content-Type": "text/plain"},
            )
            assert response.status_code == 204
        yield server


@pytest.fixture(scope="module")
def client(fuzz_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.base_url, timeout=10) as client:
        yield client


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=bodies, request_headers=headers)
def test_hit_never_fails_with_5xx(client: httpx.Client, body: bytes, request_headers: dict[str, str]) -> None:
    response = client.post("/api/event/hit", content=body, headers=request_headers)
    assert response.status_code in ALLOWED, (response.status_code, response.text, body[:200])
    if response.status_code != 204:
        error = response.json()["error"]
        assert error["code"] == response.status_code
        assert isinstance(error["message"], str)


@settings(max_examples=60, deadline=None)
@given(content_type=header_text)
def test_any_content_type_is_answered_cleanly(client: httpx.Client, content_type: str) -> None:
    response = client.post(
        "/api/event/hit", content=b'{"e":"unload","b":"x","m":1}', headers={"Content-Type": content_type}
    )
    assert response.status_code in {204, 400, 415}


@settings(max_examples=60, deadline=None)
@given(since=header_text)
def test_ping_only_answers_200_or_400(client: httpx.Client, since: str) -> None:
    response = client.get("/api/event/ping", headers={"If-Modified-Since": since})
    assert response.status_code in {200, 400}


def test_oversized_bodies_are_413(client: httpx.Client) -> None:
    for size in (64 * 1024 + 1, 1024 * 1024):
        response = client.post(
            "/api/event/hit", content=b"{" + b" " * size + b"}", headers={"Content-Type": "text/plain"}
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == 413


def test_baseline_rows_are_untouched(fuzz_server: Server, client: httpx.Client) -> None:
    # Runs last in this module (pytest keeps file order): stop the server, then read the file.
    assert fuzz_server.stop() == 0
    with duckdb.connect(str(fuzz_server.analyticsdb), read_only=True) as conn:
        rows = conn.execute(
            "SELECT bid, hostname, pathname, country, ua_browser, duration_ms FROM views"
            " WHERE bid LIKE 'base%' ORDER BY bid"
        ).fetchall()
    expected = sorted((f"base{i}", SITE, f"/p{i}", "France", "Chrome", None) for i in range(BASELINE))
    assert rows == expected
