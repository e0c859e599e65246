"""A bounded request head for uvicorn's httptools protocol: heads over 16 KiB answer 431 and close.

uvicorn's httptools protocol (the fast one, used for every route including the event fast path) puts no
limit on a request head: its h11 setting does not apply, and a 32 MB header block was read, kept in memory
and answered 200. This protocol counts the head as it arrives (docs/security.md, "Request limits"):
- while the head is incomplete, every byte received counts, so an endless header line is cut off within
  one read of the limit instead of being buffered whole;
- the request line and each header, as parsed, count too, so a head that arrives with its body in one
  read is still measured exactly.
Past the limit the client gets 431 with the error envelope and the connection is closed.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD_BYTES", "BoundedHttpToolsProtocol"]

MAX_HEAD_BYTES = 16 * 1024
_STATUS = 431
_MESSAGE = "request header fields too large"


class _HeadTooLarge(Exception):
    """Raised inside a parser callback; uvicorn turns parser errors into `send_400_response`, answered as 431."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a limit on the request line plus headers."""

    _head_bytes = 0  # bytes of the current head seen so far
    _in_head = False
    _head_too_large = False

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
