"""The real server survives DuckDB invalidating its database: 503s meanwhile, then every acknowledged hit, once.

The disk fills (as far as the server can tell: RLIMIT_FSIZE set on its process from outside, at the analytics
file's size), so the hit writer's next checkpoint fails inside DuckDB with a FatalException and the database
is invalidated; the file cannot be opened again either while the disk is full. Then space comes back
(docs/architecture.md#failures).
"""

from __future__ import annotations

import asyncio
import resource
import time
from contextlib import closing
from typing import TYPE_CHECKING

import duckdb
import httpx
import psutil
import pytest

from tests.api.helpers import assert_error
from tests.support.hits import make_hit
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

SITE = "full-disk.example"
HEADERS = {"User-Agent": BROWSER_UA, "Content-Type": "text/plain"}
ALWAYS = {"start": "2020-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}


def limit_file_size(server: Server, size: int) -> None:
    """RLIMIT_FSIZE of the server's processes (the one-file binary runs the server in a child)."""
    process = psutil.Process(server.process.pid)
    for each in [process, *process.children(recursive=True)]:
        resource.prlimit(each.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))


def send_hits(server: Server, first: int, count: int) -> set[str]:
    """Loads h{first}.. from 16 clients at once; the bids answered 204 (any other answer must be a 503)."""

    async def send_all() -> set[str]:
        acknowledged: set[str] = set()
        numbers = iter(range(first, first + count))
        async with httpx.AsyncClient(base_url=server.base_url, headers=HEADERS, timeout=10) as client:

            async def worker() -> None:
                for n in numbers:
                    body = make_hit(b=f"h{n}", u=f"https://{SITE}/p{n % 40}", r=..., q=True, t="Europe/London")
                    response = await client.post("/api/event/hit", content=body)
                    if response.status_code == 204:
                        acknowledged.add(f"h{n}")
                    else:
                        assert_error(response, 503)  # refused, never acknowledged

            await asyncio.gather(*(worker() for _ in range(16)))
        return acknowledged

    return asyncio.run(send_all())


def answer(admin: httpx.Client) -> httpx.Response:
    """The summary: 200, or 503 with Retry-After in the error envelope while the file is reopened; never else."""
    response = admin.get(f"/api/website/{SITE}/summary", params=ALWAYS)
    if response.status_code != 200:
        assert_error(response, 503)
        assert response.headers["retry-after"] == "1"
    return response


def until(condition: Callable[[], bool], admin: httpx.Client, timeout: float = 60) -> None:
    """Ask the summary every 0.1 s (checking each answer) until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        answer(admin)
        time.sleep(0.1)


def test_a_full_disk_invalidates_duckdb_and_the_server_recovers_without_losing_a_hit(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_server(data_dir) as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
        acknowledged = send_hits(server, 0, 1000)
    # Restarted on a checkpointed file of some size, with a new, empty journal segment.
    with running_server(data_dir) as server, closing(logged_in_client(server)) as admin:
        size = server.analyticsdb.stat().st_size
        assert size > 300_000  # room in every file for what follows, but not for the checkpoint's new blocks
        limit_file_size(server, size)
        # 2,000 views make a WAL over the writer's quiet-checkpoint size (256 kB): that checkpoint must grow the
        # file, the disk refuses, and DuckDB invalidates the database.
        acknowledged |= send_hits(server, 1000, 2000)
        until(lambda: "DuckDB invalidated" in server.log() or "could not reopen" in server.log(), admin)
        acknowledged |= send_hits(server, 3000, 100)  # acknowledged all along: the journal is not DuckDB

        limit_file_size(server, resource.RLIM_INFINITY)
        until(lambda: answer(admin).status_code == 200, admin)
        assert answer(admin).json()["current"]["pageviews"] == len(acknowledged)
        assert admin.get("/api/user/usage").json()["analytics"]["recoveries"] >= 1
        assert server.process.poll() is None

    with duckdb.connect(str(data_dir / "me_analytics.db"), read_only=True) as conn:
        rows = conn.execute("SELECT bid, count(*) FROM views GROUP BY bid").fetchall()
    assert {bid for bid, _ in rows} == acknowledged
    assert all(count == 1 for _, count in rows)
    assert len(acknowledged) > 2500
