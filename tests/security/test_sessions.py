"""Sessions die when they should: password change, user deletion, orphaned rows (docs/security.md, "Sessions")."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

import httpx
import pytest

from medama_py.security import hash_token
from tests.api.helpers import SeedUser, assert_error, seed_data_dir
from tests.support.server import DEFAULT_PASSWORD, logged_in_client, running_server, start_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e  # sessions across restarts of the real server

SETTINGS_READ = ("/api/user", "/api/tenant/settings", "/api/websites")


def _with_cookie(base_url: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    client.cookies.set("_me_sess", token)
    return client


def test_a_password_change_revokes_every_other_session(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server:
        changer, other, third = (logged_in_client(server) for _ in range(3))
        with closing(changer), closing(other), closing(third):
            response = changer.patch("/api/user", json={"password": "a-new-long-password"})
            assert response.status_code == 200, response.text
            assert changer.get("/api/user").status_code == 200  # the session making the change stays
            for client in (other, third):
                assert_error(client.get("/api/user"), 401)
                assert_error(client.patch("/api/tenant/settings", json={"script_type": ["default"]}), 401)
            with closing(logged_in_client(server, password="a-new-long-password")) as again:
                assert again.get("/api/user").status_code == 200


def test_other_changes_keep_the_sessions(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server:
        changer, other = logged_in_client(server), logged_in_client(server)
        with closing(changer), closing(other):
            assert changer.patch("/api/user", json={"username": "renamed-admin"}).status_code == 200
            assert other.get("/api/user").status_code == 200


def test_deleting_a_user_ends_all_its_sessions_even_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        deleter, other = logged_in_client(server), logged_in_client(server)
        token = other.cookies["_me_sess"]
        with closing(deleter), closing(other):
            assert deleter.delete("/api/user").status_code == 204
            for client in (deleter, other):
                for path in SETTINGS_READ:
                    assert_error(client.get(path), 401)
                assert_error(client.patch("/api/tenant/settings", json={"script_type": ["default"]}), 401)
    finally:
        server.stop()
    # The restart finds no user and creates the default admin again: the old cookie must not reach it.
    with running_server(data) as restarted, closing(_with_cookie(restarted.base_url, token)) as replay:
        for path in SETTINGS_READ:
            assert_error(replay.get(path), 401)
        with closing(logged_in_client(restarted, password=DEFAULT_PASSWORD)) as fresh:
            assert fresh.get("/api/user").status_code == 200


def test_a_session_whose_user_is_gone_is_401(tmp_path: Path) -> None:
    """Rows left behind by an older version (or a hand-edited database) grant nothing."""
    data = tmp_path / "data"
    seed_data_dir(data, users=[SeedUser("user_01h455vb4pex5vsknk084sn0zz", "gone", "gone-password")])
    token = "orphan-session-token"
    with closing(sqlite3.connect(data / "me_meta.db")) as db:
        db.execute(
            "INSERT INTO sessions (token_hash, user_id, date_created, date_expires) VALUES (?, ?, 0, 4102444800)",
            (hash_token(token), "user_01h455vb4pex5vsknk084sn0xx"),
        )
        db.commit()
    with running_server(data) as server, closing(_with_cookie(server.base_url, token)) as orphan:
        for path in SETTINGS_READ:
            assert_error(orphan.get(path), 401)
