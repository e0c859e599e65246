"""Cross-site requests with the cookie are refused; a wildcard -corsorigins never grants credentials."""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.helpers import assert_error
from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # real servers through real sockets

EVIL = "https://evil.example"
TRUSTED = "https://app.example"
SETTINGS = {"script_type": ["default"]}
LOGIN = {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("csrf") / "data", "-corsorigins", TRUSTED) as running:
        yield running


@pytest.fixture
def admin(server: Server) -> Iterator[httpx.Client]:
    with closing(logged_in_client(server)) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.2:1234"},  # another host, same port
    ],
)
def test_cookie_changes_from_another_site_are_refused(admin: httpx.Client, headers: dict[str, str]) -> None:
    assert_error(admin.patch("/api/tenant/settings", json=SETTINGS, headers=headers), 403, "cross-site request refused")
    assert_error(admin.post("/api/websites", json={"hostname": "csrf.example"}, headers=headers), 403)
    assert_error(admin.delete("/api/user", headers=headers), 403)
    assert_error(admin.post("/api/auth/logout", headers=headers), 403)
    assert admin.get("/api/user").status_code == 200  # nothing was changed, the session still works
    assert "csrf.example" not in admin.get("/api/websites").text


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser (curl, scripts)
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": TRUSTED, "Sec-Fetch-Site": "cross-site"},  # named in -corsorigins
        {"Origin": TRUSTED.upper()},
    ],
)
def test_same_site_and_named_origins_may_change(admin: httpx.Client, headers: dict[str, str]) -> None:
    assert admin.patch("/api/tenant/settings", json=SETTINGS, headers=headers).status_code == 200


def test_the_servers_own_origin_may_change(server: Server, admin: httpx.Client) -> None:
    own = {"Origin": server.base_url}
    assert admin.patch("/api/tenant/settings", json=SETTINGS, headers=own).status_code == 200


def test_reading_from_another_site_is_not_refused(admin: httpx.Client) -> None:
    # Reads change nothing, and the browser does not let that site see the answer without CORS.
    assert admin.get("/api/user", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_login_from_another_site_is_refused(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:
        refused = browser.post("/api/auth/login", json=LOGIN, headers={"Origin": EVIL})
        assert_error(refused, 403)
        assert "set-cookie" not in refused.headers
        text_plain = browser.post(
            "/api/auth/login",
            content=b'{"username":"admin","password":"CHANGE_ME_ON_FIRST_LOGIN"}',
            headers={"Content-Type": "text/plain"},
        )
        assert_error(text_plain, 415)
        assert browser.post("/api/auth/login", json=LOGIN, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_a_wildcard_never_grants_credentials(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", "-corsorigins", "*") as server, closing(logged_in_client(server)) as admin:
        response = admin.get("/api/user", headers={"Origin": EVIL})
        assert response.status_code == 200
        assert "access-control-allow-credentials" not in response.headers
        preflight = httpx.options(
            f"{server.base_url}/api/tenant/settings",
            headers={"Origin": EVIL, "Access-Control-Request-Method": "PATCH"},
        )
        assert "access-control-allow-credentials" not in preflight.headers
        assert_error(admin.patch("/api/tenant/settings", json=SETTINGS, headers={"Origin": EVIL}), 403)
        log = server.log()
    assert "-corsorigins '*'" in log
    assert "never with a user's cookie" in log


def test_a_named_origin_still_gets_credentials(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/api/user", headers={"Origin": TRUSTED})
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-origin"] == TRUSTED
