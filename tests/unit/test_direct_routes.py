"""Direct routes (medama_py/http_direct.py): which requests the HTTP protocol answers itself, and how.

The protocol runs on a real event loop over an in-memory transport; tests/e2e/test_umami_send_wire.py holds
the real server's /umami/api/send to the same answers on a socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from medama_py.http_direct import DirectAnswer
from tests.support.protocol import connect, exchange

PATH = b"/direct"


class Route:
    limit = 100
    headers = b"content-type: application/json\r\n"

    def __init__(self) -> None:
        self.seen: list[tuple[list[tuple[bytes, bytes]], bytes, tuple[str, int] | None]] = []
        self.after: asyncio.Future[Any] | None = None

    def handle(self, headers: list[tuple[bytes, bytes]], body: bytes, client: tuple[str, int] | None) -> DirectAnswer:
        self.seen.append((headers, body, client))
        return DirectAnswer(200, b'{"ok":1}', self.after)

    def failed(self, exc: BaseException | None, answer: DirectAnswer | None) -> DirectAnswer:
        return DirectAnswer(500, b'{"failed":"%s"}' % type(exc).__name__.encode())


class App:
    """An ASGI app answering 204 to whatever reaches it, offering `route` as a direct route."""

    def __init__(self, route: Route) -> None:
        self.direct_posts = {PATH: route}
        self.calls: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.calls.append(scope["path"])
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _post(path: bytes = PATH, body: bytes = b'{"a":1}', extra: bytes = b"") -> bytes:
    return b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n%s" % (path, len(body), extra, body)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_plain_post_is_answered_by_the_route_in_one_write() -> None:
    route = Route()
    app = App(route)
    protocol, transport = connect(app)
    protocol.data_received(_post(extra=b"User-Agent: t\r\n"))
    await _settle()
    assert app.calls == []
    headers = [(b"host", b"x"), (b"content-length", b"7"), (b"user-agent", b"t")]
    assert route.seen == [(headers, b'{"a":1}', ("127.0.0.1", 5555))]
    [answer] = transport.writes
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"content-type: application/json\r\ncontent-length: 8\r\n\r\n" + b'{"ok":1}')
    assert not transport.closed
    protocol.data_received(_post())  # keep-alive: the next request on the connection
    assert len(transport.writes) == 2


async def test_the_answer_waits_for_the_routes_future_and_reports_its_failure() -> None:
    route = Route()
    protocol, transport = connect(App(route))
    route.after = asyncio.get_running_loop().create_future()
    protocol.data_received(_post())
    await _settle()
    assert transport.writes == []
    route.after.set_result(None)
    await _settle()
    assert transport.writes[0].endswith(b'{"ok":1}')
    route.after = asyncio.get_running_loop().create_future()
    protocol.data_received(_post())
    route.after.set_exception(OSError("disk"))
    await _settle()
    assert transport.writes[1].startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert transport.writes[1].endswith(b'{"failed":"OSError"}')
    route.after = asyncio.get_running_loop().create_future()
    protocol.data_received(_post())
    route.after.set_result((400, b"{}"))  # a route that had to await gives its answer through the future
    await _settle()
    assert transport.writes[2].startswith(b"HTTP/1.1 400 Bad Request\r\n")


@pytest.mark.parametrize(
    "request_bytes",
    [
        _post(PATH + b"?q=1"),
        b"GET /direct HTTP/1.1\r\nHost: x\r\n\r\n",
        _post(body=b"x" * 101),
        _post(extra=b"Expect: 100-continue\r\n"),
        b"POST /direct HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    ],
    ids=["query", "get", "over-limit", "expect-continue", "chunked"],
)
async def test_other_requests_go_through_asgi(request_bytes: bytes) -> None:
    route = Route()
    app = App(route)
    protocol, transport = connect(app)
    protocol.data_received(request_bytes)
    await _settle()
    assert route.seen == []
    assert app.calls == ["/direct"]
    assert b"HTTP/1.1 204 No Content\r\n" in b"".join(transport.writes)


async def test_a_pipelined_request_waits_for_the_direct_answer() -> None:
    route = Route()
    app = App(route)
    protocol, transport = connect(app)
    route.after = asyncio.get_running_loop().create_future()
    protocol.data_received(_post() + b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n" + _post())
    await _settle()
    assert transport.writes == []
    route.after.set_result(None)
    route.after = None
    await _settle()
    statuses = [write.split(b"\r\n", 1)[0] for write in transport.writes if write]
    # The third request, queued behind the others, went through ASGI (this app answers 204 there).
    assert statuses == [b"HTTP/1.1 200 OK", b"HTTP/1.1 204 No Content", b"HTTP/1.1 204 No Content"]
    assert len(route.seen) == 1


async def test_http_1_0_closes_after_the_answer_and_a_lost_connection_gets_none() -> None:
    route = Route()
    protocol, transport = connect(App(route))
    protocol.data_received(_post().replace(b"HTTP/1.1", b"HTTP/1.0"))
    assert b"connection: close\r\n" in transport.writes[0]
    assert transport.closed
    protocol, transport = connect(App(route))
    route.after = asyncio.get_running_loop().create_future()
    protocol.data_received(_post())
    protocol.connection_lost(None)
    route.after.set_result(None)
    await _settle()
    assert transport.writes == []


class Answering:
    """An ASGI app and a direct route giving the same answer: `status`, `body` and the header `pairs`."""

    limit = 100
    headers = b""

    def __init__(self, status: int, body: bytes, pairs: list[tuple[bytes, bytes]]) -> None:
        self.answer = (status, body, pairs)
        self.direct_posts = {PATH: self}

    def handle(self, headers: list[tuple[bytes, bytes]], body: bytes, client: tuple[str, int] | None) -> DirectAnswer:
        status, content, pairs = self.answer
        return DirectAnswer(status, content, None, b"".join(b"%s: %s\r\n" % pair for pair in pairs))

    def failed(self, exc: BaseException | None, answer: DirectAnswer | None) -> DirectAnswer:
        raise AssertionError(exc)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        status, content, pairs = self.answer
        await send({"type": "http.response.start", "status": status, "headers": pairs})
        await send({"type": "http.response.body", "body": content})


@pytest.mark.parametrize(
    ("status", "body", "pairs"),
    [
        (204, b"", [(b"vary", b"Origin"), (b"access-control-allow-origin", b"*")]),
        (503, b'{"e":1}', [(b"content-type", b"application/json"), (b"content-length", b"7"), (b"retry-after", b"1")]),
    ],
    ids=["204", "503"],
)
@pytest.mark.parametrize("version", [b"1.1", b"1.0"])
async def test_an_answer_with_its_own_head_is_the_asgi_doors_bytes(
    status: int, body: bytes, pairs: list[tuple[bytes, bytes]], version: bytes
) -> None:
    app = Answering(status, body, pairs)
    plain = _post().replace(b"HTTP/1.1", b"HTTP/" + version)
    chunked = b"POST /direct HTTP/%s\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" % version
    direct, via_asgi = await exchange(app, plain), await exchange(app, chunked)
    assert direct.startswith(b"HTTP/1.1 %d " % status)
    assert direct == via_asgi
