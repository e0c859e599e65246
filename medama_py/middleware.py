"""The outermost ASGI layer: CORS, X-Api-Commit on GETs, exact API paths.

CORS has two policies: any origin without credentials on /api/event and outside /api, and the
-corsorigins list (when given) on the rest of /api, with credentials only for origins it names (never for `*`).

It wraps the whole Litestar app so that these rules also cover 404s, 405s and preflights that never
reach a route handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from medama_py.api.envelope import send_error
from medama_py.origins import origin_matches, trusted_with_credentials

if TYPE_CHECKING:
    from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send

__all__ = ["EdgeMiddleware", "default_cors_headers"]

_DEFAULT_METHODS = ("GET", "POST", "HEAD")
_CUSTOM_METHODS = ("GET", "POST", "PATCH", "DELETE")
_ALLOWED_HEADERS = frozenset({"accept", "content-type", "x-requested-with"})


def default_cors_headers(origin: str | None, method: str) -> list[tuple[bytes, bytes]]:
    """CORS headers of an actual (not preflight) response under the default policy: any origin, no credentials."""
    if origin is not None and method in _DEFAULT_METHODS:
        return [(b"vary", b"Origin"), (b"access-control-allow-origin", b"*")]
    return [(b"vary", b"Origin")]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class EdgeMiddleware:
    """Medama's outer middleware chain, as one cheap ASGI wrapper."""

    def __init__(self, app: ASGIApp, *, commit: str, cors_origins: tuple[str, ...]) -> None:
        self.app = app
        self.commit = commit.encode()
        self.cors_origins = tuple(origin.lower() for origin in cors_origins)

    def _custom_policy(self, path: str) -> bool:
        return bool(self.cors_origins) and path.startswith("/api") and not path.startswith("/api/event")

    def _origin_allowed(self, origin: str, custom: bool) -> bool:
        if not custom:
            return True
        return any(origin_matches(origin, allowed) for allowed in self.cors_origins)

    def _credentials(self, origin: str) -> list[tuple[bytes, bytes]]:
        """Credentials only for an origin the list names: a bare `*` never grants them (docs/security.md)."""
        if trusted_with_credentials(origin, self.cors_origins):
            return [(b"access-control-allow-credentials", b"true")]
        return []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method = str(scope.get("method", "GET"))
        origin = _header(scope, b"origin")
        custom = self._custom_policy(path)
        if method == "OPTIONS" and _header(scope, b"access-control-request-method") is not None:
            await self._preflight(scope, send, origin, custom)
            return
        if not custom:
            extra = default_cors_headers(origin, method)
        else:
            extra = [(b"vary", b"Origin")]
            if origin is not None and method in _CUSTOM_METHODS and self._origin_allowed(origin, custom):
                extra.append((b"access-control-allow-origin", origin.encode("latin-1")))
                extra.extend(self._credentials(origin))
        if method == "GET" and not path.startswith("/api/event"):
            extra.append((b"x-api-commit", self.commit))
        if path == "/api":
            await _send_simple(send, 301, b"", [(b"location", b"/api/"), *extra])
            return
        if path.startswith("/api/") and path.endswith("/") and path != "/api/":
            # API paths are exact: no trailing-slash tolerance, as in Medama.
            await send_error(send, 404, "api path not found", extra)
            return

        expose = custom and any(name == b"access-control-allow-origin" for name, _ in extra)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *extra]
                # The custom policy exposes X-Api-Commit (rs/cors ExposedHeaders); a handler's own list wins.
                if expose and not any(name.lower() == b"access-control-expose-headers" for name, _ in headers):
                    headers.append((b"access-control-expose-headers", b"X-Api-Commit"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _preflight(self, scope: Scope, send: Send, origin: str | None, custom: bool) -> None:
        headers = [(b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")]
        requested_method = (_header(scope, b"access-control-request-method") or "").upper()
        requested = _header(scope, b"access-control-request-headers") or ""
        names = [h.strip().lower() for h in requested.split(",") if h.strip()]
        methods = _CUSTOM_METHODS if custom else _DEFAULT_METHODS
        if (
            origin is not None
            and self._origin_allowed(origin, custom)
            and requested_method in methods
            and all(name in _ALLOWED_HEADERS for name in names)
        ):
            headers.append((b"access-control-allow-origin", origin.encode("latin-1") if custom else b"*"))
            headers.append((b"access-control-allow-methods", requested_method.encode()))
            if names:
                headers.append((b"access-control-allow-headers", ", ".join(names).encode()))
            if custom:
                headers.extend(self._credentials(origin))
        await _send_simple(send, 204, b"", headers)


async def _send_simple(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    done: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(done)
