"""What handlers share: the Services, the cookie guard, the content-type guard and request facts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from medama_py import sharing
from medama_py.api.access import Caller, CallerKind, require_admin, set_caller
from medama_py.apikeys import principal_for_bearer
from medama_py.clientip import IPAddress, client_ip, joined_header, peer_ip
from medama_py.errors import BadRequest, DemoMode, Forbidden, ShareNotFound, Unauthorised, UnsupportedMediaType
from medama_py.jsonbody import decode_json_body, media_type
from medama_py.origins import cross_site, trusted_with_credentials
from medama_py.security import hash_token
from medama_py.services import Services
from medama_py.storage import accounts

if TYPE_CHECKING:
    from litestar.handlers import BaseRouteHandler

__all__ = [
    "API_KEY_HEADER",
    "COOKIE_SECURITY",
    "SERVICES",
    "SERVICES_AND_USER",
    "SESSION_COOKIE",
    "SHARE_TOKEN_HEADER",
    "AdminController",
    "AnyConnection",
    "AnyRequest",
    "ServicesDep",
    "StrictJSONRequest",
    "UserIdDep",
    "bearer_credential",
    "client_key",
    "forbid_cross_site",
    "forbid_demo",
    "is_https",
    "provide_services",
    "provide_user_id",
    "refuse_cross_site",
    "request_client_ip",
    "require_json_body",
    "require_reader",
    "require_session",
    "services_of",
]

SESSION_COOKIE = "_me_sess"
API_KEY_HEADER = "x-umami-api-key"

# Litestar reads these annotations at runtime, so the aliases are real (not TYPE_CHECKING) imports.
AnyConnection = ASGIConnection[Any, Any, Any, State]
AnyRequest = Request[Any, Any, State]


def services_of(connection: AnyConnection) -> Services:
    """The process-wide Services the lifespan put on the app."""
    services: Services = connection.app.state.services
    return services


def provide_services(request: AnyRequest) -> Services:
    """Dependency: the process-wide Services."""
    return services_of(request)


def provide_user_id(request: AnyRequest) -> str:
    """Dependency: the id of the user whose session the guard accepted."""
    user_id: str = request.state.user_id
    return user_id


def bearer_credential(connection: AnyConnection) -> str | None:
    """An API key or session token sent as `x-umami-api-key: K` or `Authorization: Bearer K` (docs/umami.md)."""
    key = connection.headers.get(API_KEY_HEADER, "").strip()
    if key:
        return key
    scheme, _, token = connection.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def require_session(connection: AnyConnection, handler: BaseRouteHandler) -> None:
    """Guard: a valid `_me_sess` session, API key or bearer session token, or 401.

    It runs before parameters and body are decoded, as in Medama. An explicit credential header wins over the
    cookie. Routes that manage users, passwords or keys set `opt={"no_api_keys": True}`: a key there is a 403.
    """
    services = services_of(connection)
    now = int(services.clock().timestamp())
    bearer = bearer_credential(connection)
    if bearer is not None:
        principal = await principal_for_bearer(services.meta, bearer, now)
        if principal is None:
            raise Unauthorised("invalid or revoked API key or token")
        if principal.via_api_key and handler.opt.get("no_api_keys"):
            raise Forbidden("API keys cannot manage users, passwords or keys")
        kind: CallerKind = "api_key" if principal.via_api_key else "session"
        session_hash = "" if principal.via_api_key else hash_token(bearer)
        role = await accounts.role_of(services.meta, principal.user_id)  # a key acts with its user's role
        set_caller(connection, Caller(principal.user_id, kind=kind, session_hash=session_hash, role=role))
        return
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorised("missing security token or cookie")
    session_hash = hash_token(token)
    found = await accounts.session_caller(services.meta, session_hash, now)
    if found is None:
        raise Unauthorised("unauthorised session")
    user_id, role = found
    refuse_cross_site(connection)  # the browser attached the cookie by itself: it must be this site asking
    set_caller(connection, Caller(user_id, session_hash=session_hash, role=role))


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_cross_site(connection: AnyConnection) -> None:
    """403 for a state-changing request a page on another site made, unless `-corsorigins` names that site.

    Browsers attach cookies to such requests by themselves; `SameSite=Lax` stops most, not all (another
    subdomain is the same site, older browsers). See docs/security.md, "Cross-site requests".
    """
    if connection.scope.get("method", "GET") in _SAFE_METHODS:
        return
    origin = connection.headers.get("origin")
    fetch_site = connection.headers.get("sec-fetch-site")
    if not cross_site(fetch_site=fetch_site, origin=origin, host=connection.headers.get("host")):
        return
    if origin is not None and trusted_with_credentials(origin, services_of(connection).config.corsorigins):
        return
    raise Forbidden("cross-site request refused")


async def forbid_cross_site(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Guard form of `refuse_cross_site`, for cookie routes without a session guard (login, logout)."""
    refuse_cross_site(connection)


