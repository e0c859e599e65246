"""The error envelope `{"error": {"code": N, "message": "..."}}`: one encoder and one raw-ASGI sender.

Three doors answer errors: the exception handler (api/error_handler.py), the edge middleware
(middleware.py) and the events fast path (events_fast_path.py). All of them build their bytes here, so
an error reads the same whichever door answered it (docs/architecture.md#errors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from medama_py.errors import InternalError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

__all__ = ["ENVELOPE_HEADERS", "INTERNAL_MESSAGE", "encode_error", "send_error"]

# What a client sees for any unexpected failure; the details go to the log only.
INTERNAL_MESSAGE = InternalError.message
# A dashboard on another origin may read X-Api-Commit on errors too.
ENVELOPE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-type", b"application/json"),
    (b"access-control-expose-headers", b"X-Api-Commit"),
)


def encode_error(status: int, message: str) -> bytes:
    """The envelope's JSON bytes."""
    return msgspec.json.encode({"error": {"code": status, "message": message}})


async def send_error(
    send: Callable[[Any], Awaitable[None]], status: int, message: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Answer a raw ASGI request with the envelope, plus `headers` (CORS, Allow, ...)."""
    body = encode_error(status, message)
    start_headers = [*ENVELOPE_HEADERS, (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
