"""Smoke test of the built executable: MEDAMA_BIN=dist/medama pytest tests/e2e/test_binary_smoke.py.

One journey through the full product as a user gets it from `make binary`: version and commit,
start, the tracker script and the dashboard with its assets, log in, register a site, send hits, read stats (whose
browser, country and language names need the bundled ua-parser, data tables and CLDR names), stop
with SIGTERM, start again on the same files and find everything still there.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.hits import make_hit, make_unload
from tests.support.server import BROWSER_UA, Server, logged_in_client, register_website, start_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("MEDAMA_BIN"), reason="MEDAMA_BIN is not set (run `make binary` first)"),
]

HOST = "smoke.example.com"
HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB,en;q=0.9", "Content-Type": "text/plain"}
ASSET_RE = re.compile(r'(?:src|href)="(/assets/[^"]+)"')
VERSION_RE = re.compile(r"^Medama Analytics (?P<version>\S+), commit=(?P<commit>\S+)$")


def _binary() -> Path:
    return Path(os.environ["MEDAMA_BIN"]).resolve()


def _version_commit() -> str:
    result = subprocess.run([_binary(), "version"], capture_output=True, text=True, timeout=120, check=True)
    match = VERSION_RE.match(result.stdout.strip())
    assert match, result.stdout
    return match["commit"]


def _send_visits(server: Server) -> None:
    for visitor in range(3):
        bid = f"smoke{visitor}"
        load = make_hit(b=bid, u=f"https://{HOST}/pricing", q=True)
        response = httpx.post(f"{server.base_url}/api/event/hit", content=load, headers=HEADERS, timeout=10)
        assert response.status_code == 204, response.text
        unload = make_unload(bid, 1500 + visitor)
        response = httpx.post(f"{server.base_url}/api/event/hit", content=unload, headers=HEADERS, timeout=10)
        assert response.status_code == 204, response.text


def _stats(client: httpx.Client, report: str, **params: str) -> object:
    response = client.get(f"/api/website/{HOST}/{report}", params=params)
    assert response.status_code == 200, f"{report}: {response.status_code} {response.text}"
    return response.json()


def _read_back(client: httpx.Client) -> None:
    summary = _stats(client, "summary")
    assert isinstance(summary, dict)
    assert summary["current"]["visitors"] == 3
    assert summary["current"]["pageviews"] == 3
    assert _stats(client, "browsers", summary="true")[0]["browser"] == "Chrome"  # type: ignore[index]
    assert _stats(client, "countries", summary="true")[0]["country"] == "United Kingdom"  # type: ignore[index]
    dialects = _stats(client, "languages", summary="true", locale="true")
    assert dialects[0]["language"] == "British English"  # type: ignore[index]


def _check_dashboard(server: Server) -> None:
    """The built dashboard (not the placeholder) is bundled, with every asset its page loads."""
    page = httpx.get(f"{server.base_url}/settings", timeout=10)  # a deep link gets index.html
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = ASSET_RE.findall(page.text)
    assert assets, f"no /assets/ in the page; is the dashboard built?\n{page.text[:300]}"
    for asset in assets:
        response = httpx.get(f"{server.base_url}{asset}", timeout=10)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_version_names_the_stamped_commit() -> None:
    assert _version_commit() != "development"


def test_full_product_survives_a_restart(tmp_path: Path) -> None:
    commit = _version_commit()
    server = start_server(tmp_path / "data")
    try:
        openapi = httpx.get(f"{server.base_url}/openapi.yaml", timeout=10)
        assert openapi.headers["x-api-commit"] == commit
        assert "/api/event/hit" in openapi.text
        script = httpx.get(f"{server.base_url}/script.js", timeout=10)
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert len(script.content) > 500  # the minified tracker, not a placeholder
        _check_dashboard(server)

        with contextlib.closing(logged_in_client(server)) as client:
            register_website(client, HOST)
            _send_visits(server)
            _read_back(client)
    finally:
        assert server.stop(signal.SIGTERM) == 0, server.log()

    restarted = start_server(tmp_path / "data")
    try:
        with contextlib.closing(logged_in_client(restarted)) as client:
            _read_back(client)
    finally:
        assert restarted.stop(signal.SIGTERM) == 0, restarted.log()


def test_kill_9_stops_the_server_itself(tmp_path: Path) -> None:
    """The process started is the server: kill -9 frees the port and the files at once."""
    server = start_server(tmp_path / "data")
    server.kill()
    deadline = time.monotonic() + 5
    while not _port_is_free(server.port):
        assert time.monotonic() < deadline, "something still serves the port after kill -9"
        time.sleep(0.05)
    again = start_server(tmp_path / "data")  # would fail on DuckDB's file lock if a child lived on
    assert again.stop(signal.SIGTERM) == 0, again.log()
