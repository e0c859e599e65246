"""Issue 2 "done when", end to end on the real `medama start` (or MEDAMA_BIN): log in as admin, change the
password, create/list/rename/delete a website, log out and see the old cookie refused; restart and log in
with the new password; SIGTERM ends with exit 0 after the databases closed.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, start_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a much better passphrase"


def log_messages(text: str) -> list[str]:
    """The `message` of each JSON log line (the default -logger json)."""
    messages = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            messages.append(str(record.get("message", "")))
    return messages


def test_issue_2_done_when(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            login = client.post("/api/auth/login", json={"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD})
            assert login.status_code == 200
            old_cookie = client.cookies["_me_sess"]

            changed = client.patch("/api/user", json={"password": NEW_PASSWORD})
            assert changed.status_code == 200
            assert changed.json()["username"] == DEFAULT_USERNAME

            assert client.post("/api/websites", json={"hostname": "shop.example"}).status_code == 201
            assert client.post("/api/websites", json={"hostname": "blog.example"}).status_code == 201
            assert client.get("/api/websites").json() == [{"hostname": "shop.example"}, {"hostname": "blog.example"}]
            renamed = client.patch("/api/websites/shop.example", json={"hostname": "store.example"})
            assert renamed.status_code == 200
            assert renamed.json() == {"hostname": "store.example"}
            assert client.get("/api/websites").json() == [{"hostname": "store.example"}, {"hostname": "blog.example"}]
            assert client.delete("/api/websites/blog.example").status_code == 204
            assert client.get("/api/websites").json() == [{"hostname": "store.example"}]

            assert client.post("/api/auth/logout").status_code == 204
        with httpx.Client(base_url=server.base_url, timeout=10, cookies={"_me_sess": old_cookie}) as replay:
            refused = replay.get("/api/user")
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == 401
    finally:
        first_exit = server.stop(signal.SIGTERM)
    assert first_exit == 0
    first_log = log_messages(server.log())
    assert "Shutting down server..." in first_log
    assert "databases closed" in first_log
    assert first_log.index("Shutting down server...") < first_log.index("databases closed")

    restarted = start_server(data)
    try:
        with httpx.Client(base_url=restarted.base_url, timeout=10) as client:
            stale = client.post("/api/auth/login", json={"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD})
            assert stale.status_code == 401
            fresh = client.post("/api/auth/login", json={"username": DEFAULT_USERNAME, "password": NEW_PASSWORD})
            assert fresh.status_code == 200
            assert client.get("/api/user").json()["username"] == DEFAULT_USERNAME
            assert client.get("/api/websites").json() == [{"hostname": "store.example"}]
    finally:
        second_exit = restarted.stop(signal.SIGTERM)
    assert second_exit == 0
    second_log = log_messages(restarted.log())
    assert "databases closed" in second_log
    assert "creating default admin user" not in " ".join(second_log)  # the admin exists: not re-created
    assert "Traceback" not in restarted.log()

    # After a clean stop the files are closed and readable by another process.
    with sqlite3.connect(data / "me_meta.db") as conn:
        assert conn.execute("SELECT hostname FROM websites").fetchall() == [("store.example",)]


def test_debug_start_and_sigint_stop(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "-level", "debug")
    assert server.stop(signal.SIGINT) == 0
    messages = log_messages(server.log())
    assert messages[0].startswith("Medama Analytics ")  # the version line comes first
    assert any("no users found" in message for message in messages)
    assert messages.index("Shutting down server...") < messages.index("databases closed")
