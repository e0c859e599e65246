"""One error family; every error leaves the server as {"error": {"code": N, "message": "..."}}."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AnalyticsReopening",
    "BadRequest",
    "Conflict",
    "DemoMode",
    "Forbidden",
    "InternalError",
    "InvalidCustomProperty",
    "LastAdmin",
    "MedamaError",
    "NotFound",
    "PayloadTooLarge",
    "ServerBusy",
    "ServiceUnavailable",
    "ShareNotFound",
    "TooManyRequests",
    "Unauthorised",
    "UnsupportedMediaType",
    "UserExists",
    "UserNotFound",
    "ViewerForbidden",
    "WebsiteExists",
    "WebsiteNotFound",
    "WebsitesOwned",
]


class MedamaError(Exception):
    """Base of every error the API answers with; carries the HTTP status and the client message."""

    status_code: ClassVar[int] = 500
    message: ClassVar[str] = "the server encountered a problem and could not process your request"
    # Seconds for a Retry-After header; None sends none. An instance may carry its own (TooManyRequests).
    retry_after: int | None = None

    def __init__(self, message: str | None = None) -> None:
        self.detail = message if message is not None else self.message
        super().__init__(self.detail)


class BadRequest(MedamaError):
    status_code = 400
    message = "bad request"


class Unauthorised(MedamaError):
    status_code = 401
    message = "unauthorised session"


class Forbidden(MedamaError):
    status_code = 403
    message = "forbidden"


class NotFound(MedamaError):
    status_code = 404
    message = "not found"


class Conflict(MedamaError):
    status_code = 409
    message = "conflict"


class PayloadTooLarge(MedamaError):
    status_code = 413
    message = "request body too large"


class UnsupportedMediaType(MedamaError):
    status_code = 415
    message = "unsupported content type"


class TooManyRequests(MedamaError):
    """Too many login attempts from one client: answered with Retry-After, the seconds left in its window."""

    status_code = 429
    message = "too many login attempts, try again later"

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(MedamaError):
    """Temporarily over capacity (a full hit queue, a query over the memory limit): the client may retry."""

    status_code = 503
    message = "the server is busy, try again shortly"
    retry_after = 1


class AnalyticsReopening(ServiceUnavailable):
    """DuckDB failed fatally and the analytics file is being closed and opened again (docs/architecture.md#failures)."""

    message = "the analytics database is being reopened after a failure, try again shortly"


class ServerBusy(ServiceUnavailable):
    """More clients are waiting for a password check than the server will queue: try again in a moment."""

    message = "too many logins in progress, try again shortly"


class InternalError(MedamaError):
    status_code = 500


# Domain errors keep Medama's exact business messages (docs/compatibility.md#what-stays-identical).
class DemoMode(Forbidden):
    message = "user in demo mode"


class UserNotFound(NotFound):
    message = "user not found"


class UserExists(Conflict):
    message = "user already exists"


class WebsiteExists(Conflict):
    message = "website already exists"


class WebsiteNotFound(NotFound):
    message = "website not found"


class InvalidCustomProperty(BadRequest):
    message = "invalid custom property"


class WebsitesOwned(Conflict):
    message = "user still owns websites: delete them first"


class LastAdmin(Conflict):
    message = "the last admin can be neither deleted nor demoted"


class ViewerForbidden(Forbidden):
    message = "a viewer can only read the websites granted to it and change its own password"


class ShareNotFound(NotFound):
    """An unknown, malformed, expired or revoked share link or token: all answer alike."""

    message = "share link not found"
