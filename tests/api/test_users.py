"""GET/PATCH/DELETE /user and GET /user/usage (docs/compatibility.md#users, #usage)."""

from __future__ import annotations

import sys
import time
from contextlib import closing
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.helpers import SEED_TIME, SeedUser, assert_error, seed_data_dir
from tests.support.server import DEFAULT_PASSWORD, logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # restarts and the default user created at start

OTHER = SeedUser("user_01h455vb4pex5vsknk084sn0zz", "taken-name", "other-password")


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a second user named `taken-name`; tests that change the admin account change it back."""
    data = tmp_path_factory.mktemp("users") / "data"
    seed_data_dir(data, users=[OTHER])
    with running_server(data) as running:
        yield running


def test_get_user(client: httpx.Client) -> None:
    response = client.get("/api/user")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["username", "settings", "dateCreated", "dateUpdated"]
    assert body["username"] == "admin"
    assert body["settings"] == {"language": "en"}
    assert body["dateCreated"] == SEED_TIME  # the seeded admin's stored dates, as Unix seconds
    assert isinstance(body["dateUpdated"], int)
    assert SEED_TIME <= body["dateUpdated"] <= time.time() + 1


def test_patch_user_changes_username_and_returns_new_date_updated(shared_server: Server) -> None:
    with closing(logged_in_client(shared_server)) as client:
        before = client.get("/api/user").json()
        time.sleep(1.1)  # dates are whole seconds: make the update land in a later one
        response = client.patch("/api/user", json={"username": "renamed-admin"})
        assert response.status_code == 200
        body = response.json()
        assert body["username"] == "renamed-admin"
        assert body["settings"] == {"language": "en"}
        assert body["dateCreated"] == before["dateCreated"]
        assert body["dateUpdated"] > before["dateUpdated"]  # the new value, not the stale one
        assert client.get("/api/user").json() == body
        assert "x-api-commit" not in response.headers
    with closing(logged_in_client(shared_server, "renamed-admin", DEFAULT_PASSWORD)) as again:
        assert again.get("/api/user").json()["username"] == "renamed-admin"
        assert again.patch("/api/user", json={"username": "admin"}).status_code == 200


def test_patch_user_username_conflict_is_409(shared_server: Server) -> None:
    with closing(logged_in_client(shared_server)) as client:
        assert_error(client.patch("/api/user", json={"username": "taken-name"}), 409, "user already exists")
        assert client.get("/api/user").json()["username"] == "admin"


def test_patch_user_password(tmp_path: Path) -> None:
    # Its own server: a password change logs out the user's other sessions (tests/security/test_sessions.py).
    with running_server(tmp_path / "data") as server, closing(logged_in_client(server)) as client:
        response = client.patch("/api/user", json={"password": "a brand new secret"})
        assert response.status_code == 200
        assert response.json()["username"] == "admin"
        # The session that changed the password keeps working.
        assert client.get("/api/user").status_code == 200
        with httpx.Client(base_url=server.base_url) as anonymous:
            old = anonymous.post("/api/auth/login", json={"username": "admin", "password": DEFAULT_PASSWORD})
            assert_error(old, 401, "user not found")
        with closing(logged_in_client(server, "admin", "a brand new secret")) as again:
            assert again.get("/api/user").status_code == 200


def test_patch_user_empty_body_and_settings(client: httpx.Client) -> None:
    before = client.get("/api/user").json()
    unchanged = client.patch("/api/user", json={})
    assert unchanged.status_code == 200
    assert unchanged.json() == before
    language = client.patch("/api/user", json={"settings": {"language": "en"}, "unknown": 1})
    assert language.status_code == 200
    assert language.json()["settings"] == {"language": "en"}


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab"},
        {"username": "x" * 121},
        {"password": "1234"},
        {"password": "p" * 129},
        {"settings": {"language": "fr"}},
        {"settings": "en"},
        {"username": 123},
        {"username": None, "password": None, "settings": {"language": None}},
        [],
        "admin",
    ],
)
def test_patch_user_rejects_invalid_bodies(client: httpx.Client, body: object) -> None:
    before = client.get("/api/user").json()
    assert_error(client.patch("/api/user", json=body), 400)
    assert client.get("/api/user").json() == before


def test_patch_user_needs_json_content_type(client: httpx.Client) -> None:
    response = client.patch("/api/user", content=b'{"username":"changed"}', headers={"Content-Type": "text/plain"})
    assert_error(response, 415)
    assert client.get("/api/user").json()["username"] == "admin"


def test_delete_user_is_409_while_owning_websites(shared_server: Server) -> None:
    with closing(logged_in_client(shared_server)) as client:
        assert client.post("/api/websites", json={"hostname": "owned.example"}).status_code == 201
        refused = client.delete("/api/user")
        assert_error(refused, 409)
        assert "website" in refused.json()["error"]["message"]
        assert client.get("/api/user").status_code == 200
        assert client.get("/api/websites").json() == [{"hostname": "owned.example"}]
        assert client.delete("/api/websites/owned.example").status_code == 204


def test_delete_user_then_restart_recreates_admin(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data) as server, closing(logged_in_client(server)) as client:
        response = client.delete("/api/user")
        assert response.status_code == 204
        assert response.content == b""
        # Unlike Medama's, the session dies with its user (docs/security.md, "Sessions").
        assert_error(client.get("/api/user"), 401)
        assert_error(client.patch("/api/user", json={}), 401)
        assert_error(client.delete("/api/user"), 401)
        with httpx.Client(base_url=server.base_url) as anonymous:
            gone = anonymous.post("/api/auth/login", json={"username": "admin", "password": DEFAULT_PASSWORD})
            assert_error(gone, 401, "user not found")
    with running_server(data) as restarted, closing(logged_in_client(restarted)) as again:
        assert again.get("/api/user").json()["username"] == "admin"
        assert "creating default admin user" in restarted.log()


def test_usage_shape(client: httpx.Client) -> None:
    client.get("/api/user/usage")  # the CPU figure is "since the previous call"
    response = client.get("/api/user/usage")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["cpu", "memory", "disk", "process", "analytics"]
    assert list(body["cpu"]) == ["usage", "cores", "threads"]
    assert isinstance(body["cpu"]["usage"], float)
    assert 0.0 <= body["cpu"]["usage"] <= 100.0
    assert isinstance(body["cpu"]["cores"], int)
    assert body["cpu"]["cores"] >= 0
    assert body["cpu"]["threads"] >= 1
    for part in ("memory", "disk"):
        assert list(body[part]) == ["used", "total"]
        assert all(isinstance(body[part][key], int) for key in ("used", "total"))
        assert 0 < body[part]["used"] <= body[part]["total"] <= 2**63 - 1
    # medama_py's additions: this process's resident memory, the analytics WAL and DuckDB's memory limit.
    assert list(body["process"]) == ["rss"]
    assert 10 * 2**20 < body["process"]["rss"] < body["memory"]["total"]
    analytics = [
        *("wal", "memoryUsed", "memoryLimit", "memoryResident", "refusedHits", "recoveries"),
        *("journalFlushes", "slowJournalFlushes", "slowestJournalFlushMs", "oldestPageView"),
    ]
    assert list(body["analytics"]) == analytics
    assert 0 <= body["analytics"]["memoryUsed"] <= body["process"]["rss"]
    # DuckDB's jemalloc (its Linux wheel): what it holds in RAM is part of the process's.
    resident = body["analytics"]["memoryResident"]
    assert resident is None if sys.platform != "linux" else 0 < resident < body["process"]["rss"]
    assert isinstance(body["analytics"]["wal"], int)
    assert body["analytics"]["wal"] >= 0
    assert body["analytics"]["memoryLimit"] >= 32 * 2**20
    assert body["analytics"]["refusedHits"] == 0
    assert body["analytics"]["recoveries"] == 0
    flushes = [body["analytics"][key] for key in ("journalFlushes", "slowJournalFlushes", "slowestJournalFlushMs")]
    assert all(isinstance(value, int) for value in flushes)
    assert 0 <= flushes[1] <= flushes[0]
    assert flushes[2] >= 0
