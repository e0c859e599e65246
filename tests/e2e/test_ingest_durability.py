"""Crash safety: a hit answered 204 survives kill -9 (and SIGTERM), stored exactly once after the restart."""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections import Counter
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

HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-US", "Content-Type": "text/plain;charset=UTF-8"}
WORKERS = 32


async def _stream(server: Server, acknowledged: set[str], sent: set[str], stop: asyncio.Event) -> None:
    counter = itertools.count()
    limits = httpx.Limits(max_connections=WORKERS)
    async with httpx.AsyncClient(base_url=server.base_url, headers=HEADERS, limits=limits, timeout=5) as client:

        async def worker() -> None:
            while not stop.is_set():
                bid = f"d{next(counter)}"
                body = make_hit(b=bid, u="https://crash.example/p", r=..., q=True, t="Asia/Tokyo")
                sent.add(bid)
                try:
                    response = await client.post("/api/event/hit", content=body)
                except httpx.HTTPError:
                    continue  # the server died under this request: not acknowledged
                if response.status_code == 204:
                    acknowledged.add(bid)

        await asyncio.gather(*(worker() for _ in range(WORKERS)))


async def _stream_then_stop(server: Server, acknowledged: set[str], sent: set[str], sig: int) -> None:
    stop = asyncio.Event()
    streaming = asyncio.create_task(_stream(server, acknowledged, sent, stop))
    while len(acknowledged) < 1500:
        await asyncio.sleep(0.01)
    server.process.send_signal(sig)  # while requests are in flight
    await asyncio.sleep(0.3)
    stop.set()
    await streaming


def _stored_after_restart(data_dir: Path) -> Counter[str]:
    restarted = start_server(data_dir)  # replays DuckDB's WAL after a crash
    assert restarted.stop() == 0
    with duckdb.connect(str(restarted.analyticsdb), read_only=True) as conn:
        return Counter(row[0] for row in conn.execute("SELECT bid FROM views").fetchall())


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_acknowledged_loads_survive_exactly_once(tmp_path: Path, sig: int) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        admin = logged_in_client(server)  # already open: not a context manager
        register_website(admin, "crash.example")
        admin.close()
        acknowledged: set[str] = set()
        sent: set[str] = set()
        asyncio.run(_stream_then_stop(server, acknowledged, sent, sig))
        exit_code = server.process.wait(30)
    finally:
        server.kill()
    assert len(acknowledged) >= 1500
    if sig == signal.SIGTERM:
        assert exit_code == 0  # a graceful stop that flushed its batches

    stored = _stored_after_restart(data_dir)
    missing = acknowledged - set(stored)
    assert not missing, f"{len(missing)} acknowledged hits lost, e.g. {sorted(missing)[:5]}"
    duplicates = {bid: n for bid, n in stored.items() if n != 1}
    assert not duplicates
    assert set(stored) <= sent
