"""The server's HTTP protocol (medama_py/http_limits.py) on a real event loop over an in-memory transport.

For tests of what reaches the socket without a socket: `connect(app)` gives the protocol and the transport
it writes to; `exchange(app, request)` feeds one request's bytes and returns the whole response written.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from medama_py.http_limits import BoundedHttpToolsProtocol

__all__ = ["Transport", "connect", "exchange"]


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


def connect(app: Any) -> tuple[BoundedHttpToolsProtocol, Transport]:
    """A new connection to `app` (an ASGI app, maybe offering `direct_posts`) through the server's protocol."""
    config = uvicorn.Config(app, http=BoundedHttpToolsProtocol, log_config=None, lifespan="off", proxy_headers=False)
    config.load()
    protocol = BoundedHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport


async def exchange(app: Any, request: bytes, timeout: float = 10) -> bytes:
    """The whole response to `request` on a new connection (the server's date header is not set here)."""
    protocol, transport = connect(app)
    protocol.data_received(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while protocol.cycle is None or not protocol.cycle.response_complete:
        if loop.time() > deadline:
            raise TimeoutError(b"".join(transport.writes))
        await asyncio.sleep(0.001)
    protocol.connection_lost(None)
    return b"".join(transport.writes)
