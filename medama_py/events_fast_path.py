"""EventsFastPath: a raw ASGI layer that answers /api/event/ping and /api/event/hit before Litestar does.

Trackers call these two paths far more than everything else together, and bench/ingest.py showed the
framework's per-request cost dominating a hit's. This layer reads the request, calls the same
`receive_hit` / `answer_ping` as the Litestar handlers in api/events.py and answers with the same bytes;
tests/unit/test_ingest_endpoints.py holds both doors to that. Everything else, and CORS preflights,
goes on to the edge middleware and Litestar (docs/architecture.md#a-hit).

A plain `POST /api/event/hit` does not even become an ASGI request: `HitRoute` is a direct route the HTTP
protocol answers itself (medama_py/http_direct.py), with the bytes `EventsFastPath` would send;
tests/e2e/test_event_hit_wire.py holds the two to that on a socket.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, cast

from medama_py.api.envelope import ENVELOPE_HEADERS, INTERNAL_MESSAGE, encode_error, send_error
from medama_py.api.events import (
    HIT_PATH,
    MAX_HIT_BYTES,
    PING_PATH,
    hit_headers,
    parsers_ready,
    read_body,
    receive_hit,
    start_hit,
)
from medama_py.errors import MedamaError
from medama_py.http_direct import DirectAnswer, header_lines
from medama_py.ingest.ping import answer_ping
from medama_py.ingest.recorder import check_hit_content_type
from medama_py.middleware import default_cors_headers

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, MutableMapping

    from litestar import Litestar
    from litestar.types import ASGIApp as LitestarASGIApp
    from litestar.types import Receive as LitestarReceive
    from litestar.types import Scope as LitestarScope
    from litestar.types import Send as LitestarSend

    from medama_py.http_direct import DirectRoute
    from medama_py.services import Services

    # Plain ASGI shapes: the lean path handles raw messages, not Litestar's TypedDict variants.
    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

__all__ = ["EventsFastPath", "HitRoute"]

log = logging.getLogger(__name__)

Headers = list[tuple[bytes, bytes]]


async def _send(send: Send, status: int, body: bytes = b"", headers: Headers | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


class EventsFastPath:
    """ASGI layer answering /api/event/ping and /api/event/hit first; everything else goes to `app`.

    It sits outside the edge middleware (medama_py/middleware.py) and adds the event paths' CORS headers
    itself, which always follow the default policy; CORS preflights still go through the edge.
    """

    def __init__(
        self, app: LitestarASGIApp, litestar: Litestar, direct_posts: Mapping[bytes, DirectRoute] | None = None
    ) -> None:
        self.app = app
        # Holds `state.services` once the lifespan ran.
        self.litestar = litestar
        # Offered to the server's HTTP protocol, which answers these POST paths itself (medama_py/http_direct.py).
        self.direct_posts: Mapping[bytes, DirectRoute] = direct_posts or {}

    async def __call__(self, scope: LitestarScope, receive: LitestarReceive, send: LitestarSend) -> None:
        raw = cast("Scope", scope)
        path = raw.get("path") if raw["type"] == "http" else None
        if path != HIT_PATH and path != PING_PATH:
            await self.app(scope, receive, send)
            return
        headers = hit_headers(raw["headers"])
        method = raw["method"]
        if method == "OPTIONS" and "access-control-request-method" in headers:
            await self.app(scope, receive, send)  # a CORS preflight: the edge answers it
            return
        cors = default_cors_headers(headers.get("origin"), method)
        out = cast("Send", send)
        allowed = "POST" if path == HIT_PATH else "GET"
        try:
            if method != allowed:
                await self._wrong_method(method, out, allowed, cors)
            elif path == HIT_PATH:
                await self._hit(raw, headers, cast("Receive", receive), out, cors)
            else:
                await self._ping(headers, out, cors)
        except MedamaError as exc:
            retry = [] if exc.retry_after is None else [(b"retry-after", str(exc.retry_after).encode())]
            await send_error(out, exc.status_code, exc.detail, [*retry, *cors])
        except Exception:
            log.exception("%s %s failed", method, path)
            await send_error(out, 500, INTERNAL_MESSAGE, cors)

    async def _wrong_method(self, method: str, send: Send, allowed: str, cors: Headers) -> None:
        if method == "OPTIONS":
            # OPTIONS without a CORS preflight header.
            await _send(send, 204, headers=[(b"access-control-allow-methods", allowed.encode()), *cors])
            return
        await send_error(send, 405, "method not allowed", [(b"allow", allowed.encode()), *cors])

    def _services(self) -> Services:
        services: Services = self.litestar.state.services
        return services

    async def _ping(self, headers: dict[str, str], send: Send, cors: Headers) -> None:
        answer = answer_ping(headers.get("if-modified-since"), self._services().clock())
        await _send(
            send,
            200,
            answer.body.encode(),
            [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"1"),
                (b"last-modified", answer.last_modified.encode("latin-1")),
                (b"cache-control", answer.cache_control.encode()),
                *cors,
            ],
        )

    async def _hit(self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send, cors: Headers) -> None:
        body = await read_body(receive, headers.get("content-length"), MAX_HIT_BYTES)
        if body is None:
            return
        client = scope.get("client")
        await receive_hit(self._services(), body, headers, client[0] if client else None)
        await _send(send, 204, headers=cors)


# --- the direct route (medama_py/http_direct.py): a plain POST /api/event/hit answered by the HTTP protocol ---


_ENVELOPE_LINES = header_lines(ENVELOPE_HEADERS)
# A hit's CORS lines (the default policy for a POST), by whether the request has an Origin.
_CORS_LINES = {
    False: header_lines(default_cors_headers(None, "POST")),
    True: header_lines(default_cors_headers("", "POST")),
}


def _error(status: int, message: str, retry_after: int | None, cors: bytes) -> DirectAnswer:
    """`send_error`'s answer, header lines in its order."""
    body = encode_error(status, message)
    retry = b"" if retry_after is None else b"retry-after: %d\r\n" % retry_after
    return DirectAnswer(status, body, None, b"%scontent-length: %d\r\n%s%s" % (_ENVELOPE_LINES, len(body), retry, cors))


