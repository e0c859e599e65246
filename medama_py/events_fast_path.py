"""EventsFastPath: a raw ASGI layer that answers /api/event/ping and /api/event/hit before Litestar does.

Trackers call these two paths far more than everything else together, and bench/ingest.py showed the
framework's per-request cost dominating a hit's. This layer reads the request, calls the same
`receive_hit` / `answer_ping` as the Litestar handlers in api/events.py and answers with the same bytes;
tests/unit/test_ingest_endpoints.py holds both doors to that. Everything else, and CORS preflights,
goes on to the edge middleware and Litestar (docs/architecture.md#a-hit).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from medama_py.api.envelope import INTERNAL_MESSAGE, send_error
from medama_py.api.events import HIT_PATH, MAX_HIT_BYTES, PING_PATH, hit_headers, read_body, receive_hit
from medama_py.errors import MedamaError
from medama_py.ingest.ping import answer_ping
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

__all__ = ["EventsFastPath"]

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
