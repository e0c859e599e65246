"""Raw HTTP/1.1 on a real socket: the answers to requests written by hand, read in order.

The wire tests (tests/e2e/test_*_wire.py) hold the server's two doors (a direct route and the ASGI app) to the
same bytes, so they read answers off the socket themselves rather than through an HTTP client.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.server import Server

__all__ = ["Answers", "connect"]


def connect(server: Server) -> socket.socket:
    """A plain TCP connection to the server."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


class Answers:
    """Reads the responses on one socket in order; each must say its body's length (or have none)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def _lines_and_body(self) -> tuple[list[bytes], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), self.buffer
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            assert self._fill()
            rest = self.buffer.partition(b"\r\n\r\n")[2]
        self.buffer = rest[length:]
        return lines, rest[:length]

    def next(self) -> tuple[int, dict[str, str], bytes]:
        """The next response: its status, its headers (lower-case names, none twice) and its body."""
        lines, body = self._lines_and_body()
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            assert name.lower() not in headers, lines
            headers[name.lower()] = value.strip()
        return int(lines[0].split()[1]), headers, body

    def next_undated(self) -> tuple[bytes, bytes]:
        """The next response's head as sent but for its one Date line (which differs by the second), and its body."""
        lines, body = self._lines_and_body()
        assert sum(line.lower().startswith(b"date: ") for line in lines) == 1, lines
        return b"\r\n".join(line for line in lines if not line.lower().startswith(b"date: ")), body

    def closed(self) -> bool:
        """Whether the server closed the connection with nothing more to read."""
        self.sock.settimeout(5)
        return not self._fill() and not self.buffer
