"""Crash safety under mixed load: Medama hits and Umami hits answered before kill -9 are stored exactly once.

The same approach as test_ingest_durability.py: stream both kinds of hits until enough are
acknowledged, kill the server while requests are in flight, restart it (DuckDB replays its WAL) and
compare what was acknowledged with what is stored, in Medama's `views` and in `umami_hits`.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import sqlite3
from collections import Counter
from contextlib import closing
from typing import TYPE_CHECKING

import duckdb
import httpx
import pytest

from tests.support.hits import make_hit
from tests.support.server import BROWSER_UA, logged_in_client, register_website, start_server

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

SITE = "mixed.example"
WORKERS = 16  # of each kind
ENOUGH = 1000  # acknowledged hits of each kind before the kill
MEDAMA_HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-US", "Content-Type": "text/plain;charset=UTF-8"}
UMAMI_HEADERS = {"User-Agent": "Mozilla/5.0 Umami/v20.11.0", "Content-Type": "application/json"}


class Tally:
    def __init__(self) -> None:
        self.sent: dict[str, set[str]] = {"medama": set(), "umami": set()}
        self.acknowledged: dict[str, set[str]] = {"medama": set(), "umami": set()}


async def _medama_worker(
    client: httpx.AsyncClient, tally: Tally, counter: itertools.count[int], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        bid = f"m{next(counter)}"
        body = make_hit(b=bid, u=f"https://{SITE}/m", r=..., q=True, t="Asia/Tokyo")
        tally.sent["medama"].add(bid)
        try:
            response = await client.post("/api/event/hit", content=body, headers=MEDAMA_HEADERS)
        except httpx.HTTPError:
            continue  # the server died under this request: not acknowledged
        if response.status_code == 204:
            tally.acknowledged["medama"].add(bid)


async def _umami_worker(
    client: httpx.AsyncClient, tally: Tally, website: str, counter: itertools.count[int], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        path = f"/u/{next(counter)}"
        body = {"type": "event", "payload": {"website": website, "url": path, "hostname": SITE}}
        tally.sent["umami"].add(path)
        try:
            response = await client.post("/umami/api/send", json=body, headers=UMAMI_HEADERS)
        except httpx.HTTPError:
            continue
        if response.status_code == 200 and "cache" in response.json():
            tally.acknowledged["umami"].add(path)


async def _load_then_signal(server: Server, website: str, tally: Tally, sig: int) -> None:
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=2 * WORKERS)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=5) as client:
        medama, umami = itertools.count(), itertools.count()
        workers = [
            *(_medama_worker(client, tally, medama, stop) for _ in range(WORKERS)),
            *(_umami_worker(client, tally, website, umami, stop) for _ in range(WORKERS)),
        ]
        streaming = asyncio.gather(*workers)
        while min(len(done) for done in tally.acknowledged.values()) < ENOUGH:
            await asyncio.sleep(0.01)
        server.process.send_signal(sig)  # while requests of both kinds are in flight
        await asyncio.sleep(0.3)
        stop.set()
        await streaming


def _stored_after_restart(data_dir: Path) -> tuple[Counter[str], Counter[str], Counter[str]]:
    restarted = start_server(data_dir)  # replays DuckDB's WAL after a crash
    assert restarted.stop() == 0
    with duckdb.connect(str(restarted.analyticsdb), read_only=True) as conn:
        medama = Counter(bid for (bid,) in conn.execute("SELECT bid FROM views WHERE pathname = '/m'").fetchall())
        umami_views = Counter(
            p for (p,) in conn.execute("SELECT pathname FROM views WHERE pathname <> '/m'").fetchall()
        )
        umami_rows = Counter(p for (p,) in conn.execute("SELECT url_path FROM umami_hits").fetchall())
    return medama, umami_views, umami_rows


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_acknowledged_medama_and_umami_hits_survive_exactly_once(tmp_path: Path, sig: int) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        with closing(logged_in_client(server)) as admin:
            register_website(admin, SITE)
        with closing(sqlite3.connect(server.appdb)) as meta:
            (website,) = meta.execute("SELECT uuid FROM website_uuids WHERE hostname = ?", (SITE,)).fetchone()
        tally = Tally()
        asyncio.run(_load_then_signal(server, website, tally, sig))
        exit_code = server.process.wait(30)
    finally:
        server.kill()
    if sig == signal.SIGTERM:
        assert exit_code == 0  # a graceful stop that flushed its batches

    medama, umami_views, umami_rows = _stored_after_restart(data_dir)
    for kind, stored in (("medama", medama), ("umami", umami_views), ("umami", umami_rows)):
        acknowledged = tally.acknowledged[kind]
        assert len(acknowledged) >= ENOUGH
        missing = acknowledged - set(stored)
        assert not missing, f"{len(missing)} acknowledged {kind} hits lost, e.g. {sorted(missing)[:5]}"
        assert {key: n for key, n in stored.items() if n != 1} == {}
        assert set(stored) <= tally.sent[kind]
    # A Umami page view is its `views` row and its `umami_hits` row, committed together.
    assert umami_views == umami_rows
