"""Who may read what: the one place that decides whether a caller may read a website's statistics.

Every `/api/website/{hostname}/*` handler calls `require_website_read` (see docs/security.md, "Authorisation",
and docs/accounts.md). An admin reads every website, a viewer the websites granted to it, a share token the one
website of its link. API keys become another kind of `Caller`, set by the authentication guard with the role of
the key's user. Nothing else checks read access; `require_admin` is the one check for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from medama_py.errors import Unauthorised, ViewerForbidden, WebsiteNotFound
from medama_py.storage import accounts

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

    from medama_py.model import Role, Website
    from medama_py.services import Services

    # Litestar's connection, named here rather than taken from api/deps.py, which imports this module.
    AnyConnection = ASGIConnection[Any, Any, Any, Any]

__all__ = [
    "Caller",
    "CallerKind",
    "caller_of",
    "may_read_website",
    "readable_websites",
    "require_admin",
    "require_website_read",
    "set_caller",
]

CallerKind = Literal["session", "api_key", "share"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated party behind a request.

    A user, reached through a session (cookie or bearer) or an API key, acts with its user's role; the role
    defaults to the least privilege. An API key acts as its user, except on routes that manage users, passwords
    or keys (docs/umami.md). A share token is a caller without a user that reads one website (`hostname`).
    """

    user_id: str
    kind: CallerKind = "session"
    session_hash: str = ""  # the stored hash of the session token, when the caller came with one
    role: Role = "viewer"
    hostname: str | None = None


def set_caller(connection: AnyConnection, caller: Caller) -> None:
    """Called by an authentication guard once it has accepted the request."""
    connection.state.caller = caller
    # Handlers that only need the user read it through the `user_id` dependency.
    connection.state.user_id = caller.user_id


def caller_of(connection: AnyConnection) -> Caller:
    """The caller the authentication guard accepted; a route without such a guard has none (401)."""
    caller = connection.state.get("caller")
    if not isinstance(caller, Caller):
        raise Unauthorised("missing security token or cookie")
    return caller


async def may_read_website(services: Services, caller: Caller, hostname: str) -> bool:
    """The read policy: the website exists, and the caller is an admin, a viewer granted it, or its share token."""
    if hostname not in services.hostnames:
        return False
    if caller.kind == "share":
        return caller.hostname == hostname
    if caller.role == "admin":
        return True
    return await accounts.is_granted(services.meta, caller.user_id, hostname)


async def readable_websites(services: Services, caller: Caller) -> list[Website]:
    """The websites a caller may read, in creation order (GET /api/websites)."""
    if caller.kind == "share":
        return []
    if caller.role == "admin":
        return await services.meta.list_all_websites()
    return await accounts.granted_websites(services.meta, caller.user_id)


def require_admin(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Guard, after authentication: everything but reading granted stats and one's own account is for admins.

    A viewer gets 403 before its body is decoded (its request could never succeed, whatever it sends).
    """
    if caller_of(connection).role != "admin":
        raise ViewerForbidden


async def require_website_read(connection: AnyConnection, services: Services, hostname: str) -> None:
    """404 `website not found` unless the caller may read `hostname`.

    A site the caller may not read answers exactly like a missing one, so hostnames cannot be probed.
    Called by the handler after it has validated its query, keeping the contract's order 401 → 400 → 404.
    """
    if not await may_read_website(services, caller_of(connection), hostname):
        raise WebsiteNotFound
