"""The real @umami/api-client@0.81.0 (npm, tests/umami/client) reads a running medama_py with an API key and
with a login token: every read method answers without UmamiApiError, in the shapes its types describe, with
the numbers Medama's API gives."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME
from tests.umami.conftest import umami_login
from tests.umami.seed import seed_site

if TYPE_CHECKING:
    from tests.support.server import Server

CLIENT_DIR = Path(__file__).parent / "client"
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def installed_client() -> Path:
    """`make test` runs `npm ci` here first; a bare pytest run does it on demand (npm is required either way)."""
    if NODE is None:
        pytest.fail("node is required: install Node.js (the Makefile's system-deps says how)")
    if not (CLIENT_DIR / "node_modules" / "@umami" / "api-client").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=CLIENT_DIR, check=True, timeout=300)
    return CLIENT_DIR


def run_client(base_url: str, secret: str, kind: str, website_id: str, window: tuple[int, int]) -> dict[str, Any]:
    command = [str(NODE), "read.cjs", f"{base_url}/umami/api", secret, kind, website_id, *map(str, window)]
    done = subprocess.run(command, cwd=CLIENT_DIR, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_every_read_method_with_a_key_and_with_a_token(
    installed_client: Path, umami_server: Server, cookie_client: httpx.Client, api_key: str
) -> None:
    site = seed_site(umami_server.base_url, cookie_client, "client.example", rounds=2)
    now = int(time.time() * 1000)
    window = (now - 86_400_000, now + 3_600_000)
    by_key = run_client(umami_server.base_url, api_key, "key", site.website_id, window)
    by_token = run_client(umami_server.base_url, umami_login(umami_server.base_url), "token", site.website_id, window)
    for name in ("getWebsiteStats", "getWebsitePageviews", "getWebsiteMetrics", "getWebsiteSessionStats"):
        assert by_key[name] == by_token[name], name
    summary = cookie_client.get(f"/api/website/{site.hostname}/summary").json()["current"]
    assert by_key["getWebsiteStats"]["pageviews"] == summary["pageviews"] == 17
    assert by_key["getWebsiteStats"]["visitors"] == summary["visitors"]
    assert site.website_id in [w["id"] for w in by_key["listWebsites"]["data"]]
    assert by_key["getWebsite"]["domain"] == site.hostname
    assert sum(p["y"] for p in by_key["getWebsitePageviews"]["pageviews"]) == 17
    assert by_key["getWebsiteMetrics"]["url"] == by_key["getWebsiteMetrics"]["path"]
    assert by_key["getWebsiteSessionStats"]["pageviews"]["value"] == 17
    assert by_key["getWebsiteEvents"]["count"] == 17 + by_key["getWebsiteEventStats"]["data"]["events"]
    assert by_key["getWebsiteActive"]["visitors"] >= 1


def test_login_send_and_batch_through_the_api_client(
    installed_client: Path, umami_server: Server, cookie_client: httpx.Client, api_key: str
) -> None:
    """The client's own login (then getMe with its token), send and batch: the batch array arrives as an
    object keyed 0, 1 (how the client encodes it), which the server reads as the array it is."""
    assert cookie_client.post("/api/websites", json={"hostname": "walk.example"}).status_code == 201
    listed = httpx.get(
        f"{umami_server.base_url}/umami/api/websites", headers={"x-umami-api-key": api_key}, params={"pageSize": 1000}
    )
    website = next(w["id"] for w in listed.json()["data"] if w["domain"] == "walk.example")
    command = [
        str(NODE),
        "write.cjs",
        f"{umami_server.base_url}/umami/api",
        DEFAULT_USERNAME,
        DEFAULT_PASSWORD,
        website,
    ]
    done = subprocess.run(command, cwd=CLIENT_DIR, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert answers["login"]["user"] == answers["me"]
    assert answers["me"]["username"] == DEFAULT_USERNAME
    assert answers["send"]["sessionId"] and answers["send"]["visitId"]
    assert {k: answers["batch"][k] for k in ("size", "processed", "errors")} == {"size": 2, "processed": 2, "errors": 0}
    now = int(time.time() * 1000)
    read = run_client(umami_server.base_url, api_key, "key", website, (now - 3_600_000, now + 60_000))
    # /from-client and /batch-1: two page views; one event. No item carries a cache token: three sessions.
    assert read["getWebsiteStats"]["pageviews"] == 2
    assert read["getWebsiteSessionStats"]["events"]["value"] == 1
    assert read["getWebsiteSessions"]["count"] == 3
