"""A response with a Content-Length leaves in one transport write (medama_py/http_limits.py)."""

from __future__ import annotations

from medama_py.http_limits import HeadHoldingTransport
from tests.support.protocol import Transport

JSON_HEAD = b"HTTP/1.1 200 OK\r\ndate: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"
NO_CONTENT_HEAD = b"HTTP/1.1 204 No Content\r\ndate: x\r\n\r\n"


class SocketWrites(Transport):
    """What reaches the socket: each write, and each writelines call as its parts joined by "|"."""

    def writelines(self, list_of_data: object) -> None:
        self.writes.append(b"|".join(bytes(part) for part in list_of_data))  # type: ignore[attr-defined]


def test_a_head_with_a_content_length_waits_for_its_body() -> None:
    socket = SocketWrites()
    transport = HeadHoldingTransport(socket)
    transport.write(JSON_HEAD)
    assert socket.writes == []
    transport.write(b"{}")
    assert socket.writes == [JSON_HEAD + b"{}"]
    transport.release()  # the response completed: nothing is left to write
    assert socket.writes == [JSON_HEAD + b"{}"]


def test_heads_without_a_body_length_and_other_writes_pass_straight_through() -> None:
    socket = SocketWrites()
    transport = HeadHoldingTransport(socket)
    transport.write(NO_CONTENT_HEAD)
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    transport.write(b"5\r\nhello\r\n")
    assert socket.writes == [NO_CONTENT_HEAD, b"HTTP/1.1 100 Continue\r\n\r\n", b"5\r\nhello\r\n"]


def test_a_held_head_is_written_when_the_response_completes_or_the_connection_closes() -> None:
    socket = SocketWrites()
    transport = HeadHoldingTransport(socket)
    transport.write(JSON_HEAD)  # a HEAD request: no body follows
    transport.release()
    assert socket.writes == [JSON_HEAD]
    transport.write(JSON_HEAD)
    transport.close()
    assert socket.writes == [JSON_HEAD, JSON_HEAD]
    assert socket.closed
    assert transport.is_closing()  # everything else is the wrapped transport's


def test_a_large_body_goes_out_with_its_head_in_one_writelines() -> None:
    socket = SocketWrites()
    transport = HeadHoldingTransport(socket)
    body = b"x" * (64 * 1024)
    transport.write(JSON_HEAD)
    transport.write(body)
    assert socket.writes == [JSON_HEAD + b"|" + body]
