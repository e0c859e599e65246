"""POST /api/event/hit on the wire: the HTTP protocol's direct route (medama_py/http_direct.py) and the ASGI door.

Raw sockets against the real server. A plain request (a Content-Length within 64 KiB) is answered by
`events_fast_path.HitRoute` without an ASGI cycle; the same request with a chunked body goes through
`EventsFastPath`. Both must answer with the same bytes (the Date line aside), keep the connection the same
way, and store every acknowledged hit once.
"""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

import duckdb
import pytest

from tests.support.hits import make_custom, make_hit, make_unload
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server
from tests.support.wire import Answers, connect

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e

HOST = "hitwire.example"
PAGE = f"https://{HOST}/"
TEXT = {"User-Agent": BROWSER_UA, "Content-Type": "text/plain;charset=UTF-8"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("hitwire") / "data") as running:
        with closing(logged_in_client(running)) as admin:
            register_website(admin, HOST)
        yield running


def _request(body: bytes, headers: dict[str, str], *, chunked: bool = False, version: str = "1.1") -> bytes:
    head = f"POST /api/event/hit HTTP/{version}\r\nHost: x\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if chunked:
        framed = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
        return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + framed
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


# (headers, body, expected status): every kind of answer a hit gets.
CASES: list[tuple[dict[str, str], bytes, int]] = [
    (TEXT, make_hit(b="load-{door}", u=PAGE, r=..., q=True, t="UTC"), 204),
    ({**TEXT, "Origin": "https://elsewhere.example"}, make_hit(b="origin-{door}", u=PAGE, t="UTC"), 204),
    ({**TEXT, "Content-Type": "application/json"}, make_unload("load-{door}", 1500), 204),
    (TEXT, make_custom(HOST, {"plan": "pro"}, bid="load-{door}"), 204),
    (TEXT, make_hit(b="unknown-{door}", u="https://not-registered.example/"), 404),
    ({**TEXT, "Origin": "https://elsewhere.example"}, b"not json", 400),
    (TEXT, b"", 400),
    ({**TEXT, "Content-Type": "application/xml"}, b"{}", 415),
    ({"Content-Type": "text/plain"}, make_hit(b="bot-{door}", u=PAGE), 204),  # no User-Agent: dropped, 204
]


def _body(body: bytes, door: str) -> bytes:
    return body.replace(b"{door}", door.encode())


def test_both_doors_answer_the_same_bytes_and_store_each_hit_once(server: Server) -> None:
    answers: dict[str, list[tuple[bytes, bytes]]] = {}
    for door, chunked in (("direct", False), ("asgi", True)):
        with connect(server) as sock:
            reader = Answers(sock)
            got = []
            for headers, body, _ in CASES:
                sock.sendall(_request(_body(body, door), headers, chunked=chunked))
                got.append(reader.next_undated())
            answers[door] = got
    assert answers["direct"] == answers["asgi"]
    for (head, body), (headers, _, status) in zip(answers["direct"], CASES, strict=True):
        assert head.startswith(b"HTTP/1.1 %d " % status), head
        lines = head.split(b"\r\n")[1:]
        assert b"vary: Origin" in lines
        assert (b"access-control-allow-origin: *" in lines) == ("Origin" in headers)
        if status == 204:
            assert body == b""
            assert not any(line.startswith(b"content-length") for line in lines)
        else:
            assert b"content-type: application/json" in lines
            assert body.startswith(b'{"error":{"code":%d,' % status)
    server.stop()
    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        views = conn.execute("SELECT bid, duration_ms FROM views ORDER BY bid").fetchall()
        events = conn.execute("SELECT bid, name, value FROM events ORDER BY bid, name").fetchall()
    assert views == [("load-asgi", 1500), ("load-direct", 1500), ("origin-asgi", None), ("origin-direct", None)]
    assert events == [("load-asgi", "plan", "pro"), ("load-direct", "plan", "pro")]


@pytest.fixture
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("hitwire1") / "data") as running:
        with closing(logged_in_client(running)) as admin:
            register_website(admin, HOST)
        yield running


def test_http_1_0_pipelining_and_over_limit_answer_alike(fresh: Server) -> None:
    load = make_hit(b="v10", u=PAGE, t="UTC")
    heads = []
    for chunked in (False, True):
        with connect(fresh) as sock:
            reader = Answers(sock)
            sock.sendall(_request(load, TEXT, chunked=chunked, version="1.0"))
            heads.append(reader.next_undated()[0])
            assert reader.closed()
    assert heads[0] == heads[1]
    assert heads[0].endswith(b"\r\nconnection: close")
    with connect(fresh) as sock:  # pipelined: the second waits for the first's answer, in order
        reader = Answers(sock)
        sock.sendall(
            _request(make_hit(b="p1", u=PAGE), TEXT) + _request(b"nope", TEXT) + _request(make_unload("p1"), TEXT)
        )
        statuses = [int(reader.next_undated()[0].split(b" ", 2)[1]) for _ in range(3)]
        assert statuses == [204, 400, 204]
    with connect(fresh) as sock:  # over 64 KiB declared: the ASGI door's 413
        sock.sendall(_request(b"", TEXT).replace(b"Content-Length: 0", b"Content-Length: 70000"))
        head, body = Answers(sock).next_undated()
        assert head.startswith(b"HTTP/1.1 413 ")
        assert body == b'{"error":{"code":413,"message":"request body too large"}}'
