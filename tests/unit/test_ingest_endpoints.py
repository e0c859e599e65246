"""Every door to the event endpoints answers identically: Litestar handlers, the lean ASGI path, the direct route."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest

from medama_py.api import events as events_api
from medama_py.api.events import HIT_PATH
from medama_py.app import create_app
from medama_py.clock import fixed_clock
from medama_py.config import Config
from medama_py.events_fast_path import EventsFastPath, HitRoute
from medama_py.storage.writer import HitWriter
from tests.support.hits import make_hit
from tests.support.live import PATIENT_READS_S, writer_thread_held
from tests.support.protocol import exchange

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from litestar import Litestar

# Building the whole app also builds the admin handlers (not ingestion's), which still use Litestar
# 2.x APIs it now warns about (inferred dependencies, Parameter(cookie=...)).
pytestmark = [
    pytest.mark.filterwarnings("ignore::litestar.exceptions.LitestarDeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Deprecated 'cookie' parameter:DeprecationWarning"),
]

NOW = datetime(2024, 5, 3, 15, 30, tzinfo=UTC)
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605"
HEADERS = {"User-Agent": UA, "Content-Type": "text/plain;charset=UTF-8", "Accept-Language": "fr-CA"}

REQUESTS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("GET", "/api/event/ping", {}, b""),
    ("GET", "/api/event/ping?u=example.com%2F", {"If-Modified-Since": "Fri, 03 May 2024 00:00:00 GMT"}, b""),
    ("GET", "/api/event/ping", {"If-Modified-Since": "Thu, 02 May 2024 00:00:00 GMT"}, b""),
    ("GET", "/api/event/ping", {"If-Modified-Since": "nope"}, b""),
    ("POST", "/api/event/hit", HEADERS, b'{"b":"a","e":"load","u":"https://example.com/","p":true,"q":true,"t":"UTC"}'),
    ("POST", "/api/event/hit", HEADERS, b'{"b":"a","e":"unload","m":10}'),
    ("POST", "/api/event/hit", HEADERS, b'{"e":"custom","g":"example.com","d":{"a":true}}'),
    ("POST", "/api/event/hit", HEADERS, b'{"e":"custom","g":"example.com","d":{}}'),
    ("POST", "/api/event/hit", HEADERS, b'{"b":"a","e":"load","u":"https://nope.example/","p":true,"q":true}'),
    ("POST", "/api/event/hit", HEADERS, b'{"e":"unload","b":"a","m":0}'),
    ("POST", "/api/event/hit", HEADERS, b"not json"),
    ("POST", "/api/event/hit", HEADERS, b""),
    ("POST", "/api/event/hit", {**HEADERS, "Content-Type": "application/xml"}, b"{}"),
    ("POST", "/api/event/hit", HEADERS, b"{" + b" " * (70 * 1024) + b"}"),
]


@contextlib.asynccontextmanager
async def running_app(tmp_path: Path) -> AsyncIterator[Litestar]:
    """The app with its lifespan entered in the calling task (anyio cancel scopes must exit there)."""
    config = Config(appdb=str(tmp_path / "meta.db"), analyticsdb=str(tmp_path / "analytics.db"))
    litestar_app = create_app(config, clock=fixed_clock(NOW))
    async with litestar_app.lifespan():  # stores, IP filter and writer, on this test's event loop
        litestar_app.state.services.hostnames.add("example.com")
        yield litestar_app


def _transport(app: object) -> httpx.ASGITransport:
    # httpx types ASGI apps loosely and Litestar strictly; they are the same protocol.
    return httpx.ASGITransport(app=cast("Any", app), client=("127.0.0.1", 5000))


async def _answers(client: httpx.AsyncClient) -> list[tuple[int, bytes, str | None, str | None, str | None]]:
    answers = []
    for method, url, headers, body in REQUESTS:
        response = await client.request(method, url, headers=headers, content=body)
        answers.append(
            (
                response.status_code,
                response.content,
                response.headers.get("last-modified"),
                response.headers.get("cache-control"),
                response.headers.get("content-type"),
            )
        )
    return answers


async def test_both_doors_answer_the_same(tmp_path: Path) -> None:
    async with running_app(tmp_path) as app:
        async with httpx.AsyncClient(transport=_transport(app), base_url="http://test") as client:
            via_litestar = await _answers(client)
        async with httpx.AsyncClient(transport=_transport(EventsFastPath(app, app)), base_url="http://test") as client:
            via_fast_path = await _answers(client)
    assert [a[0] for a in via_litestar] == [200, 200, 200, 400, 204, 204, 204, 400, 404, 400, 400, 400, 415, 413]
    # Same status, headers and bytes: error messages included, not only their codes.
    assert via_fast_path == via_litestar
    for status, body, *_ in via_litestar:
        if status >= 400:
            error = httpx.Response(status, content=body).json()["error"]
            assert error["code"] == status
            assert error["message"]


async def test_ping_answers(tmp_path: Path) -> None:
    async with (
        running_app(tmp_path) as app,
        httpx.AsyncClient(transport=_transport(EventsFastPath(app, app)), base_url="http://test") as client,
    ):
        first = await client.get("/api/event/ping")
        assert (first.text, first.headers["last-modified"]) == ("0", "Fri, 03 May 2024 00:00:00 GMT")
        again = await client.get("/api/event/ping", headers={"If-Modified-Since": first.headers["last-modified"]})
        assert (again.text, again.headers["cache-control"]) == ("1", f"max-age={8 * 3600 + 30 * 60}")
        wrong = await client.delete("/api/event/ping")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")


def _load(bid: str) -> bytes:
    return make_hit(b=bid, u="https://example.com/", r=..., q=True, t="UTC")


async def test_a_database_that_cannot_keep_up_gets_503_with_retry_after(tmp_path: Path) -> None:
    async with running_app(tmp_path) as app:
        services = app.state.services
        # The same store with a writer allowed only two waiting hits (the default is 10,000).
        await services.writer.stop()
        services.writer = HitWriter(
            services.analytics, max_batch=1, max_delay_ms=0, max_pending=2, read_wait_s=PATIENT_READS_S
        )
        await services.writer.start()
        fast = httpx.AsyncClient(transport=_transport(EventsFastPath(app, app)), base_url="http://test")
        slow = httpx.AsyncClient(transport=_transport(app), base_url="http://test")
        async with fast, slow:
            await fast.post("/api/event/hit", headers=HEADERS, content=_load("warm-up"))  # loads the parsers
            await services.writer.settled()
            async with writer_thread_held(services.analytics):  # a slow database
                # Answered once journaled, while the database is stuck: they wait in the journal for it.
                accepted = [await fast.post("/api/event/hit", headers=HEADERS, content=_load(f"ok{i}")) for i in (0, 1)]
                assert [r.status_code for r in accepted] == [204, 204]
                assert services.writer.pending == 2
                for client in (fast, slow):  # two acknowledged hits wait for the database: the bound is reached
                    refused = await client.post("/api/event/hit", headers=HEADERS, content=_load("refused"))
                    assert refused.status_code == 503
                    assert refused.headers["retry-after"] == "1"
                    assert refused.json()["error"]["code"] == 503
        rows = await services.analytics.read(lambda cur: cur.execute("SELECT bid FROM views ORDER BY bid").fetchall())
        assert rows == [("ok0",), ("ok1",), ("warm-up",)]  # every acknowledged hit, nothing refused
        assert services.writer.stats.refused == 2
        await services.writer.stop()


# --- the direct route: a plain POST answered by the HTTP protocol, the same bytes as the ASGI door -----------


def _wire(headers: dict[str, str], body: bytes, *, chunked: bool) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    if chunked:  # the direct way never takes a chunked body: this one goes through EventsFastPath
        framed = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
        return f"POST {HIT_PATH} HTTP/1.1\r\nHost: t\r\n{head}Transfer-Encoding: chunked\r\n\r\n".encode() + framed
    return f"POST {HIT_PATH} HTTP/1.1\r\nHost: t\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def _served(app: Litestar) -> EventsFastPath:
    """The server's stack in front of `app`: the fast path, offering the hit's direct route to the protocol."""
    return EventsFastPath(app, app, direct_posts={HIT_PATH.encode(): HitRoute(app)})


HIT_REQUESTS = [(headers, body) for method, url, headers, body in REQUESTS if method == "POST"] + [
    ({**HEADERS, "Origin": "https://example.com"}, make_hit(b="origin", u="https://example.com/")),
    ({**HEADERS, "Origin": "https://example.com"}, b"not json"),
    ({"Content-Type": "application/json"}, make_hit(b="no-ua", u="https://example.com/")),
    ({}, make_hit(b="no-type", u="https://example.com/")),
]


async def test_the_direct_route_answers_the_bytes_of_the_asgi_door(tmp_path: Path) -> None:
    async with running_app(tmp_path) as app:
        served = _served(app)
        direct = [await exchange(served, _wire(headers, body, chunked=False)) for headers, body in HIT_REQUESTS]
        via_asgi = [await exchange(served, _wire(headers, body, chunked=True)) for headers, body in HIT_REQUESTS]
        rows = await app.state.services.analytics.read(
            lambda cur: cur.execute("SELECT bid, count(*) FROM views GROUP BY bid ORDER BY bid").fetchall()
        )
    statuses = [int(answer.split(b" ", 2)[1]) for answer in direct]
    assert statuses == [204, 204, 204, 400, 404, 400, 400, 400, 415, 413, 204, 400, 204, 400]
    assert direct == via_asgi
    assert b"access-control-allow-origin: *\r\n" in direct[-4]
    # Each door's loads, stored once (a hit without a User-Agent is dropped as a bot, answered 204 too).
    assert rows == [("a", 2), ("origin", 2)]


async def test_the_first_hit_loads_the_parsers_on_the_direct_route_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_api, "_parsers_ready", threading.Event())
    async with running_app(tmp_path) as app:
        answer = await exchange(
            _served(app), _wire(HEADERS, make_hit(b="first", u="https://example.com/"), chunked=False)
        )
        assert answer.startswith(b"HTTP/1.1 204 No Content\r\n")
        assert events_api.parsers_ready()
        refused = await exchange(_served(app), _wire({"Content-Type": "text/html"}, b"{}", chunked=False))
        assert refused.startswith(b"HTTP/1.1 415 ")


async def test_a_full_writer_gets_503_with_retry_after_on_both_doors_alike(tmp_path: Path) -> None:
    async with running_app(tmp_path) as app:
        services = app.state.services
        await services.writer.stop()
        services.writer = HitWriter(
            services.analytics, max_batch=1, max_delay_ms=0, max_pending=2, read_wait_s=PATIENT_READS_S
        )
        await services.writer.start()
        served = _served(app)
        await exchange(served, _wire(HEADERS, _load("warm-up"), chunked=False))
        await services.writer.settled()
        async with writer_thread_held(services.analytics):
            accepted = [await exchange(served, _wire(HEADERS, _load(f"ok{i}"), chunked=False)) for i in (0, 1)]
            assert all(answer.startswith(b"HTTP/1.1 204 ") for answer in accepted)
            refused = [await exchange(served, _wire(HEADERS, _load("refused"), chunked=c)) for c in (False, True)]
        assert refused[0] == refused[1]
        assert refused[0].startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"\r\nretry-after: 1\r\n" in refused[0]
        rows = await services.analytics.read(lambda cur: cur.execute("SELECT bid FROM views ORDER BY bid").fetchall())
        assert rows == [("ok0",), ("ok1",), ("warm-up",)]
        await services.writer.stop()
