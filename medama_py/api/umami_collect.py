"""POST /umami/api/send and /umami/api/batch (docs/umami.md "Collection"): the HTTP side only.

Like Medama's event endpoints, two doors share one service (ingest/umami_collect.py): a raw ASGI layer
in front of the application answers these paths on the hot path, and Litestar handlers document them in
the OpenAPI schema and serve them when the app runs bare. Every answer carries Umami's open CORS headers
(the tracker sends `x-umami-cache` and JSON, so browsers preflight), and errors use Umami's envelope.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import operator
import time
from typing import TYPE_CHECKING, Any, cast

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import State

from medama_py.api.envelope import INTERNAL_MESSAGE
from medama_py.api.events import read_body, select_headers
from medama_py.clientip import FORWARDING_HEADERS, client_ip, peer_ip
from medama_py.errors import MedamaError, WebsiteNotFound
from medama_py.http_direct import DirectAnswer, header_lines
from medama_py.ingest.umami import UmamiRequest
from medama_py.ingest.umami_collect import DistinctVisitorDays, SiteDirectory, UmamiCollector, error_envelope
from medama_py.ingest.visit_token import VisitTokens, page_bit
from medama_py.storage.umami_meta import visit_token_secret
from medama_py.storage.umami_tables import distinct_session_days

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, MutableMapping

    from litestar import Litestar
    from litestar.types import ASGIApp as LitestarASGIApp
    from litestar.types import Receive as LitestarReceive
    from litestar.types import Scope as LitestarScope
    from litestar.types import Send as LitestarSend

    from medama_py.ingest.pipeline import IngestDeps
    from medama_py.services import Services
    from medama_py.storage.analytics import AnalyticsStore
    from medama_py.storage.meta import MetaStore
    from medama_py.storage.writer import HitWriter

    # Plain ASGI shapes: this layer handles raw messages, not Litestar's TypedDict variants.
    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

__all__ = [
    "BATCH_PATH",
    "SEND_PATH",
    "UmamiCollectPath",
    "UmamiSendRoute",
    "make_collector",
    "route_handlers",
]

log = logging.getLogger(__name__)

SEND_PATH = "/umami/api/send"
BATCH_PATH = "/umami/api/batch"
# One hit is a few hundred bytes; a batch replays up to MAX_BATCH_ITEMS of them.
MAX_SEND_BYTES = 64 * 1024
MAX_BATCH_BYTES = 1024 * 1024
_LIMITS = {SEND_PATH: MAX_SEND_BYTES, BATCH_PATH: MAX_BATCH_BYTES}
CORS_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-headers", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-max-age", b"86400"),
)
# The request headers collection reads; decoding only these keeps the per-hit cost down.
_USED_HEADERS = frozenset((b"content-length", b"user-agent", b"accept-language", b"x-umami-cache", *FORWARDING_HEADERS))


async def make_collector(
    meta: MetaStore, analytics: AnalyticsStore, writer: HitWriter, ingest: IngestDeps
) -> UmamiCollector:
    """Build the collection service from the open stores, the hit writer and ingestion's live state."""

    async def hostname_of(website: str) -> str | None:
        try:
            return (await meta.get_website_by_uuid(website)).hostname
        except WebsiteNotFound:
            return None

    async def session_days(session: str) -> dict[int, int]:
        # Not waiting for the hit journal to be applied: a hit must not queue behind a checkpoint. The hits
        # of a session since it was loaded are marked in DistinctVisitorDays itself.
        days = await analytics.read(functools.partial(distinct_session_days, session_id=session), settled=False)
        return {day: functools.reduce(operator.or_, map(page_bit, paths), 0) for day, paths in days.items()}

    return UmamiCollector(
        tokens=VisitTokens(await visit_token_secret(meta)),
        sites=SiteDirectory(hostname_of, ingest.hostnames, time.monotonic),
        visitors=DistinctVisitorDays(session_days),
        writer=writer,
        ip_filter=ingest.ip_filter,
        spam_hosts=ingest.spam_hosts,
    )


def _umami_request(services: Services, headers: dict[str, str], peer: str | None) -> UmamiRequest:
    return UmamiRequest(
        ip=client_ip(headers, peer_ip(peer), services.trusted_proxies),
        user_agent=headers.get("user-agent", ""),
        accept_language=headers.get("accept-language", ""),
        cache=headers.get("x-umami-cache"),
        now=services.clock(),
    )


async def _answer(services: Services, path: str, body: bytes, req: UmamiRequest) -> tuple[int, dict[str, object]]:
    """(status, JSON body) for one request: every outcome, including errors, in Umami's shapes."""
    collector = services.umami_collector
    try:
        if path == SEND_PATH:
            return 200, await collector.send(body, req)
        return 200, await collector.batch(body, req)
    except MedamaError as exc:
        return exc.status_code, error_envelope(exc.status_code, exc.detail)


# --- the raw ASGI door ---------------------------------------------------------------------------


