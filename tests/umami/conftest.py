"""Fixtures for the Umami-compatible API: one real server per module, an API key and a login token."""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server


@pytest.fixture(scope="module")
def umami_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # 127.0.0.1 stands for a proxy, so X-Forwarded-For can name other clients of the login throttle.
    with running_server(tmp_path_factory.mktemp("umami") / "data", "-trustedproxies", "127.0.0.1") as running:
        yield running


@pytest.fixture(scope="module")
def cookie_client(umami_server: Server) -> Iterator[httpx.Client]:
    with closing(logged_in_client(umami_server)) as client:
        yield client


def make_api_key(cookie_client: httpx.Client, name: str = "tests") -> str:
    response = cookie_client.post("/api/user/api-keys", json={"name": name})
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def umami_login(base_url: str) -> str:
    response = httpx.post(
        f"{base_url}/umami/api/auth/login", json={"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture(scope="module")
def api_key(cookie_client: httpx.Client) -> str:
    return make_api_key(cookie_client)


@pytest.fixture(scope="module")
def umami(umami_server: Server, api_key: str) -> Iterator[httpx.Client]:
    """The Umami API under /umami/api, with an API key."""
    base = f"{umami_server.base_url}/umami/api"
    with httpx.Client(base_url=base, headers={"x-umami-api-key": api_key}, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def login_token(umami_server: Server) -> str:
    return umami_login(umami_server.base_url)


def assert_umami_error(response: httpx.Response, status: int, code: str) -> None:
    """Umami's envelope: {"error": {"message": str, "code": code, "status": status}}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
