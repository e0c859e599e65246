"""One envelope for every error status (docs/architecture.md#errors), including 500s, which never end the process.

403 (demo mode) is pinned in tests/api/test_demo.py, which runs a demo server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.helpers import SeedUser, assert_error, seed_data_dir
from tests.support.server import logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # the real server, including its 500 path

BROKEN = SeedUser("user_01h455vb4pex5vsknk084sn0bb", "broken-hash", "whatever", raw_hash="not-an-argon2-hash")


@pytest.fixture(scope="module")
def odd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose data holds a malformed password hash and a malformed stored setting (Go-era corruption)."""
    data = tmp_path_factory.mktemp("errors") / "data"
    seed_data_dir(data, users=[BROKEN], settings={"blocked_ips": "10.0.0.1,not-an-ip"})
    with running_server(data, "-trustedproxies", "127.0.0.1") as running:  # X-Forwarded-For names the client
        yield running


@pytest.fixture(scope="module")
def admin(odd_server: Server) -> Iterator[httpx.Client]:
    client = logged_in_client(odd_server)
    try:
        client.post("/api/websites", json={"hostname": "taken.example"})
        yield client
    finally:
        client.close()


@pytest.mark.parametrize(
    ("status", "method", "path", "body", "headers", "message"),
    [
        (400, "POST", "/api/websites", {"hostname": "bad host"}, {}, None),
        (400, "GET", "/api/websites?summary=maybe", None, {}, None),
        (401, "GET", "/api/user", None, {"Cookie": "_me_sess=forged"}, None),
        (404, "GET", "/api/websites/unknown.example", None, {}, "website not found"),
        (404, "GET", "/api/nothing-here", None, {}, "api path not found"),
        (405, "PUT", "/api/user", None, {}, None),
        (409, "POST", "/api/websites", {"hostname": "taken.example"}, {}, "website already exists"),
        (413, "POST", "/api/websites", {"hostname": "x" * 70000}, {}, None),
        (415, "POST", "/api/websites", None, {"Content-Type": "text/csv"}, None),
    ],
)
def test_each_status_has_the_envelope(
    admin: httpx.Client,
    status: int,
    method: str,
    path: str,
    body: object,
    headers: dict[str, str],
    message: str | None,
) -> None:
    kwargs: dict[str, object] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    elif method == "POST":
        kwargs["content"] = b"hostname"
    response = admin.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert_error(response, status, message)
    assert response.headers["access-control-expose-headers"] == "X-Api-Commit"


def test_unauthenticated_401(odd_server: Server) -> None:
    with httpx.Client(base_url=odd_server.base_url) as anonymous:
        assert_error(anonymous.get("/api/user"), 401, "missing security token or cookie")


def test_429(odd_server: Server) -> None:
    with httpx.Client(base_url=odd_server.base_url, headers={"X-Forwarded-For": "192.0.2.200"}) as client:
        for attempt in range(10):
            client.post("/api/auth/login", json={"username": "admin", "password": f"nope-{attempt}"})
        assert_error(client.post("/api/auth/login", json={"username": "admin", "password": "nope-final"}), 429)


def test_500_for_a_malformed_stored_hash_and_the_process_keeps_serving(odd_server: Server, admin: httpx.Client) -> None:
    with httpx.Client(base_url=odd_server.base_url) as client:
        response = client.post("/api/auth/login", json={"username": "broken-hash", "password": "whatever"})
    assert_error(response, 500)
    assert "hash" in response.json()["error"]["message"]
    assert admin.get("/api/user").status_code == 200


def test_500_for_a_malformed_stored_setting(odd_server: Server, admin: httpx.Client) -> None:
    response = admin.get("/api/tenant/settings")
    assert_error(response, 500)
    assert "blocked IP" in response.json()["error"]["message"]
    assert '"level": "error"' in odd_server.log()  # logged for the operator…
    assert admin.get("/api/websites").status_code == 200  # …and the server carries on
