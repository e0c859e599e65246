"""Direct routes (medama_py/http_direct.py): which requests the HTTP protocol answers itself, and how.

The protocol runs on a real event loop over an in-memory transport; tests/e2e/test_umami_send_wire.py holds
the real server's /umami/api/send to the same answers on a socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from medama_py.http_direct import DirectAnswer
from medama_py.http_limits import BoundedHttpToolsProtocol

PATH = b"/direct"


class Transport(asyncio.Transport):
    """What the protocol writes, and whether it closed the connection."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 5555)}.get(name, default)

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None


class Route:
    limit = 100
    headers = b"content-type: application/json\r\n"

    def __init__(self) -> None:
        self.seen: list[tuple[list[tuple[bytes, bytes]], bytes, tuple[str, int] | None]] = []
        self.after: asyncio.Future[Any] | None = None

    def handle(self, headers: list[tuple[bytes, bytes]], body: bytes, client: tuple[str, int] | None) -> DirectAnswer:
        self.seen.append((headers, body, client))
        return DirectAnswer(200, b'{"ok":1}', self.after)

    def failed(self, exc: BaseException | None) -> tuple[int, bytes]:
        return 500, b'{"failed":"%s"}' % type(exc).__name__.encode()


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


def _connect(app: App) -> tuple[BoundedHttpToolsProtocol, Transport]:
    config = uvicorn.Config(app, http=BoundedHttpToolsProtocol, log_config=None, lifespan="off", proxy_headers=False)
    config.load()
    protocol = BoundedHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport


def _post(path: bytes = PATH, body: bytes = b'{"a":1}', extra: bytes = b"") -> bytes:
    return b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n%s" % (path, len(body), extra, body)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_plain_post_is_answered_by_the_route_in_one_write() -> None:
    route = Route()
    app = App(route)
    protocol, transport = _connect(app)
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
    protocol, transport = _connect(App(route))
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
    protocol, transport = _connect(app)
    protocol.data_received(request_bytes)
    await _settle()
    assert route.seen == []
    assert app.calls == ["/direct"]
    assert b"HTTP/1.1 204 No Content\r\n" in b"".join(transport.writes)


async def test_a_pipelined_request_waits_for_the_direct_answer() -> None:
    route = Route()
    app = App(route)
    protocol, transport = _connect(app)
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
    protocol, transport = _connect(App(route))
    protocol.data_received(_post().replace(b"HTTP/1.1", b"HTTP/1.0"))
    assert b"connection: close\r\n" in transport.writes[0]
    assert transport.closed
    protocol, transport = _connect(App(route))
    route.after = asyncio.get_running_loop().create_future()
    protocol.data_received(_post())
    protocol.connection_lost(None)
    route.after.set_result(None)
    await _settle()
    assert transport.writes == []
