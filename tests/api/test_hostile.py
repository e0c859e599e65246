"""Hostile input never gets a 500 or a traceback: malformed and oversized bodies, odd unicode, bad cookies and
headers, path traversal. Every answer is a 4xx with the envelope (or the plain-text 404 under /scripts/), and the
data is untouched afterwards (malformed input → 4xx, never 500: docs/compatibility.md#errors).
"""

from __future__ import annotations

import ipaddress
import json
import re
import string
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.helpers import account_state, assert_error, get_request, raw_request
from tests.support.examples import examples

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # raw bytes on the socket and the server log

JSON_ENDPOINTS = [
    ("POST", "/api/auth/login"),
    ("PATCH", "/api/user"),
    ("PATCH", "/api/tenant/settings"),
    ("POST", "/api/websites"),
    ("PATCH", "/api/websites/hostile.example"),
]
HOSTNAME = re.compile(r"[A-Za-z0-9.\-]{1,253}")
FUZZ = settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def guarded(client: httpx.Client, shared_server: Server) -> Iterator[httpx.Client]:
    """The logged-in client, with the website `hostile.example`; the data must be unchanged at the end."""
    assert client.post("/api/websites", json={"hostname": "hostile.example"}).status_code == 201
    before = account_state(client)
    yield client
    assert account_state(client) == before
    log = shared_server.log()
    assert "Traceback" not in log
    assert '"level": "error"' not in log


def cookie_of(client: httpx.Client) -> bytes:
    return b"Cookie: _me_sess=" + client.cookies["_me_sess"].encode()


def port_of(client: httpx.Client) -> int:
    port = client.base_url.port
    assert port is not None
    return port


MALFORMED = [
    b"{",
    b"nul",
    b'{"username":}',
    b"\xff\xfe\xfd",
    b'{"username": "admin"',
    b"{}{}",
    b"\x00",
    b'{"username": "\\ud800abc", "password": "\\udfffabcde", "hostname": "\\ud800"}',
    b"[" * 5000,
    b'{"a":' * 3000,
    '{"username": "adm\u00efn"}'.encode("latin-1"),
    b"\xef\xbb\xbf{}",
]


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_json_is_400(guarded: httpx.Client, method: str, path: str, body: bytes) -> None:
    response = guarded.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400)


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [None, 1, "text", True, [], [{}], {key: {"$ne": None} for key in ("username", "hostname", "script_type")}],
)
def test_wrong_json_types_are_400(guarded: httpx.Client, method: str, path: str, body: object) -> None:
    assert_error(guarded.request(method, path, json=body), 400)


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
def test_one_megabyte_bodies_are_413(guarded: httpx.Client, method: str, path: str) -> None:
    body = json.dumps({"hostname": "a" * (1 << 20), "username": "b", "password": "c"}).encode()
    assert_error(guarded.request(method, path, content=body, headers={"Content-Type": "application/json"}), 413)


def test_one_megabyte_chunked_body_is_413(guarded: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 16384

    response = guarded.post("/api/websites", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 413)


def test_unauthenticated_huge_body_is_401(shared_server: Server) -> None:
    with httpx.Client(base_url=shared_server.base_url) as anonymous:
        response = anonymous.post(
            "/api/websites", content=b"x" * (1 << 20), headers={"Content-Type": "application/json"}
        )
    assert_error(response, 401)


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "a" * 4096, "\u00e9t\u00e9", "%00%ff", "x; _me_sess=y", "../../etc", "=" * 64, '"quoted"'],
)
def test_bad_cookies_are_401(shared_server: Server, value: str) -> None:
    raw = b"Cookie: _me_sess=" + value.encode("utf-8")
    response = raw_request(shared_server.port, get_request(b"/api/user", raw))
    assert response.status == 401
    body = json.loads(response.body)
    assert body["error"]["code"] == 401


@pytest.mark.parametrize("size", [8 * 1024, 60 * 1024, 200 * 1024])
def test_huge_cookies_are_refused_cleanly(shared_server: Server, size: int) -> None:
    response = raw_request(shared_server.port, get_request(b"/api/user", b"Cookie: _me_sess=" + b"A" * size))
    assert 400 <= response.status < 500
    assert b"Traceback" not in response.body


def test_many_cookies_and_invalid_bytes(shared_server: Server, guarded: httpx.Client) -> None:
    many = raw_request(shared_server.port, get_request(b"/api/user", b"Cookie: " + b"junk=1; " * 2000))
    assert many.status == 401
    binary = raw_request(shared_server.port, get_request(b"/api/user", b"Cookie: _me_sess=\xff\xfe\x80"))
    assert binary.status == 401
    # The real cookie after junk ones still works.
    mixed = raw_request(
        shared_server.port, get_request(b"/api/user", b"Cookie: a=1; b=\xff; " + cookie_of(guarded)[8:])
    )
    assert mixed.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        [b"X-Forwarded-For: \xff\xfe, 1.2.3.4"],
        [b"X-Forwarded-For: " + b"9" * 10000],
        [b"X-Forwarded-Proto: https\x00"],
        [b"Origin: \xff\xfe"],
        [b"Origin: " + b"h" * 20000],
        [b"Accept-Encoding: gzip;q=abc, br;q=-1, *;q=2"],
        [b"If-None-Match: " + b'"x", ' * 1000],
        [b"Content-Type: application/json; charset=\xff"],
        [b"User-Agent: " + "\u202e\U0001f600".encode()],
        [b"Accept-Language: " + b"x" * 5000],
    ],
)
def test_hostile_headers_never_500(shared_server: Server, guarded: httpx.Client, headers: list[bytes]) -> None:
    for path in (b"/api/user", b"/", b"/script.js", b"/api/websites/hostile.example"):
        response = raw_request(shared_server.port, get_request(path, cookie_of(guarded), *headers))
        assert response.status < 500, (path, response)
        assert b"Traceback" not in response.body