SHARE_TOKEN_HEADER = "x-share-token"  # noqa: S105 (a header name, not a secret)


async def require_reader(connection: AnyConnection, handler: BaseRouteHandler) -> None:
    """Guard of the stats routes: a share token (`X-Share-Token`, from a shared page) or else `require_session`.

    A token whose link was revoked or expired answers 404, as the link's page does (docs/accounts.md).
    """
    token = connection.headers.get(SHARE_TOKEN_HEADER)
    if token is None:
        await require_session(connection, handler)
        return
    services = services_of(connection)
    hostname = await sharing.token_hostname(services.meta, token, int(services.clock().timestamp()))
    if hostname is None:
        raise ShareNotFound
    set_caller(connection, Caller("", kind="share", hostname=hostname))


async def require_json_body(connection: AnyConnection, handler: BaseRouteHandler) -> None:
    """Guard: JSON bodies need `application/json` (or a route's opt["media_types"]); missing → 400, other → 415.

    The body itself is decoded after the guards, once, by `StrictJSONRequest`.
    """
    media = media_type(connection.headers.get("content-type"))
    allowed = handler.opt.get("media_types", ("application/json",))
    if not media:
        raise BadRequest("parse media type: no media type")
    if media not in allowed:
        raise UnsupportedMediaType(f"unexpected Content-Type: {media}")


class StrictJSONRequest(Request[Any, Any, State]):
    """The app's request class: a handler's `data` is decoded once, strictly, straight into its declared type.

    Litestar's own decoding is lax ("true" or 1 would become a boolean); this hands it the finished Struct,
    which it passes through unchanged. Wrong types, bad JSON or an empty body are a 400.
    """

    async def json(self) -> Any:
        """The body decoded into the handler's `data` type, or plain JSON for handlers without one."""
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        if data is None:
            return await super().json()
        return decode_json_body(await self.body(), data.annotation)


# Handler parameters filled by name from SERVICES / SERVICES_AND_USER.
ServicesDep = NamedDependency[Services]
UserIdDep = NamedDependency[str]
SERVICES = {"services": Provide(provide_services, sync_to_thread=False)}
SERVICES_AND_USER = {**SERVICES, "user_id": Provide(provide_user_id, sync_to_thread=False)}
COOKIE_SECURITY: list[dict[str, list[str]]] = [{"CookieAuth": []}]


class AdminController(Controller):
    """Base of the admin-only controllers (users, share links).

    The guards run in order, so a request without credentials answers 401 and a viewer's 403, both before any
    body is read. Subclasses set `path`, `tags` and `dependencies`.
    """

    guards = [require_session, require_admin]  # noqa: RUF012  (Litestar reads these class attributes)
    security = COOKIE_SECURITY


def forbid_demo(services: Services) -> None:
    """Demo mode refuses every change after validation passed, as in Medama."""
    if services.config.demo:
        raise DemoMode


def is_https(connection: AnyConnection) -> bool:
    """True when the request came over HTTPS, directly or through a proxy that says so."""
    forwarded = connection.headers.get("x-forwarded-proto", "").split(",", 1)[0].strip().lower()
    return connection.scope.get("scheme") == "https" or forwarded == "https"


def request_client_ip(connection: AnyConnection) -> IPAddress | None:
    """The client address of any request, decided by medama_py/clientip.py (never stored, never logged)."""
    raw = connection.scope["headers"]
    headers = {
        name: value
        for name in ("x-forwarded-for", "forwarded")
        if (value := joined_header(raw, name.encode())) is not None
    }
    peer = connection.client.host if connection.client else None
    return client_ip(headers, peer_ip(peer), services_of(connection).trusted_proxies)


def client_key(connection: AnyConnection) -> str:
    """The client a login attempt is counted against: its address, or "" when it has none."""
    ip = request_client_ip(connection)
    return "" if ip is None else str(ip)