class HitRoute:
    """POST /api/event/hit as a direct route: `EventsFastPath`'s work and answers, without an ASGI cycle.

    Every answer carries its own header lines (`DirectAnswer.head`): a hit's 204 has only its CORS lines, which
    `failed` reads back to answer an error raised by its commit with the same CORS lines.
    """

    limit = MAX_HIT_BYTES
    headers = b""  # unused: every answer has its own head

    def __init__(self, litestar: Litestar) -> None:
        # Holds `state.services` once the lifespan ran (before the server accepts connections).
        self.litestar = litestar

    def handle(self, headers: Headers, body: bytes, client: tuple[str, int] | None) -> DirectAnswer:
        selected = hit_headers(headers)
        cors = _CORS_LINES["origin" in selected]
        services: Services = self.litestar.state.services
        peer = client[0] if client else None
        try:
            if parsers_ready():
                check_hit_content_type(selected.get("content-type"))
                after = start_hit(services, body, selected, peer)
            else:  # the very first hit: `receive_hit` loads the parser tables on a worker thread
                after = asyncio.ensure_future(receive_hit(services, body, selected, peer))
        except MedamaError as exc:
            return _error(exc.status_code, exc.detail, exc.retry_after, cors)
        except Exception:
            log.exception("POST %s failed", HIT_PATH)
            return _error(500, INTERNAL_MESSAGE, None, cors)
        return DirectAnswer(204, b"", after, cors)

    def failed(self, exc: BaseException | None, answer: DirectAnswer | None) -> DirectAnswer:
        cors = answer.head if answer is not None and answer.head is not None else _CORS_LINES[False]
        if isinstance(exc, MedamaError):
            return _error(exc.status_code, exc.detail, exc.retry_after, cors)
        if exc is not None:
            log.error("POST %s failed", HIT_PATH, exc_info=exc)
        return _error(500, INTERNAL_MESSAGE, None, cors)
