"""An escaped NUL (%00) in a page path is refused like a raw one; no NUL ever reaches the analytics file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

import duckdb
import httpx
import pytest

from tests.api.helpers import assert_error
from tests.support.hits import make_hit
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e  # the real server and its files

HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB", "Content-Type": "text/plain"}


def test_escaped_nul_is_refused_and_never_stored(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server:
        with closing(logged_in_client(server)) as admin:
            register_website(admin, "nul.example")
        with closing(sqlite3.connect(server.appdb)) as meta:
            row = meta.execute("SELECT uuid FROM website_uuids WHERE hostname = 'nul.example'").fetchone()
        with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=10) as tracker:
            for url in ("https://nul.example/a%00b", "/a%00b", "https://nul.example/a%2500%00"):
                refused = tracker.post("/api/event/hit", content=make_hit(b="n", u=url, r=..., q=True))
                assert_error(refused, 400)
                assert "NUL" in refused.json()["error"]["message"]
            utm = "https://nul.example/ok?utm_source=a%00b&utm_medium=c%00"
            assert tracker.post("/api/event/hit", content=make_hit(b="u", u=utm, r=..., q=True)).status_code == 204
        for url in ("https://nul.example/x%00y", "https://nul.example/x\x00y"):
            payload = {"website": row[0], "url": url, "hostname": "nul.example"}
            umami = httpx.post(
                f"{server.base_url}/umami/api/send",
                json={"type": "event", "payload": payload},
                headers={"User-Agent": BROWSER_UA},
                timeout=10,
            )
            assert umami.status_code == 400, (url, umami.text)
        assert server.stop() == 0
    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        rows = conn.execute("SELECT pathname, utm_source, utm_medium FROM views").fetchall()
    assert rows == [("/ok", "ab", "c")]
