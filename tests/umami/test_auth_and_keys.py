"""API keys and Umami login tokens: creation, use on both APIs, revocation, 401/403 rules, no keys in logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.server import register_website, running_server
from tests.umami.conftest import assert_umami_error, make_api_key, umami_login

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.server import Server


def test_key_is_shown_once_and_listed_without_its_secret(cookie_client: httpx.Client) -> None:
    created = cookie_client.post("/api/user/api-keys", json={"name": "warehouse sync"})
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("mdk_")
    assert len(body["key"]) > 40
    assert body["name"] == "warehouse sync"
    assert body["dateLastUsed"] is None
    listed = cookie_client.get("/api/user/api-keys").json()
    mine = next(k for k in listed if k["id"] == body["id"])
    assert mine == {k: v for k, v in body.items() if k != "key"}
    assert body["key"] not in cookie_client.get("/api/user/api-keys").text
    # Using the key records its last use.
    assert httpx.get(f"{cookie_client.base_url}/umami/api/me", headers={"x-umami-api-key": body["key"]}).is_success
    used = next(k for k in cookie_client.get("/api/user/api-keys").json() if k["id"] == body["id"])
    assert isinstance(used["dateLastUsed"], int)


def test_key_name_is_validated(cookie_client: httpx.Client) -> None:
    for bad in ({"name": ""}, {"name": "x" * 101}, {}, {"name": 5}):
        assert cookie_client.post("/api/user/api-keys", json=bad).status_code == 400


def test_auth_matrix(umami_server: Server, cookie_client: httpx.Client) -> None:
    base = umami_server.base_url
    host = "keys-matrix.example"
    register_website(cookie_client, host)
    key = make_api_key(cookie_client, "matrix")
    # No credential: 401 on both APIs.
    assert_umami_error(httpx.get(f"{base}/umami/api/websites"), 401, "unauthorized")
    assert httpx.get(f"{base}/api/website/{host}/summary").status_code == 401
    # A key reads Medama's stats and Umami's routes, under either header.
    assert httpx.get(f"{base}/api/website/{host}/summary", headers={"x-umami-api-key": key}).status_code == 200
    assert (
        httpx.get(f"{base}/api/website/{host}/summary", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    )
    assert httpx.get(f"{base}/umami/api/websites", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert httpx.get(f"{base}/umami/v1/websites", headers={"x-umami-api-key": key}).status_code == 200
    # A key cannot manage users, passwords or keys.
    for method, path in (
        ("PATCH", "/api/user"),
        ("DELETE", "/api/user"),
        ("GET", "/api/user/api-keys"),
        ("POST", "/api/user/api-keys"),
        ("DELETE", "/api/user/api-keys/apikey_x"),
    ):
        response = httpx.request(method, f"{base}{path}", headers={"x-umami-api-key": key}, json={"name": "x"})
        assert response.status_code == 403, (method, path, response.text)
    assert_umami_error(httpx.get(f"{base}/umami/api/me/api-keys", headers={"x-umami-api-key": key}), 403, "forbidden")
    assert_umami_error(
        httpx.post(f"{base}/umami/api/me/api-keys", headers={"x-umami-api-key": key}, json={"name": "x"}),
        403,
        "forbidden",
    )
    # A wrong key is a 401, not a fallback to the cookie.
    assert (
        httpx.get(
            f"{base}/api/user", headers={"x-umami-api-key": "mdk_wrong"}, cookies=cookie_client.cookies
        ).status_code
        == 401
    )
    # Revocation is immediate.
    key_id = next(k["id"] for k in cookie_client.get("/api/user/api-keys").json() if k["name"] == "matrix")
    assert cookie_client.delete(f"/api/user/api-keys/{key_id}").status_code == 204
    assert_umami_error(httpx.get(f"{base}/umami/api/websites", headers={"x-umami-api-key": key}), 401, "unauthorized")
    assert httpx.get(f"{base}/api/website/{host}/summary", headers={"x-umami-api-key": key}).status_code == 401
    assert cookie_client.delete(f"/api/user/api-keys/{key_id}").status_code == 404


def test_umami_login_token_is_a_revocable_session(umami_server: Server) -> None:
    base = umami_server.base_url
    wrong = httpx.post(f"{base}/umami/api/auth/login", json={"username": "admin", "password": "nope nope"})
    assert_umami_error(wrong, 401, "unauthorized")
    assert wrong.json()["error"]["message"] == "incorrect-username-password"
    token = umami_login(base)
    bearer = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{base}/umami/api/me", headers=bearer).json()
    assert me["username"] == "admin"
    assert set(me) == {"id", "username", "role", "createdAt", "isAdmin"}
    assert httpx.post(f"{base}/umami/api/auth/verify", headers=bearer).json() == me
    # A login token may manage keys (it is a session), and reads Medama's API too.
    made = httpx.post(f"{base}/umami/api/me/api-keys", headers=bearer, json={"name": "from token"})
    assert made.status_code == 200
    assert made.json()["key"].startswith("mdk_")
    listed = httpx.get(f"{base}/umami/api/me/api-keys", headers=bearer).json()
    assert made.json()["id"] in [k["id"] for k in listed["data"]]
    assert httpx.delete(f"{base}/umami/api/me/api-keys/{made.json()['id']}", headers=bearer).status_code == 200
    assert httpx.get(f"{base}/api/user", headers=bearer).status_code == 200
    assert httpx.post(f"{base}/umami/api/auth/logout", headers=bearer).status_code == 200
    assert_umami_error(httpx.get(f"{base}/umami/api/me", headers=bearer), 401, "unauthorized")


def test_umami_login_is_throttled_like_the_cookie_login(umami_server: Server) -> None:
    base = umami_server.base_url
    headers = {"X-Forwarded-For": "198.51.100.77"}
    statuses = [
        httpx.post(
            f"{base}/umami/api/auth/login", json={"username": "admin", "password": "bad!!"}, headers=headers
        ).status_code
        for _ in range(12)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    # The same budget covers Medama's login.
    cookie = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": "bad!!"}, headers=headers)
    assert cookie.status_code == 429


def test_bad_login_bodies_are_umami_400s(umami_server: Server) -> None:
    base = umami_server.base_url
    for body in (b"", b"{", b"[]", b'{"username": 1, "password": "x"}'):
        response = httpx.post(
            f"{base}/umami/api/auth/login", content=body, headers={"content-type": "application/json"}
        )
        assert_umami_error(response, 400, "bad-request")


@pytest.mark.e2e  # restarts the real server
def test_keys_survive_a_restart_and_never_reach_the_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data) as server:
        token = umami_login(server.base_url)
        key = httpx.post(
            f"{server.base_url}/umami/api/me/api-keys", headers={"Authorization": f"Bearer {token}"}, json={"name": "k"}
        ).json()["key"]
        assert httpx.get(f"{server.base_url}/umami/api/me", headers={"x-umami-api-key": key}).status_code == 200
        httpx.get(f"{server.base_url}/umami/api/me", headers={"x-umami-api-key": key + "x"})
        first_log = server.log()
    with running_server(data, "-level", "debug") as server:
        assert httpx.get(f"{server.base_url}/umami/api/me", headers={"x-umami-api-key": key}).status_code == 200
        assert httpx.get(f"{server.base_url}/api/user", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        httpx.get(f"{server.base_url}/api/user", headers={"Authorization": f"Bearer {key}x"})
        second_log = server.log()
    for log in (first_log, second_log):
        assert key[4:20] not in log
        assert token[:16] not in log
    stored = (data / "me_meta.db").read_bytes()
    assert key.encode() not in stored
    assert key[4:].encode() not in stored


def test_a_key_acts_with_its_users_current_role(umami_server: Server, cookie_client: httpx.Client) -> None:
    base = umami_server.base_url
    for host in ("granted-k.example", "hidden-k.example"):
        register_website(cookie_client, host)
    created = cookie_client.post(
        "/api/users", json={"username": "keyholder", "password": "holder password", "role": "admin"}
    )
    assert created.status_code == 201, created.text
    with httpx.Client(base_url=base) as holder:
        assert holder.post("/api/auth/login", json={"username": "keyholder", "password": "holder password"}).is_success
        key = holder.post("/api/user/api-keys", json={"name": "holder key"}).json()["key"]
        # Demoted to a viewer of one website: the key follows the role at once. A viewer may still make keys
        # of its own (docs/accounts.md): a key never reads more than its user does.
        demoted = cookie_client.patch(
            f"/api/users/{created.json()['id']}", json={"role": "viewer", "websites": ["granted-k.example"]}
        )
        assert demoted.status_code == 200, demoted.text
        assert holder.post("/api/user/api-keys", json={"name": "another"}).status_code == 201
    headers = {"x-umami-api-key": key}
    listed = httpx.get(f"{base}/umami/api/websites", headers=headers).json()
    assert [w["domain"] for w in listed["data"]] == ["granted-k.example"]
    me = httpx.get(f"{base}/umami/api/me", headers=headers).json()
    assert (me["role"], me["isAdmin"]) == ("viewer", False)
    admin_sites = httpx.get(
        f"{base}/umami/api/websites", headers={"x-umami-api-key": make_api_key(cookie_client)}
    ).json()
    hidden = next(w["id"] for w in admin_sites["data"] if w["domain"] == "hidden-k.example")
    window = {"startAt": 0, "endAt": 4_102_444_800_000}
    assert_umami_error(
        httpx.get(f"{base}/umami/api/websites/{hidden}/stats", headers=headers, params=window), 404, "not-found"
    )
    assert httpx.get(f"{base}/api/website/hidden-k.example/summary", headers=headers).status_code == 404
    assert httpx.get(f"{base}/api/website/granted-k.example/summary", headers=headers).status_code == 200