def test_login_with_odd_headers_still_works(shared_server: Server) -> None:
    body = b'{"username":"admin","password":"CHANGE_ME_ON_FIRST_LOGIN"}'
    request = get_request(
        b"/api/auth/login",
        b"Content-Type: application/json; charset=utf-8; boundary=\xff",
        b"X-Forwarded-For: not-an-ip",
        b"X-Forwarded-Proto: gopher",
        method=b"POST",
        body=body,
    )
    response = raw_request(shared_server.port, request)
    assert response.status == 200
    assert "secure" not in response.headers["set-cookie"].lower()


TRAVERSALS = [
    b"/scripts/../../etc/passwd",
    b"/scripts/..%2f..%2fetc%2fpasswd",
    b"/scripts/%2e%2e/%2e%2e/etc/passwd",
    b"/scripts/%252e%252e/etc/passwd",
    b"/scripts/....//....//etc/passwd",
    b"/scripts/..\\..\\etc\\passwd",
    b"/scripts/..%5c..%5cetc%5cpasswd",
    b"/scripts/%00",
    b"/scripts/default.js%00.png",
    b"/scripts//etc/passwd",
    b"/scripts/%c0%ae%c0%ae/etc/passwd",
    b"/scripts/../../../../../../proc/self/environ",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_under_scripts_is_plain_404(shared_server: Server, path: bytes) -> None:
    response = raw_request(shared_server.port, get_request(path))
    assert response.status == 404, response
    assert response.body == b"404 page not found\n"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "path",
    [b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/assets/../../etc/passwd", b"/script.js/../../etc/passwd"],
)
def test_path_traversal_elsewhere_never_leaks_files(shared_server: Server, path: bytes) -> None:
    response = raw_request(shared_server.port, get_request(path))
    assert response.status in (200, 400, 404)
    assert b"root:" not in response.body
    assert b"PATH=" not in response.body


@pytest.mark.parametrize(
    "path",
    [b"/api/%ff", b"/api/websites/%ff", b"/api/websites/%00", b"/api/websites/..%2f..%2fuser", b"/api/user%00"],
)
def test_odd_api_paths_are_enveloped(guarded: httpx.Client, path: bytes) -> None:
    response = raw_request(port_of(guarded), get_request(path, cookie_of(guarded)))
    assert response.status in (400, 404), response
    body = json.loads(response.body)
    assert body["error"]["code"] == response.status


@FUZZ
@given(body=JSON_VALUES)
def test_fuzz_tenant_settings(guarded: httpx.Client, body: object) -> None:
    response = guarded.patch("/api/tenant/settings", json=body)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert_error(response, 400)
    else:
        # A valid random patch: put the settings back.
        restore = {"script_type": ["default"], "blockAbusiveIPs": True, "blockTorExitNodes": True, "blockedIPs": []}
        assert guarded.patch("/api/tenant/settings", json=restore).status_code == 200


@FUZZ
@given(hostname=st.text(max_size=260) | st.from_regex(HOSTNAME, fullmatch=True))
def test_fuzz_website_hostnames(guarded: httpx.Client, hostname: str) -> None:
    response = guarded.post("/api/websites", json={"hostname": hostname})
    valid = HOSTNAME.fullmatch(hostname) is not None
    if not valid:
        assert_error(response, 400)
        return
    assert response.status_code in (201, 409), response.text
    if response.status_code == 201:
        assert response.json() == {"hostname": hostname}
        assert guarded.get(f"/api/websites/{quote(hostname, safe='')}").json() == {"hostname": hostname}
        assert guarded.delete(f"/api/websites/{quote(hostname, safe='')}").status_code == 204


@FUZZ
@given(segment=st.text(min_size=1, max_size=80))
def test_fuzz_website_paths(guarded: httpx.Client, segment: str) -> None:
    response = guarded.get(f"/api/websites/{quote(segment, safe='')}")
    assert response.status_code in (200, 400, 401, 404), response.text
    if response.status_code != 200:
        assert_error(response, response.status_code)


@FUZZ
@given(
    ip=st.integers(min_value=1, max_value=2**32 - 2),
    username=st.text(max_size=60),
    password=st.text(max_size=140),
    extra=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2),
)
def test_fuzz_login(shared_server: Server, ip: int, username: str, password: str, extra: dict[str, object]) -> None:
    # Every example comes from its own client address, so the login throttle does not kick in.
    headers = {"X-Forwarded-For": str(ipaddress.IPv4Address(ip))}
    with httpx.Client(base_url=shared_server.base_url, headers=headers) as anonymous:
        response = anonymous.post("/api/auth/login", json={**extra, "username": username, "password": password})
    assert response.status_code in (200, 400, 401), response.text
    if response.status_code != 200:
        assert_error(response, response.status_code)


@FUZZ
@given(value=st.text(alphabet=string.printable.replace(";", "").replace("\r", "").replace("\n", ""), max_size=200))
def test_fuzz_cookie_values(shared_server: Server, value: str) -> None:
    response = raw_request(shared_server.port, get_request(b"/api/user", b"Cookie: _me_sess=" + value.encode()))
    assert response.status == 401 or (response.status == 400 and b"Invalid HTTP" in response.body)
