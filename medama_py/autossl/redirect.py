"""The plain-HTTP side of -autossl: answer ACME HTTP-01 challenges, send everything else to HTTPS with 308.

A bare ASGI app (no framework): it serves two fixed answers and must keep working while the main app is
still opening its databases or waiting for its first certificate (docs/autossl.md#serving).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from medama_py.autossl.acme_order import ChallengeTokens

    Scope = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
    Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["CHALLENGE_PREFIX", "http_redirect_app"]

CHALLENGE_PREFIX = "/.well-known/acme-challenge/"


def http_redirect_app(tokens: ChallengeTokens, domain: str, https_port: int) -> ASGIApp:
    """An ASGI app for port 80: challenge answers from `tokens`, else a 308 to the same path on https://domain."""
    # The redirect names the configured domain, never the request's Host header, so it cannot be pointed
    # at another site; the port appears only when it is not HTTPS's default.
    origin = f"https://{domain}" + ("" if https_port == 443 else f":{https_port}")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith(CHALLENGE_PREFIX):
            answer = tokens.answer(path[len(CHALLENGE_PREFIX) :])
            if answer is None:
                await _respond(send, 404, [(b"content-type", b"text/plain")], b"unknown challenge\n")
            else:
                await _respond(send, 200, [(b"content-type", b"text/plain")], answer.encode("ascii"))
            return
        target = origin.encode("ascii") + (scope.get("raw_path") or path.encode("utf-8"))
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        await _respond(send, 308, [(b"location", target), (b"content-type", b"text/plain")], b"")

    return app


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
