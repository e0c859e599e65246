"""The one error renderer: every failure leaves as {"error": {"code": N, "message": "..."}} (DECISIONS S26)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Response
from litestar.exceptions import HTTPException, ValidationException

from medama_py.errors import MedamaError

if TYPE_CHECKING:
    from litestar import Request

__all__ = ["error_response", "handle_exception"]

log = logging.getLogger("medama_py.api")

_INTERNAL = "the server encountered a problem and could not process your request"


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response[dict[str, object]]:
    """Build the error envelope response."""
    return Response(
        {"error": {"code": status, "message": message}},
        status_code=status,
        media_type=MediaType.JSON,
        headers={"Access-Control-Expose-Headers": "X-Api-Commit", **(headers or {})},
    )


def _validation_message(exc: ValidationException) -> str:
    details = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            key = item.get("key")
            source = item.get("source")
            text = item.get("message", "")
            where = f"{source} '{key}'" if key and source else str(key or source or "")
            details.append(f"{where}: {text}" if where else str(text))
    base = exc.detail or "bad request"
    return f"{base}: {'; '.join(details)}" if details else base


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, object]]:
    """Render any exception; 5xx are logged with context, 401 at warning, never a traceback to the client."""
    headers: dict[str, str] = {}
    if isinstance(exc, MedamaError):
        status, message = exc.status_code, exc.detail
        if status == 429:
            headers["Retry-After"] = "60"
    elif isinstance(exc, ValidationException):
        status, message = 400, _validation_message(exc)
    elif isinstance(exc, HTTPException):
        status, message = exc.status_code, exc.detail
        headers.update({k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"})
        if status == 404:
            message = "api path not found" if request.url.path.startswith("/api") else "not found"
    else:
        status, message = 500, _INTERNAL
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    elif status == 401:
        log.warning("%s %s: %s", request.method, request.url.path, message)
    return error_response(status, message, headers)
