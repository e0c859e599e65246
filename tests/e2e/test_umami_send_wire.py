"""/umami/api/send on the wire: the HTTP protocol's direct route (medama_py/http_direct.py) and the ASGI door.

Raw sockets against the real server: what the answer looks like byte for byte, keep-alive, pipelining,
HTTP/1.0, and the requests the direct way leaves to ASGI (chunked bodies, 413, `Expect: 100-continue`, a
query string), which must answer the same.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server
from tests.support.wire import Answers, connect

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

HOST = "wire.example"
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-headers": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-max-age": "86400",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("wire") / "data") as running:
        with closing(logged_in_client(running)) as admin:
            register_website(admin, HOST)
        yield running


@pytest.fixture(scope="module")
def uuid(server: Server) -> str:
    with closing(sqlite3.connect(server.appdb)) as conn:
        row = conn.execute("SELECT uuid FROM website_uuids WHERE hostname = ?", (HOST,)).fetchone()
    return str(row[0])


def _hit(website: str, url: str = "/") -> dict[str, Any]:
    return {"type": "event", "payload": {"website": website, "hostname": HOST, "url": url}}


def _request(body: bytes, *, path: str = "/umami/api/send", version: str = "1.1", extra: str = "") -> bytes:
    head = (
        f"POST {path} HTTP/{version}\r\nHost: x\r\nUser-Agent: {BROWSER_UA}\r\n"
        f"Content-Type: application/json\r\n{extra}"
    )
    if "Transfer-Encoding" not in extra:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def test_an_answer_carries_umamis_headers_and_the_connection_stays_open(server: Server, uuid: str) -> None:
    with connect(server) as sock:
        answers = Answers(sock)
        sock.sendall(_request(json.dumps(_hit(uuid, "/one")).encode()))
        status, headers, body = answers.next()
        assert status == 200, body
        token = json.loads(body)
        assert set(token) == {"cache", "sessionId", "visitId"}
        assert set(headers) == {"date", "content-type", "content-length", *CORS}
        assert headers["content-type"] == "application/json"
        assert {name: headers[name] for name in CORS} == CORS
        # The same connection, the token sent back: the same visit.
        sock.sendall(_request(json.dumps(_hit(uuid, "/two")).encode(), extra=f"x-umami-cache: {token['cache']}\r\n"))
        status, _, body = answers.next()
        assert status == 200
        assert json.loads(body)["visitId"] == token["visitId"]


def test_error_answers_keep_umamis_envelope_and_headers(server: Server, uuid: str) -> None:
    with connect(server) as sock:
        answers = Answers(sock)
        cases = [
            (b"{not json", 400),
            (json.dumps(_hit("00000000-0000-4000-8000-000000000002")).encode(), 400),
            (json.dumps({"type": "performance", "payload": {"website": uuid}}).encode(), 200),
        ]
        for body, expected in cases:
            sock.sendall(_request(body))
            status, headers, answer = answers.next()
            assert status == expected, answer
            assert {name: headers[name] for name in CORS} == CORS
            if expected == 400:
                assert json.loads(answer)["error"]["status"] == 400
            else:
                assert json.loads(answer) == {}
        sock.sendall(_request(json.dumps(_hit(uuid)).encode()).replace(BROWSER_UA.encode(), b"curl/8.5.0"))
        assert answers.next()[2] == b'{"beep":"boop"}'


def test_pipelined_requests_are_answered_in_order(server: Server, uuid: str) -> None:
    sends = [json.dumps(_hit(uuid, f"/p{i}")).encode() for i in range(3)]
    unknown = json.dumps(_hit("00000000-0000-4000-8000-000000000003")).encode()
    with connect(server) as sock:
        answers = Answers(sock)
        script = b"GET /umami/script.js HTTP/1.1\r\nHost: x\r\n\r\n"
        sock.sendall(_request(sends[0]) + _request(unknown) + script + _request(sends[1]) + _request(sends[2]))
        statuses = [answers.next()[0] for _ in range(5)]
        assert statuses == [200, 400, 200, 200, 200]


def test_http_1_0_gets_its_answer_then_the_connection_closes(server: Server, uuid: str) -> None:
    with connect(server) as sock:
        answers = Answers(sock)
        sock.sendall(_request(json.dumps(_hit(uuid)).encode(), version="1.0"))
        status, headers, _ = answers.next()
        assert status == 200
        assert headers["connection"] == "close"
        assert answers.closed()


def test_requests_left_to_asgi_answer_alike(server: Server, uuid: str) -> None:
    body = json.dumps(_hit(uuid)).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    with connect(server) as sock:
        answers = Answers(sock)
        for request in (
            _request(chunked, extra="Transfer-Encoding: chunked\r\n"),
            _request(body, path="/umami/api/send?from=query"),
        ):
            sock.sendall(request)
            status, headers, answer = answers.next()
            assert status == 200, answer
            assert set(json.loads(answer)) == {"cache", "sessionId", "visitId"}
            assert {name: headers[name] for name in CORS} == CORS
        sock.sendall(_request(body, extra="Expect: 100-continue\r\n"))
        assert answers.next()[0] == 100
        assert answers.next()[0] == 200
    with connect(server) as sock:
        sock.sendall(_request(b"", extra="Content-Length: 70000\r\n").replace(b"Content-Length: 0\r\n", b""))
        status, headers, answer = Answers(sock).next()
        assert status == 413
        assert json.loads(answer)["error"]["status"] == 413
