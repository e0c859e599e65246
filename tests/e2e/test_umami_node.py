"""The real `@umami/node@0.4.0` (tests/umami_node, installed with `npm ci`) against the real server.

Page views, events with and without a distinct id, and identify; the numbers read back through the
Medama API (page views, visitors, pages, sources) and the stored Umami rows equal what was sent.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.support.server import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    logged_in_client,
    register_website,
    running_server,
)

pytestmark = pytest.mark.e2e

CLIENT = Path(__file__).resolve().parents[1] / "umami_node"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for the @umami/node tests (make test installs its npm package)")
    if not (CLIENT / "node_modules" / "@umami" / "node").is_dir():
        npm = shutil.which("npm") or pytest.fail("npm is required to install @umami/node")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=CLIENT, check=True, timeout=300)
    return node


def _umami_stats(base_url: str, website: str) -> dict[str, Any]:
    """GET /umami/api/websites/{id}/stats over the last day, logged in through Umami's login route."""
    with httpx.Client(base_url=f"{base_url}/umami/api", timeout=10) as umami:
        login = umami.post("/auth/login", json={"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD})
        assert login.status_code == 200, login.text
        now_ms = int(time.time() * 1000)
        response = umami.get(
            f"/websites/{website}/stats",
            params={"startAt": now_ms - 86_400_000, "endAt": now_ms + 60_000},
            headers={"Authorization": f"Bearer {login.json()['token']}"},
        )
        assert response.status_code == 200, response.text
        stats: dict[str, Any] = response.json()
        return stats


def test_umami_node_hits_show_up_in_medama(tmp_path: Path) -> None:
    node = _node()
    with running_server(tmp_path / "data") as server, closing(logged_in_client(server)) as admin:
        register_website(admin, "node.example")
        with closing(sqlite3.connect(server.appdb)) as meta:
            (website,) = meta.execute("SELECT uuid FROM website_uuids WHERE hostname = 'node.example'").fetchone()
        run = subprocess.run(
            [node, "drive.mjs", f"{server.base_url}/umami", website],
            cwd=CLIENT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        answers: list[dict[str, Any]] = json.loads(run.stdout)
        summary = admin.get("/api/website/node.example/summary").json()["current"]
        pages = {row["path"]: row["visitors"] for row in admin.get("/api/website/node.example/pages").json()}
        views = {row["path"]: row["pageviews"] for row in admin.get("/api/website/node.example/pages").json()}
        sources = [row["source"] for row in admin.get("/api/website/node.example/sources").json() if row["source"]]
        browsers = admin.get("/api/website/node.example/browsers").json()
        umami_stats = _umami_stats(server.base_url, website)

    assert [a["status"] for a in answers] == [200] * 9
    assert all(set(a["body"]) == {"cache", "sessionId", "visitId"} for a in answers)
    sessions = [a["body"]["sessionId"] for a in answers]
    assert sessions[3] == sessions[4] == sessions[5]  # the distinct id names one session
    assert len(set(sessions[:3] + sessions[6:])) == 6  # no id: every hit a session of its own
    # Medama's API: 5 page views; visitors = 3 anonymous sessions + user-1 once today.
    assert (summary["pageviews"], summary["visitors"]) == (5, 4)
    assert views == {"/a": 3, "/b": 2}
    assert pages == {"/a": 3, "/b": 1}
    assert sources == ["newsletter"]
    assert [row["browser"] for row in browsers] == ["Unknown"]  # a server has no browser, as in Umami
    # The Umami read API agrees with Medama's on the same data.
    assert (umami_stats["pageviews"], umami_stats["visitors"]) == (5, 4)

    with duckdb.connect(str(server.analyticsdb), read_only=True) as db:
        hits = db.execute(
            "SELECT h.event_type, h.event_name, h.distinct_id, v.ua_device_type FROM umami_hits AS h"
            " LEFT JOIN views AS v ON v.bid = h.bid ORDER BY h.date_created"
        ).fetchall()
        data = db.execute("SELECT event_name, data_key, data_type, string_value FROM umami_event_data ORDER BY 1, 2")
        event_data = data.fetchall()
        session_data = db.execute("SELECT data_key, string_value FROM umami_session_data ORDER BY 1").fetchall()
    assert [h[:3] for h in hits] == [
        (1, None, None),
        (1, None, None),
        (1, None, None),
        (1, None, "user-1"),
        (1, None, "user-1"),
        (2, "purchase", "user-1"),
        (2, "signup", None),
        (2, "signup", None),
    ]
    # Page views are Desktop (no User-Agent details); events without a page view in their visit link to none.
    assert {h[3] for h in hits if h[0] == 1} == {"Desktop"}
    assert event_data == [
        ("purchase", "sku", 1, "X1"),
        ("purchase", "total", 2, "9.5"),
        ("signup", "plan", 1, "pro"),
        ("signup", "trial", 3, "true"),
    ]
    assert session_data == [("email", "someone@example.com"), ("plan", "pro")]
