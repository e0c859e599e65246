"""Request heads over 16 KiB answer 431 (or the connection closes) on every route, through a real socket."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import pytest

from tests.support.server import BROWSER_UA, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # real servers through real sockets

KiB = 1024
ROUTES = [
    (b"POST", b"/api/event/hit"),  # the ingestion fast path, in front of the framework
    (b"GET", b"/api/event/ping"),
    (b"GET", b"/api/user"),
    (b"POST", b"/api/auth/login"),
    (b"GET", b"/"),
    (b"GET", b"/script.js"),
    (b"GET", b"/api/website/example.com/summary"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("heads") / "data") as running:
        yield running


def _request(method: bytes, path: bytes, padding: bytes) -> bytes:
    return (
        method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + BROWSER_UA.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n" + padding + b"\r\n{}"
    )


def _send(server: Server, data: bytes) -> bytes:
    """Send `data` (stopping if the server closes first) and read until it closes; the bytes it answered."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        try:
            for start in range(0, len(data), 64 * KiB):
                sock.sendall(data[start : start + 64 * KiB])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: it refused the head
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def _headers(total: int, line: int = 1000) -> bytes:
    count = max(1, total // line)
    return b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * (line - 16)) for i in range(count))


def _status(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_head_over_16_kib_is_refused(server: Server, method: bytes, path: bytes) -> None:
    answer = _send(server, _request(method, path, _headers(20 * KiB)))
    assert _status(answer) in (431, None), answer[:200]
    if answer:
        assert b'"code":431' in answer


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_head_under_the_limit_is_served(server: Server, method: bytes, path: bytes) -> None:
    status = _status(_send(server, _request(method, path, _headers(12 * KiB))))
    assert status is not None
    assert status != 431


def test_one_endless_header_line_is_cut_off_early(server: Server) -> None:
    started = time.monotonic()
    answer = _send(server, _request(b"POST", b"/api/event/hit", b"X-Big: " + b"b" * (32 * 1024 * KiB) + b"\r\n"))
    assert _status(answer) in (431, None)
    assert time.monotonic() - started < 20


def test_a_32_mb_header_block_is_refused(server: Server) -> None:
    answer = _send(server, _request(b"GET", b"/api/event/ping", _headers(32 * 1024 * KiB)))
    assert _status(answer) in (431, None)
    # The server is still there for everyone else.
    assert _status(_send(server, _request(b"GET", b"/api/event/ping", b""))) == 200


def test_a_large_body_is_not_mistaken_for_a_large_head(server: Server) -> None:
    body = b'{"b":"x","e":"unload","m":5' + b" " * (40 * KiB) + b"}"
    request = (
        b"POST /api/event/hit HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + BROWSER_UA.encode() + b"\r\n"
        b"Content-Type: text/plain\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    )
    assert _status(_send(server, request + body)) == 204
