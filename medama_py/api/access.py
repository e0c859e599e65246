"""Who may read what: the one place that decides whether a caller may read a website's statistics.

Every `/api/website/{hostname}/*` handler calls `require_website_read` (see docs/security.md, "Authorisation").
Today a website is readable by the user who owns it. Roles and per-website grants extend `may_read_website`;
API keys become another kind of `Caller`, set by the authentication guard. Nothing else checks read access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from medama_py.errors import Unauthorised, WebsiteNotFound

if TYPE_CHECKING:
    from medama_py.api.deps import AnyConnection
    from medama_py.services import Services

__all__ = ["Caller", "CallerKind", "caller_of", "may_read_website", "require_website_read", "set_caller"]

CallerKind = Literal["session", "api_key"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated party behind a request: a user, reached through a session (cookie or bearer) or an API key.

    An API key acts as its user, except on routes that manage users, passwords or keys (docs/umami.md).
    """

    user_id: str
    kind: CallerKind = "session"
    session_hash: str = ""  # the stored hash of the session token, when the caller came with one


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
    """The read policy: the website exists and the caller's user owns it."""
    if hostname not in services.hostnames:
        return False
    try:
        website = await services.meta.get_website(hostname)
    except WebsiteNotFound:
        return False
    return website.user_id == caller.user_id


async def require_website_read(connection: AnyConnection, services: Services, hostname: str) -> None:
    """404 `website not found` unless the caller may read `hostname`.

    A site the caller may not read answers exactly like a missing one, so hostnames cannot be probed.
    Called by the handler after it has validated its query, keeping the contract's order 401 → 400 → 404.
    """
    if not await may_read_website(services, caller_of(connection), hostname):
        raise WebsiteNotFound
