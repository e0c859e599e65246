"""POST /auth/login and /auth/logout, sessions and the cookie check (docs/compatibility.md#sessions)."""

from __future__ import annotations

import json
from contextlib import closing
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.helpers import assert_error
from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, logged_in_client, running_server

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # the login throttle by client address, restarts and raw cookies need the real server

CREDENTIALS = {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}
SESSION_TTL = 30 * 24 * 3600
COOKIE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.~")


def set_cookie_attributes(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The `_me_sess` value and its attributes (lower-cased names; flags map to "")."""
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    name_value, *attributes = (part.strip() for part in headers[0].split(";"))
    name, _, value = name_value.partition("=")
    assert name == "_me_sess"
    parsed = {}
    for attribute in attributes:
        key, _, attr_value = attribute.partition("=")
        parsed[key.lower()] = attr_value
    return value, parsed


def test_login_sets_the_session_cookie(anonymous: httpx.Client) -> None:
    response = anonymous.post("/api/auth/login", json=CREDENTIALS)
    assert response.status_code == 200
    assert response.content == b""
    value, attributes = set_cookie_attributes(response)
    assert value
    assert set(value) <= COOKIE_CHARS
    assert len(value) >= 32
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == str(SESSION_TTL)
    assert "secure" not in attributes  # plain HTTP from localhost: Secure would make browsers drop it
    assert "domain" not in attributes
    assert response.headers["access-control-expose-headers"] == "Set-Cookie,X-Api-Commit"
    assert "x-api-commit" not in response.headers  # POST
    # The cookie parses as one standard cookie.
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    assert jar["_me_sess"].value == value


@pytest.mark.parametrize("proto", ["https", "HTTPS", "https, http"])
def test_cookie_is_secure_behind_https_proxy(anonymous: httpx.Client, proto: str) -> None:
    response = anonymous.post("/api/auth/login", json=CREDENTIALS, headers={"X-Forwarded-Proto": proto})
    assert response.status_code == 200
    assert "secure" in set_cookie_attributes(response)[1]


def test_cookie_is_not_secure_for_forwarded_http(anonymous: httpx.Client) -> None:
    response = anonymous.post("/api/auth/login", json=CREDENTIALS, headers={"X-Forwarded-Proto": "http"})
    assert "secure" not in set_cookie_attributes(response)[1]


def test_each_login_is_a_new_session(anonymous: httpx.Client) -> None:
    first = anonymous.post("/api/auth/login", json=CREDENTIALS)
    second = anonymous.post("/api/auth/login", json=CREDENTIALS)
    assert set_cookie_attributes(first)[0] != set_cookie_attributes(second)[0]


def test_login_refuses_text_plain_bodies(anonymous: httpx.Client) -> None:
    # A cross-site form can send text/plain without a preflight (login CSRF, docs/security.md); JSON it cannot.
    body = b'{"username":"admin","password":"CHANGE_ME_ON_FIRST_LOGIN"}'
    response = anonymous.post("/api/auth/login", content=body, headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert_error(response, 415)
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "admin", "password": "wrong-password"},
        {"username": "nobody", "password": DEFAULT_PASSWORD},
        {"username": "ADMIN", "password": DEFAULT_PASSWORD},  # usernames are case-sensitive
        {"username": "admin ", "password": DEFAULT_PASSWORD},
    ],
)
def test_bad_credentials_are_401_user_not_found(shared_server: Server, credentials: dict[str, str]) -> None:
    # A client key of its own keeps these failures from throttling the other tests' logins.
    with httpx.Client(base_url=shared_server.base_url, headers={"X-Forwarded-For": "198.51.100.1"}) as other:
        response = other.post("/api/auth/login", json=credentials)
    assert_error(response, 401, "user not found")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ({"username": "ad", "password": DEFAULT_PASSWORD}, "application/json", 400),
        ({"username": "admin", "password": "1234"}, "application/json", 400),
        ({"username": "a" * 49, "password": DEFAULT_PASSWORD}, "application/json", 400),
        ({"username": "admin", "password": "p" * 129}, "application/json", 400),
        ({"username": "admin"}, "application/json", 400),
        ({"password": DEFAULT_PASSWORD}, "application/json", 400),
        ({"username": None, "password": DEFAULT_PASSWORD}, "application/json", 400),
        (CREDENTIALS, "application/x-www-form-urlencoded", 415),
        (CREDENTIALS, "application/xml", 415),
    ],
)
def test_invalid_login_requests(
    anonymous: httpx.Client, body: dict[str, object], content_type: str, status: int
) -> None:
    response = anonymous.post("/api/auth/login", content=json.dumps(body), headers={"Content-Type": content_type})
    assert_error(response, status)


def test_login_without_content_type_is_400(anonymous: httpx.Client) -> None:
    response = anonymous.post("/api/auth/login", content=b'{"username":"admin","password":"CHANGE_ME"}')
    assert "content-type" not in response.request.headers
    assert_error(response, 400)


def test_login_unknown_keys_are_ignored(anonymous: httpx.Client) -> None:
    assert anonymous.post("/api/auth/login", json={**CREDENTIALS, "remember": True}).status_code == 200


def test_login_is_throttled_per_client_ip(shared_server: Server) -> None:
    attacker = {"X-Forwarded-For": "203.0.113.66"}
    with httpx.Client(base_url=shared_server.base_url, headers=attacker) as client:
        statuses = [
            client.post("/api/auth/login", json={"username": "admin", "password": f"guess-{i}"}).status_code
            for i in range(10)
        ]
        assert statuses == [401] * 10
        blocked = client.post("/api/auth/login", json={"username": "admin", "password": "guess-10"})
        assert_error(blocked, 429)
        assert int(blocked.headers["retry-after"]) > 0
        # Even the right password waits until the window passes.
        assert_error(client.post("/api/auth/login", json=CREDENTIALS), 429)
    # Other clients are not affected.
    with httpx.Client(base_url=shared_server.base_url, headers={"X-Forwarded-For": "203.0.113.67"}) as other:
        assert other.post("/api/auth/login", json=CREDENTIALS).status_code == 200


def test_successful_login_resets_the_failure_count(shared_server: Server) -> None:
    with httpx.Client(base_url=shared_server.base_url, headers={"X-Forwarded-For": "203.0.113.80"}) as client:
        for round_ in range(2):
            for i in range(9):
                response = client.post("/api/auth/login", json={"username": "admin", "password": f"bad-{round_}-{i}"})
                assert response.status_code == 401
            assert client.post("/api/auth/login", json=CREDENTIALS).status_code == 200


def test_secured_operations_need_the_cookie(anonymous: httpx.Client) -> None:
    for method, path in [
        ("GET", "/api/user"),
        ("PATCH", "/api/user"),
        ("DELETE", "/api/user"),
        ("GET", "/api/user/usage"),
        ("GET", "/api/tenant/settings"),
        ("PATCH", "/api/tenant/settings"),
        ("GET", "/api/websites"),
        ("POST", "/api/websites"),
        ("GET", "/api/websites/a.example"),
        ("PATCH", "/api/websites/a.example"),
        ("DELETE", "/api/websites/a.example"),
    ]:
        assert_error(anonymous.request(method, path), 401, "missing security token or cookie")
        response = anonymous.request(method, path, headers={"Cookie": "_me_sess=not-a-session"})
        assert_error(response, 401)
        assert "unauthorised session" in response.json()["error"]["message"]


def test_unauthenticated_bad_requests_are_401_before_400(anonymous: httpx.Client) -> None:
    # Security runs before parameter and body validation, as in Medama.
    assert_error(anonymous.patch("/api/user", content=b"{not json", headers={"Content-Type": "application/json"}), 401)
    assert_error(anonymous.patch("/api/user", json={"username": "x"}), 401)
    assert_error(anonymous.post("/api/websites", content=b"hostname", headers={"Content-Type": "text/plain"}), 401)
    assert_error(anonymous.get("/api/websites/bad_host"), 401)
    assert_error(anonymous.get("/api/websites", params={"summary": "maybe"}), 401)
    assert_error(anonymous.patch("/api/tenant/settings", json={"script_type": []}), 401)


def test_logout_revokes_the_session(shared_server: Server) -> None:
    with closing(logged_in_client(shared_server)) as client:
        cookie = client.cookies["_me_sess"]
        assert client.get("/api/user").status_code == 200
        response = client.post("/api/auth/logout")
        assert response.status_code == 204
        assert response.content == b""
        assert response.headers["access-control-expose-headers"] == "Set-Cookie,X-Api-Commit"
        value, attributes = set_cookie_attributes(response)
        assert value in ("", '""')
        assert attributes["path"] == "/"
        assert "httponly" in attributes
        assert attributes.get("max-age") == "0" or "1970" in attributes.get("expires", "")
    with httpx.Client(base_url=shared_server.base_url, cookies={"_me_sess": cookie}) as replay:
        assert_error(replay.get("/api/user"), 401)


def test_logout_keeps_other_sessions(shared_server: Server) -> None:
    with closing(logged_in_client(shared_server)) as first, closing(logged_in_client(shared_server)) as second:
        assert first.post("/api/auth/logout").status_code == 204
        assert second.get("/api/user").status_code == 200


def test_logout_without_cookie_is_400(anonymous: httpx.Client) -> None:
    assert_error(anonymous.post("/api/auth/logout"), 400)


@pytest.mark.parametrize("value", ["garbage", "a" * 500, "%00%ff", "Zm9vYmFy"])
def test_logout_with_any_cookie_is_204(anonymous: httpx.Client, value: str) -> None:
    response = anonymous.post("/api/auth/logout", headers={"Cookie": f"_me_sess={value}"})
    assert response.status_code == 204


def test_sessions_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data) as first, closing(logged_in_client(first)) as client:
        cookie = client.cookies["_me_sess"]
    with running_server(data) as second, httpx.Client(base_url=second.base_url, cookies={"_me_sess": cookie}) as again:
        response = again.get("/api/user")
        assert response.status_code == 200
        assert response.json()["username"] == "admin"
        assert again.post("/api/auth/logout").status_code == 204
        assert_error(again.get("/api/user", headers={"Cookie": f"_me_sess={cookie}"}), 401)
