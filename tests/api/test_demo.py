"""Demo mode: every mutation answers 403 `user in demo mode`, after security and body validation, as in Medama."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.helpers import SeedUser, account_state, assert_error, seed_data_dir
from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # demo mode is a flag of `medama start -env`

ADMIN = SeedUser("user_01h455vb4pex5vsknk084sn0ad", DEFAULT_USERNAME, DEFAULT_PASSWORD, websites=("demo.example",))
SETTINGS = {"script_type": "default", "blocked_ips": "192.0.2.1"}
DEMO = "user in demo mode"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Demo mode switched on through the environment (`-env` + DEMO_MODE), on seeded data."""
    data = tmp_path_factory.mktemp("demo") / "data"
    seed_data_dir(data, users=[ADMIN], settings=SETTINGS, with_admin=False)
    with running_server(data, "-env", env={"DEMO_MODE": "true"}) as running:
        yield running


@pytest.fixture(scope="module")
def before(client: httpx.Client) -> dict[str, object]:
    return account_state(client)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/user", {"username": "demo-hacker"}),
        ("PATCH", "/api/user", {"password": "new-password"}),
        ("PATCH", "/api/user", {}),
        ("DELETE", "/api/user", None),
        ("PATCH", "/api/tenant/settings", {"blockAbusiveIPs": False}),
        ("PATCH", "/api/tenant/settings", {}),
        ("POST", "/api/websites", {"hostname": "new.example"}),
        ("PATCH", "/api/websites/demo.example", {"hostname": "renamed.example"}),
        ("PATCH", "/api/websites/demo.example", {}),
        ("DELETE", "/api/websites/demo.example", None),
        ("PATCH", "/api/websites/unknown.example", {"hostname": "x.example"}),
        ("DELETE", "/api/websites/unknown.example", None),
    ],
)
def test_mutations_are_403(
    client: httpx.Client, before: dict[str, object], method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body) if body is not None else client.request(method, path)
    assert_error(response, 403, DEMO)
    assert account_state(client) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/user", {"username": "x"}),
        ("PATCH", "/api/user", {"settings": {"language": "de"}}),
        ("PATCH", "/api/tenant/settings", {"script_type": []}),
        ("PATCH", "/api/tenant/settings", {"blockedIPs": ["::1"]}),
        ("POST", "/api/websites", {"hostname": "bad host"}),
        ("POST", "/api/websites", {}),
        ("PATCH", "/api/websites/demo.example", {"hostname": "bad_host"}),
        ("PATCH", "/api/websites/bad_host", {}),
        ("DELETE", "/api/websites/bad_host", None),
    ],
)
def test_invalid_requests_are_400_before_403(
    client: httpx.Client, before: dict[str, object], method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body) if body is not None else client.request(method, path)
    assert_error(response, 400)
    assert account_state(client) == before


def test_unauthenticated_mutations_are_401(anonymous: httpx.Client) -> None:
    assert_error(anonymous.patch("/api/user", json={"username": "demo-hacker"}), 401)
    assert_error(anonymous.post("/api/websites", json={"hostname": "x.example"}), 401)


def test_reads_login_and_logout_still_work(shared_server: Server, client: httpx.Client) -> None:
    assert client.get("/api/user").json()["username"] == "admin"
    assert client.get("/api/websites", params={"summary": "true"}).json() == [
        {"hostname": "demo.example", "summary": {"visitors": 0}}
    ]
    assert client.get("/api/websites/demo.example").status_code == 200
    assert client.get("/api/user/usage").status_code == 200
    assert client.get("/api/tenant/settings").json()["blockedIPs"] == ["192.0.2.1"]
    with httpx.Client(base_url=shared_server.base_url) as other:
        login = other.post("/api/auth/login", json={"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD})
        assert login.status_code == 200
        assert other.post("/api/auth/logout").status_code == 204
