"""A bounded request head for uvicorn's httptools protocol: heads over 16 KiB answer 431 and close.

uvicorn's httptools protocol (the fast one, used for every route including the event fast path) puts no
limit on a request head: its h11 setting does not apply, and a 32 MB header block was read, kept in memory
and answered 200. This protocol counts the head as it arrives (docs/security.md, "Request limits"):
- while the head is incomplete, every byte received counts, so an endless header line is cut off within
  one read of the limit instead of being buffered whole;
- the request line and each header, as parsed, count too, so a head that arrives with its body in one
  read is still measured exactly.
Past the limit the client gets 431 with the error envelope and the connection is closed.

The same protocol also sends a response with a Content-Length in one socket write (`HeadHoldingTransport`):
uvicorn writes the head and the body separately, and on loopback each write is a syscall that also runs the
receiver's TCP path, so a JSON answer (a /umami/api/send token) cost two. See docs/architecture.md#a-hit.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from medama_py.http_direct import DirectExchange, answer_bytes, header_lines

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Mapping

    from medama_py.http_direct import DirectAnswer, DirectRoute

__all__ = ["MAX_HEAD_BYTES", "BoundedHttpToolsProtocol", "HeadHoldingTransport"]

MAX_HEAD_BYTES = 16 * 1024
_STATUS = 431
_MESSAGE = "request header fields too large"


class _HeadTooLarge(Exception):
    """Raised inside a parser callback; uvicorn turns parser errors into `send_400_response`, answered as 431."""


# Bodies up to this size are joined to their head in one buffer; larger ones go out as a two-part writelines.
_JOIN_BYTES = 16 * 1024


class HeadHoldingTransport:
    """A transport that keeps a response head announcing a Content-Length until its body is written.

    The head and the first body part then leave in one write. Nothing waits on it: uvicorn writes the body
    right after the head, and the protocol lets go of a head still held when the response completes (a HEAD
    request has no body) or the connection closes. Heads without a Content-Length (204, chunked) and every
    other write pass straight through. Everything but `write` and `close` is the wrapped transport's.
    """

    __slots__ = ("_held", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if len(data) <= _JOIN_BYTES:
                self._transport.write(held + data)
            else:
                self._transport.writelines((held, data))
        elif data.startswith(b"HTTP/") and b"\r\ncontent-length: " in data:
            self._held = data
        else:
            self._transport.write(data)

    def write_whole(self, data: bytes) -> None:
        """Write a whole response (head and body) at once."""
        self._transport.write(data)

    def release(self) -> None:
        """Write a head still held (its response had no body)."""
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held)

    def close(self) -> None:
        self.release()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a limit on the request line plus headers, answering in one write.

    It also answers the application's direct routes itself (medama_py/http_direct.py): an application object
    with a `direct_posts` mapping (request path → route) offers them.
    """

    _head_bytes = 0  # bytes of the current head seen so far
    _in_head = False
    _head_too_large = False
    _direct: DirectExchange | None = None  # the direct request whose body is being read

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = cast("asyncio.Transport", HeadHoldingTransport(transport))
        self._routes: Mapping[bytes, DirectRoute] = getattr(self.app, "direct_posts", None) or {}

    def on_response_complete(self) -> None:
        cast("HeadHoldingTransport", self.transport).release()
        super().on_response_complete()

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        self._in_head = True
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        route = self._routes.get(self.url) if self._routes else None
        if route is None or not self._direct_fits(route):
            super().on_headers_complete()
            return
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        self._direct = DirectExchange(route, keep_alive)
        # As uvicorn's current cycle, it makes a pipelined request wait for its answer (see DirectExchange).
        self.cycle = cast("Any", self._direct)

    def _direct_fits(self, route: DirectRoute) -> bool:
        """Whether this request can take the direct way (see medama_py/http_direct.py for which do)."""
        cycle = self.cycle
        if (cycle is not None and not cycle.response_complete) or self.expect_100_continue:
            return False
        if self.parser.get_method() != b"POST" or self.parser.should_upgrade():
            return False
        length = None
        for name, value in self.headers:
            if name == b"content-length":
                if length is not None:
                    return False
                length = value
            elif name == b"transfer-encoding":
                return False
        return length is not None and length.isdigit() and int(length) <= route.limit

    def on_body(self, body: bytes) -> None:
        direct = self._direct
        if direct is None:
            super().on_body(body)
        else:
            direct.body += body

    def on_message_complete(self) -> None:
        direct = self._direct
        if direct is None:
            super().on_message_complete()
            return
        self._direct = None
        direct.run(self.headers, self.client, lambda answer: self._direct_answer(direct, answer))

    def _direct_answer(self, direct: DirectExchange, answer: DirectAnswer) -> None:
        if direct.disconnected or direct.response_complete:
            return
        status, body, _, own = answer
        if own is None:
            own = b"%scontent-length: %d\r\n" % (direct.route.headers, len(body))
        head = header_lines(self.server_state.default_headers) + own
        cast("HeadHoldingTransport", self.transport).write_whole(answer_bytes(status, head, body, direct.keep_alive))
        direct.response_complete = True
        if not direct.keep_alive:
            self.transport.close()
        self.on_response_complete()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._head_too_large = True
            raise _HeadTooLarge

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            # The whole read belonged to a head that is still not complete.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._head_too_large = True
                self.send_400_response(_MESSAGE)

    def send_400_response(self, msg: str) -> None:
        if not self._head_too_large:
            super().send_400_response(msg)
            return
        body = json.dumps({"error": {"code": _STATUS, "message": _MESSAGE}}, separators=(",", ":")).encode()
        head = (
            f"HTTP/1.1 {_STATUS} Request Header Fields Too Large\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()
