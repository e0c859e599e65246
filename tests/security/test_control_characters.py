"""Escaped control characters (%0A, %0D, %09 …) in a page URL are refused like raw ones and like %00.

Through the real server: Medama's tracker hits and Umami's /umami/api/send answer 400 with the error
envelope, UTM values lose their control characters, a referrer's path may hold them (only its host is
stored), and the analytics file ends up with no control character anywhere (docs/security.md).
"""

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

SITE = "ctl.example"
HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB", "Content-Type": "text/plain"}
ESCAPED = ("%0A", "%0D", "%09", "%01", "%1F", "%7F")


def _load(bid: str, url: str, referrer: str = "") -> bytes:
    return make_hit(b=bid, u=url, r=referrer, p=True, q=True)


def _refused(response: httpx.Response, reason: str) -> None:
    """A 400 in the error envelope whose message ends with `reason` (after what was being decoded)."""
    assert_error(response, 400)
    assert response.json()["error"]["message"].endswith(reason), response.text


def test_escaped_control_characters_are_refused_and_never_stored(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server:
        with closing(logged_in_client(server)) as admin:
            register_website(admin, SITE)
        with closing(sqlite3.connect(server.appdb)) as meta:
            (website,) = meta.execute("SELECT uuid FROM website_uuids WHERE hostname = ?", [SITE]).fetchone()
        with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=10) as tracker:
            for escaped in ESCAPED:
                for url in (f"https://{SITE}/a{escaped}b", f"https://{SITE}/#/a{escaped}", f"/a{escaped}b"):
                    refused = tracker.post("/api/event/hit", content=_load("x", url))
                    _refused(refused, "invalid escaped control character in URL")
                bad_referrer = tracker.post(
                    "/api/event/hit", content=_load("x", f"https://{SITE}/", f"https://bad{escaped}.example/")
                )
                _refused(bad_referrer, "invalid escaped control character in URL")
            raw = tracker.post("/api/event/hit", content=_load("x", f"https://{SITE}/a\nb"))
            _refused(raw, "invalid control character in URL")
            utm = f"https://{SITE}/ok?utm_source=news%0Aletter&utm_medium=e%0D%0Amail&utm_campaign=%09spring"
            assert tracker.post("/api/event/hit", content=_load("u", utm)).status_code == 204
            referred = _load("r", f"https://{SITE}/from", "https://blog.example.org/post%0Aone")
            assert tracker.post("/api/event/hit", content=referred).status_code == 204
        for escaped in ESCAPED:
            payload = {"website": website, "url": f"https://{SITE}/x{escaped}y", "hostname": SITE}
            umami = httpx.post(
                f"{server.base_url}/umami/api/send",
                json={"type": "event", "payload": payload},
                headers={"User-Agent": BROWSER_UA},
                timeout=10,
            )
            # Umami's own envelope: {"error": {"message", "code", "status"}} (docs/umami.md).
            assert umami.status_code == 400, umami.text
            assert umami.json()["error"]["message"] == "url is not a valid URL", umami.text
        assert server.stop() == 0
    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        rows = conn.execute(
            "SELECT pathname, utm_source, utm_medium, utm_campaign, referrer_host FROM views ORDER BY bid"
        ).fetchall()
    assert rows == [("/from", "", "", "", "blog.example.org"), ("/ok", "newsletter", "email", "spring", "")]