def _header_map(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return select_headers(raw, _USED_HEADERS)


async def _send_json(send: Send, status: int, body: object, extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    content = msgspec.json.encode(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        *CORS_HEADERS,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


# --- the direct route (medama_py/http_direct.py): /umami/api/send answered by the HTTP protocol itself ------


class UmamiSendRoute:
    """/umami/api/send as a direct route: the same service and answers as the ASGI door, without its cycle."""

    limit = MAX_SEND_BYTES
    headers = b"content-type: application/json\r\n" + header_lines(CORS_HEADERS)

    def __init__(self, litestar: Litestar) -> None:
        # Holds `state.services` once the lifespan ran (before the server accepts connections).
        self.litestar = litestar

    def handle(self, headers: list[tuple[bytes, bytes]], body: bytes, client: tuple[str, int] | None) -> DirectAnswer:
        services: Services = self.litestar.state.services
        req = _umami_request(services, _header_map(headers), client[0] if client else None)
        try:
            ready = services.umami_collector.send_now(body, req)
        except MedamaError as exc:
            return self.failed(exc, None)
        except Exception:
            log.exception("POST %s failed", SEND_PATH)
            return self.failed(None, None)
        if ready is None:  # a lookup first: the coroutine way
            return DirectAnswer(200, b"", asyncio.ensure_future(self._slow(services, body, req)))
        answer, committed = ready
        return DirectAnswer(200, msgspec.json.encode(answer), committed)

    @staticmethod
    async def _slow(services: Services, body: bytes, req: UmamiRequest) -> DirectAnswer:
        status, answer = await _answer(services, SEND_PATH, body, req)
        return DirectAnswer(status, msgspec.json.encode(answer))

    def failed(self, exc: BaseException | None, answer: DirectAnswer | None) -> DirectAnswer:
        if isinstance(exc, MedamaError):
            return DirectAnswer(exc.status_code, msgspec.json.encode(error_envelope(exc.status_code, exc.detail)))
        if exc is not None:
            log.error("POST %s failed", SEND_PATH, exc_info=exc)
        return DirectAnswer(500, msgspec.json.encode(error_envelope(500, INTERNAL_MESSAGE)))


class UmamiCollectPath:
    """ASGI layer answering /umami/api/send and /umami/api/batch first; everything else goes to `app`."""

    def __init__(self, app: LitestarASGIApp, litestar: Litestar) -> None:
        self.app = app
        # Holds `state.services` once the lifespan ran.
        self.litestar = litestar

    async def __call__(self, scope: LitestarScope, receive: LitestarReceive, send: LitestarSend) -> None:
        raw = cast("Scope", scope)
        path = raw["path"] if raw["type"] == "http" else None
        limit = _LIMITS.get(path) if path is not None else None
        if path is None or limit is None:
            await self.app(scope, receive, send)
            return
        out = cast("Send", send)
        method = raw["method"]
        # Handled here rather than in one more coroutine: every awaited layer is resumed again per hit.
        try:
            if method == "POST":
                await self._collect(raw, path, limit, cast("Receive", receive), out)
            elif method == "OPTIONS":
                await out({"type": "http.response.start", "status": 204, "headers": list(CORS_HEADERS)})
                await out({"type": "http.response.body", "body": b""})
            else:
                envelope = error_envelope(405, "Method not allowed.")
                await _send_json(out, 405, envelope, [(b"allow", b"POST, OPTIONS")])
        except MedamaError as exc:
            await _send_json(out, exc.status_code, error_envelope(exc.status_code, exc.detail))
        except Exception:
            log.exception("%s %s failed", method, path)
            await _send_json(out, 500, error_envelope(500, INTERNAL_MESSAGE))

    async def _collect(self, scope: Scope, path: str, limit: int, receive: Receive, send: Send) -> None:
        headers = _header_map(scope["headers"])
        body = await read_body(receive, headers.get("content-length"), limit)
        if body is None:
            return
        services: Services = self.litestar.state.services
        client = scope.get("client")
        req = _umami_request(services, headers, client[0] if client else None)
        collector = services.umami_collector
        # A MedamaError (400, 403, 413, 503) is answered by __call__ in Umami's envelope, as `_answer` does.
        answer = await (collector.send(body, req) if path == SEND_PATH else collector.batch(body, req))
        await _send_json(send, 200, answer)


# --- the Litestar door (OpenAPI, bare app) -------------------------------------------------------


async def _via_litestar(request: Request[Any, Any, State], path: str) -> Response[dict[str, object]]:
    services: Services = request.app.state.services
    body = await request.body()
    headers = _header_map(request.scope["headers"])
    req = _umami_request(services, headers, request.client.host if request.client else None)
    if len(body) > _LIMITS[path]:
        status, answer = 413, error_envelope(413, "Request body too large.")
    else:
        status, answer = await _answer(services, path, body, req)
    cors = {name.decode(): value.decode() for name, value in CORS_HEADERS}
    return Response(answer, status_code=status, headers=cors)


@post(SEND_PATH, operation_id="post-umami-send", tags=["Umami"], status_code=200, request_max_body_size=MAX_SEND_BYTES)
async def post_umami_send(request: Request[Any, Any, State]) -> Response[dict[str, object]]:
    """Record one Umami-protocol page view, custom event or identify; answers the visit token."""
    return await _via_litestar(request, SEND_PATH)


@post(
    BATCH_PATH, operation_id="post-umami-batch", tags=["Umami"], status_code=200, request_max_body_size=MAX_BATCH_BYTES
)
async def post_umami_batch(request: Request[Any, Any, State]) -> Response[dict[str, object]]:
    """Record an array of Umami-protocol hits; each is answered in `details` when it fails."""
    return await _via_litestar(request, BATCH_PATH)


route_handlers = [post_umami_send, post_umami_batch]
