"""Direct routes: a POST the HTTP protocol answers itself, without an ASGI request cycle.

/umami/api/send is the server's busiest JSON endpoint. Through ASGI every hit paid for uvicorn's request
cycle (the scope, an event, a task, `receive`, two `send` messages whose headers are checked one by one)
and our two ASGI layers, on the event loop that limits the ingest rate (docs/umami.md "Where the time
goes"). The tracker's
`POST /api/event/hit` is the product's busiest endpoint and takes the same way (events_fast_path.py), so
both protocols' hits pay the same HTTP cost. A direct route gets the request's headers and whole body from
the protocol (`http_limits.BoundedHttpToolsProtocol`) once the body is complete and gives back a
`DirectAnswer`: the status, body and header lines, and optionally a future to wait for first (the hit's
commit). The protocol then writes the answer in one transport write.

A request takes this way only in the plain case: POST, the exact path (no query), a Content-Length within
the route's limit, no `Expect: 100-continue`, no upgrade, and no other request of its connection still
unanswered. Anything else (a 413, chunked bodies, pipelined requests) goes through ASGI, where the same
route also has its ASGI door (api/umami_collect.py, events_fast_path.py), so both answer alike.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Iterable

__all__ = ["DirectAnswer", "DirectExchange", "DirectRoute", "answer_bytes", "header_lines"]

log = logging.getLogger(__name__)


class DirectAnswer(NamedTuple):
    """A route's answer: written once `after` (if any) completes.

    `after` resolving to a `DirectAnswer` (or a (status, body) pair) replaces the answer (a route that had to
    await something); resolving to anything else keeps it; raising (or being cancelled) is answered by the
    route's `failed`.

    `head` holds the answer's header lines, each ending in CRLF, Content-Length included when the answer has
    one: the server's own lines (the date) come before them and `connection: close` after. None: the route's
    `headers` and the body's Content-Length.
    """

    status: int
    body: bytes
    after: asyncio.Future[Any] | None = None
    head: bytes | None = None


class DirectRoute(Protocol):
    """What the protocol needs of a route."""

    @property
    def limit(self) -> int:
        """The largest body (bytes) this way takes; a larger declared one goes through ASGI (413 there)."""
        ...

    @property
    def headers(self) -> bytes:
        """The header lines of an answer without its own `head`, besides the length and the date (CRLF each)."""
        ...

    def handle(self, headers: list[tuple[bytes, bytes]], body: bytes, client: tuple[str, int] | None) -> DirectAnswer:
        """The answer to one request (headers with lower-case names); never raises."""
        ...

    def failed(self, exc: BaseException | None, answer: DirectAnswer | None) -> DirectAnswer:
        """The answer instead of `answer` when its `after` raised `exc`.

        `exc` is None when `after` was cancelled, or when `handle` raised: then `answer` is None too.
        """
        ...


def header_lines(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    """(name, value) pairs as the header lines uvicorn writes for them, each ending in CRLF."""
    return b"".join(b"%s: %s\r\n" % pair for pair in pairs)


_STATUS_LINES = {int(status): b"HTTP/1.1 %d %s\r\n" % (status, status.phrase.encode()) for status in HTTPStatus}


def answer_bytes(status: int, head_lines: bytes, body: bytes, keep_alive: bool) -> bytes:
    """The whole response: status line, `head_lines` (the server's and the answer's, length included), body.

    The same bytes uvicorn writes for the ASGI door's answer with these header lines (docs/architecture.md#a-hit).
    """
    close = b"" if keep_alive else b"connection: close\r\n"
    return b"%s%s%s\r\n%s" % (_STATUS_LINES[status], head_lines, close, body)


class _NoEvent:
    """Stands in for uvicorn's per-request event, which its protocol sets when the connection is lost."""

    __slots__ = ()

    def set(self) -> None:
        return None


_NO_EVENT = _NoEvent()


class DirectExchange:
    """One request on a direct route, from its head to its answer.

    While it is unanswered it is the protocol's current cycle: uvicorn's own code then queues a pipelined
    request behind it, marks it `disconnected` when the connection is lost and clears `keep_alive` on a
    graceful shutdown, through these attributes.
    """

    __slots__ = ("body", "disconnected", "keep_alive", "reading", "response_complete", "route")

    message_event = _NO_EVENT

    def __init__(self, route: DirectRoute, keep_alive: bool) -> None:
        self.route = route
        self.keep_alive = keep_alive
        self.body = bytearray()
        self.reading = True
        self.disconnected = False
        self.response_complete = False

    def run(
        self, headers: list[tuple[bytes, bytes]], client: tuple[str, int] | None, write: Callable[[DirectAnswer], None]
    ) -> None:
        """Hand the request to the route; `write(answer)` is called once the answer is ready."""
        self.reading = False
        try:
            answer = self.route.handle(headers, bytes(self.body), client)
        except Exception:  # a route never raises; if one does, the client still gets an answer
            log.exception("POST direct route failed")
            write(self.route.failed(None, None))
            return
        if answer.after is None:
            write(answer)
            return
        answer.after.add_done_callback(lambda done: write(self._outcome(answer, done)))

    def _outcome(self, answer: DirectAnswer, done: asyncio.Future[Any]) -> DirectAnswer:
        if done.cancelled():
            return self.route.failed(None, answer)
        exc = done.exception()
        if exc is not None:
            return self.route.failed(exc, answer)
        result = done.result()
        if isinstance(result, DirectAnswer):
            return result
        if isinstance(result, tuple):
            return DirectAnswer(result[0], result[1])
        return answer
