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

if TYPE_CHECKING:
    import asyncio

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
    """uvicorn's httptools protocol with a limit on the request line plus headers, answering in one write."""

    _head_bytes = 0  # bytes of the current head seen so far
    _in_head = False
    _head_too_large = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = cast("asyncio.Transport", HeadHoldingTransport(transport))

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
        super().on_headers_complete()

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
