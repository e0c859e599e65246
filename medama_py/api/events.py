"""GET /api/event/ping and POST /api/event/hit (api.md 5.14, 5.15, 6).

Two doors into the same code: Litestar handlers (documented in the OpenAPI schema, used whenever the
app runs bare) and `EventsFastPath`, a raw ASGI layer in front of Litestar that answers the two event
paths directly. Trackers call these endpoints far more than everything else together, and the
benchmark (bench/ingest.py) showed the framework's per-request cost dominating a hit's; both doors
share the decoding, pipeline and writer below, so they answer identically.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import threading
from typing import TYPE_CHECKING, Annotated, Any, cast

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter

from medama_py.errors import MedamaError, PayloadTooLarge
from medama_py.ingest.ip import client_ip
from medama_py.ingest.ping import answer_ping
from medama_py.ingest.pipeline import HitContext, IngestDeps, warm_up
from medama_py.ingest.recorder import check_hit_content_type, record_hit
from medama_py.middleware import default_cors_headers

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping

    from litestar import Litestar
    from litestar.types import ASGIApp as LitestarASGIApp
    from litestar.types import Receive as LitestarReceive
    from litestar.types import Scope as LitestarScope
    from litestar.types import Send as LitestarSend

    from medama_py.runtime import Services

    # Plain ASGI shapes: the lean path handles raw messages, not Litestar's TypedDict variants.
    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

__all__ = ["MAX_HIT_BYTES", "EventsFastPath", "route_handlers", "with_fast_path"]

log = logging.getLogger(__name__)

# A tracker hit is a few hundred bytes; 64 KiB leaves room for generous custom properties.
MAX_HIT_BYTES = 64 * 1024
_INTERNAL = "the server encountered a problem and could not process your request"
_PING_PATH = "/api/event/ping"
_HIT_PATH = "/api/event/hit"


def _ingest_deps(services: Services) -> IngestDeps:
    if services.ip_filter is None:
        raise RuntimeError("the IP filter is not configured")
    return IngestDeps(hostnames=services.hostnames, ip_filter=services.ip_filter)


# The parser tables (ua-parser's compiled regexes ~27 MB and 0.2 s, CLDR names, zones) load with the first
# hit, on a worker thread, instead of at start: an idle server stays small (issue 7), and the event loop
# keeps serving while they load. Set once loaded; checking it is the only per-hit cost.
_parsers_ready = threading.Event()
_parsers_lock = threading.Lock()


def _load_parsers() -> None:
    with _parsers_lock:
        if not _parsers_ready.is_set():
            warm_up()
            _parsers_ready.set()


async def _hit(services: Services, body: bytes, headers: Mapping[str, str], peer: str | None) -> None:
    """Validate and record one hit; raises MedamaError for every 4xx."""
    check_hit_content_type(headers.get("content-type"))
    if not _parsers_ready.is_set():
        await anyio.to_thread.run_sync(_load_parsers)
    if services.writer is None:
        raise RuntimeError("the hit writer is not running")
    ctx = HitContext(
        ip=client_ip(headers, peer),
        user_agent=headers.get("user-agent", ""),
        accept_language=headers.get("accept-language", ""),
        now=services.clock(),
    )
    # record_hit queues the writes and hands back their commit (None when the hit was dropped).
    commit = record_hit(body, ctx, _ingest_deps(services), services.writer)
    if commit is not None:
        await commit


# --- Litestar handlers -------------------------------------------------------------------------


def _services(request: Request[Any, Any, State]) -> Services:
    services: Services = request.app.state.services
    return services


@get(_PING_PATH, operation_id="get-event-ping", tags=["Event"], media_type="text/plain; charset=utf-8")
async def get_event_ping(
    request: Request[Any, Any, State],
    u: Annotated[str | None, QueryParameter(description="Page key; only separates browser cache entries")] = None,
) -> Response[str]:
    """`0` when the browser has not been seen today (unique), else `1` cached until UTC midnight."""
    answer = answer_ping(request.headers.get("if-modified-since"), _services(request).clock())
    return Response(
        answer.body,
        media_type="text/plain; charset=utf-8",
        headers={"Last-Modified": answer.last_modified, "Cache-Control": answer.cache_control},
    )


@post(_HIT_PATH, operation_id="post-event-hit", tags=["Event"], status_code=204)
async def post_event_hit(request: Request[Any, Any, State]) -> Response[None]:
    """Record a load, unload or custom event; silent drops answer 204 too."""
    body = await request.body()
    if len(body) > MAX_HIT_BYTES:
        raise PayloadTooLarge
    headers = _header_map(request.scope["headers"])
    peer = request.client.host if request.client else None
    await _hit(_services(request), body, headers, peer)
    return Response(None, status_code=204)


route_handlers = [get_event_ping, post_event_hit]


# --- the lean path -----------------------------------------------------------------------------


# The only request headers ingestion reads; decoding just these keeps the per-hit cost down.
_USED_HEADERS = frozenset(
    {
        b"content-type",
        b"content-length",
        b"user-agent",
        b"accept-language",
        b"if-modified-since",
        b"origin",
        b"access-control-request-method",
        b"x-forwarded-for",
        b"cf-connecting-ip",
        b"x-real-ip",
        b"x-client-ip",
        b"fastly-client-ip",
    }
)


def _header_map(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    # First occurrence wins, like Go's Header.Get; ASGI names arrive lower-cased.
    headers: dict[str, str] = {}
    for name, value in raw:
        if name in _USED_HEADERS:
            key = name.decode("latin-1")
            if key not in headers:
                headers[key] = value.decode("latin-1")
    return headers


async def _read_body(receive: Receive, declared: str | None) -> bytes | None:
    """Return the body, None if the client went away; raise 413 past MAX_HIT_BYTES."""
    if declared is not None and declared.isdigit() and int(declared) > MAX_HIT_BYTES:
        raise PayloadTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_HIT_BYTES:
            raise PayloadTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": {"code": status, "message": message}}, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"access-control-expose-headers", b"X-Api-Commit"),
        *extra,
    ]
    await _send(send, status, body, headers)


class EventsFastPath:
    """ASGI layer answering /api/event/ping and /api/event/hit first; everything else goes to `app`.

    It sits outside the edge middleware (medama_py/middleware.py) and adds the event paths' CORS headers
    itself, which always follow the default policy; CORS preflights still go through the edge.
    """

    def __init__(self, app: LitestarASGIApp, litestar: Litestar) -> None:
        self.app = app
        # Holds `state.services` once the lifespan ran.
        self.litestar = litestar

    async def __call__(self, scope: LitestarScope, receive: LitestarReceive, send: LitestarSend) -> None:
        raw = cast("Scope", scope)
        path = raw.get("path") if raw["type"] == "http" else None
        if path != _HIT_PATH and path != _PING_PATH:
            await self.app(scope, receive, send)
            return
        headers = _header_map(raw["headers"])
        method = raw["method"]
        if method == "OPTIONS" and "access-control-request-method" in headers:
            await self.app(scope, receive, send)  # a CORS preflight: the edge answers it
            return
        cors = default_cors_headers(headers.get("origin"), method)
        out = cast("Send", send)
        allowed = "POST" if path == _HIT_PATH else "GET"
        try:
            if method != allowed:
                await self._wrong_method(method, out, allowed, cors)
            elif path == _HIT_PATH:
                await self._hit(raw, headers, cast("Receive", receive), out, cors)
            else:
                await self._ping(headers, out, cors)
        except MedamaError as exc:
            await _send_error(out, exc.status_code, exc.detail, cors)
        except Exception:
            log.exception("%s %s failed", method, path)
            await _send_error(out, 500, _INTERNAL, cors)

    async def _wrong_method(self, method: str, send: Send, allowed: str, cors: list[tuple[bytes, bytes]]) -> None:
        if method == "OPTIONS":
            # OPTIONS without a CORS preflight header.
            await _send(send, 204, headers=[(b"access-control-allow-methods", allowed.encode()), *cors])
            return
        await _send_error(send, 405, "method not allowed", [(b"allow", allowed.encode()), *cors])

    def _services(self) -> Services:
        services: Services = self.litestar.state.services
        return services

    async def _ping(self, headers: dict[str, str], send: Send, cors: list[tuple[bytes, bytes]]) -> None:
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

    async def _hit(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send, cors: list[tuple[bytes, bytes]]
    ) -> None:
        body = await _read_body(receive, headers.get("content-length"))
        if body is None:
            return
        client = scope.get("client")
        await _hit(self._services(), body, headers, client[0] if client else None)
        await _send(send, 204, headers=cors)


# Every hit allocates a few hundred short-lived objects that wait ~20 ms for their commit, so with
# CPython's default thresholds (700, 10, 10) a 7 s benchmark run spent ~1.8 s collecting, including
# 300 ms full collections of the start-up heap. Hits create almost no reference cycles, so rarer
# young collections cost little memory, and frozen start-up objects are never scanned again.
_GC_THRESHOLDS = (50_000, 50, 1000)


def _tune_gc() -> None:
    gc.collect()
    gc.freeze()
    # Unfrozen at exit so interpreter shutdown can free everything (DuckDB's bindings report leaks otherwise).
    atexit.register(gc.unfreeze)
    gc.set_threshold(*_GC_THRESHOLDS)


def with_fast_path(app: LitestarASGIApp, litestar: Litestar) -> LitestarASGIApp:
    """Put the lean event path in front of `app` (the edge-wrapped `litestar`).

    Also tunes the garbage collector for ingestion's allocation pattern (measured with bench/ingest.py);
    the parser tables load with the first hit (see `_parsers_ready`).
    """
    _tune_gc()
    return EventsFastPath(app, litestar)
