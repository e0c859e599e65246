"""The one exception handler: every failure leaves as the error envelope (docs/architecture.md#errors)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import MediaType, Response
from litestar.exceptions import HTTPException, ValidationException

from medama_py.api.envelope import ENVELOPE_HEADERS, INTERNAL_MESSAGE, encode_error
from medama_py.errors import MedamaError, PayloadTooLarge, ServiceUnavailable
from medama_py.ingest.umami_collect import error_envelope

if TYPE_CHECKING:
    from litestar import Request

__all__ = ["UMAMI_PREFIX", "error_response", "handle_exception", "umami_error_response"]

log = logging.getLogger("medama_py.api")

# Content-Type comes from media_type; the rest of the envelope's headers are set on the response.
_HEADERS = {name.decode(): value.decode() for name, value in ENVELOPE_HEADERS if name != b"content-type"}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response[bytes]:
    """Build the error envelope response."""
    return Response(
        encode_error(status, message),
        status_code=status,
        media_type=MediaType.JSON,
        headers={**_HEADERS, **(headers or {})},
    )


UMAMI_PREFIX = "/umami/"


def umami_error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response[bytes]:
    """Umami's envelope: {"error": {"message", "code", "status"}}, used on every `/umami/*` route."""
    return Response(
        msgspec.json.encode(error_envelope(status, message)),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
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


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Render any exception; 5xx are logged with context, 401 at warning, never a traceback to the client."""
    headers: dict[str, str] = {}
    if isinstance(exc, MedamaError):
        status, message = exc.status_code, exc.detail
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, ValidationException):
        status, message = 400, _validation_message(exc)
    elif isinstance(exc, HTTPException):
        status, message = exc.status_code, exc.detail
        headers.update({k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"})
        if status == 404:
            message = "api path not found" if request.url.path.startswith("/api") else "not found"
        elif status == 413:  # Litestar's body limit says it its own way; every door says it ours
            message = PayloadTooLarge.message
    else:
        status, message = 500, INTERNAL_MESSAGE
    if status >= 500 and not isinstance(exc, ServiceUnavailable):  # load shedding, not a failure to log
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    elif status == 401:
        log.warning("%s %s: %s", request.method, request.url.path, message)
    if request.url.path.startswith(UMAMI_PREFIX):
        return umami_error_response(status, message, headers)
    return error_response(status, message, headers)
