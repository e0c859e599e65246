"""GET /api/event/ping and POST /api/event/hit: the Litestar handlers and what both event doors share.

The same two paths are also answered by `EventsFastPath` (medama_py/events_fast_path.py), a raw ASGI
layer in front of Litestar for the server's hottest requests. Both doors call `receive_hit` and
`answer_ping`, so they answer identically (docs/architecture.md#a-hit).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Annotated, Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter

from medama_py.api.deps import services_of
from medama_py.clientip import FORWARDING_HEADERS, client_ip, peer_ip
from medama_py.errors import PayloadTooLarge
from medama_py.ingest.ping import answer_ping
from medama_py.ingest.pipeline import HitContext, warm_up
from medama_py.ingest.recorder import check_hit_content_type, record_hit

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping

    from medama_py.services import Services

__all__ = [
    "HIT_PATH",
    "MAX_HIT_BYTES",
    "PING_PATH",
    "hit_headers",
    "parsers_ready",
    "read_body",
    "receive_hit",
    "route_handlers",
    "select_headers",
    "start_hit",
]

log = logging.getLogger(__name__)

# A tracker hit is a few hundred bytes; 64 KiB leaves room for generous custom properties.
MAX_HIT_BYTES = 64 * 1024
PING_PATH = "/api/event/ping"
HIT_PATH = "/api/event/hit"

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
        *FORWARDING_HEADERS,
    }
)


def hit_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request headers ingestion reads, by lower-case name."""
    return select_headers(raw, _USED_HEADERS)


def select_headers(raw: Iterable[tuple[bytes, bytes]], used: frozenset[bytes]) -> dict[str, str]:
    """The `used` request headers, by lower-case name (decoding only these keeps the per-hit cost down).

    The first occurrence wins, like Go's Header.Get, except for the forwarding headers, whose lines are joined.
    """
    headers: dict[str, str] = {}
    for name, value in raw:
        if name in used:
            key = name.decode("latin-1")
            if key not in headers:
                headers[key] = value.decode("latin-1")
            elif name in FORWARDING_HEADERS:  # a proxy may add a line instead of extending one
                headers[key] += "," + value.decode("latin-1")
    return headers


async def read_body(
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]], declared: str | None, limit: int
) -> bytes | None:
    """A raw ASGI request's whole body; None if the client went away; 413 past `limit` (declared or read)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


# The parser tables (ua-parser's compiled regexes ~27 MB and 0.2 s, CLDR names, zones) load with the first
# hit, on a worker thread, instead of at start: an idle server stays small, and the event loop keeps
# serving while they load. Set once loaded; checking it is the only per-hit cost.
_parsers_ready = threading.Event()
_parsers_lock = threading.Lock()


def _load_parsers() -> None:
    with _parsers_lock:
        if not _parsers_ready.is_set():
            warm_up()
            _parsers_ready.set()


def parsers_ready() -> bool:
    """Whether the parser tables are loaded (`start_hit` may run); `receive_hit` loads them first otherwise."""
    return _parsers_ready.is_set()


async def receive_hit(services: Services, body: bytes, headers: Mapping[str, str], peer: str | None) -> None:
    """Validate one hit and wait until it is committed (or dropped); raises MedamaError for every 4xx."""
    check_hit_content_type(headers.get("content-type"))
    if not _parsers_ready.is_set():
        await anyio.to_thread.run_sync(_load_parsers)
    # start_hit queues the writes and hands back their commit (None when the hit was dropped).
    commit = start_hit(services, body, headers, peer)
    if commit is not None:
        await commit


def start_hit(
    services: Services, body: bytes, headers: Mapping[str, str], peer: str | None
) -> asyncio.Future[None] | None:
    """`receive_hit` without a coroutine, once the Content-Type is checked and the parsers are loaded.

    Returns the pending commit to wait for (None when the hit was dropped); raises MedamaError for every 4xx.
    """
    ctx = HitContext(
        ip=client_ip(headers, peer_ip(peer), services.trusted_proxies),
        user_agent=headers.get("user-agent", ""),
        accept_language=headers.get("accept-language", ""),
        now=services.clock(),
    )
    return record_hit(body, ctx, services.ingest, services.writer)


@get(PING_PATH, operation_id="get-event-ping", tags=["Event"], media_type="text/plain; charset=utf-8")
async def get_event_ping(
    request: Request[Any, Any, State],
    u: Annotated[str | None, QueryParameter(description="Page key; only separates browser cache entries")] = None,
) -> Response[str]:
    """`0` when the browser has not been seen today (unique), else `1` cached until UTC midnight."""
    answer = answer_ping(request.headers.get("if-modified-since"), services_of(request).clock())
    return Response(
        answer.body,
        media_type="text/plain",  # Litestar adds "; charset=utf-8" to text types
        headers={"Last-Modified": answer.last_modified, "Cache-Control": answer.cache_control},
    )


@post(HIT_PATH, operation_id="post-event-hit", tags=["Event"], status_code=204)
async def post_event_hit(request: Request[Any, Any, State]) -> Response[None]:
    """Record a load, unload or custom event; silent drops answer 204 too."""
    body = await request.body()
    if len(body) > MAX_HIT_BYTES:
        raise PayloadTooLarge
    peer = request.client.host if request.client else None
    await receive_hit(services_of(request), body, hit_headers(request.scope["headers"]), peer)
    return Response(None, status_code=204)


route_handlers = [get_event_ping, post_event_hit]
