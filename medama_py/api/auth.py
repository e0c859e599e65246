"""POST /auth/login and /auth/logout: the `_me_sess` cookie session (docs/compatibility.md#session-cookie)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from litestar import MediaType, Response, post
from litestar.datastructures import Cookie
from litestar.params import Body, CookieParameter

from medama_py.api.credentials import check_credentials
from medama_py.api.deps import (
    SERVICES,
    SESSION_COOKIE,
    AnyRequest,
    ServicesDep,
    client_key,
    forbid_cross_site,
    is_https,
    require_json_body,
)
from medama_py.api.schemas import AuthLogin
from medama_py.errors import BadRequest, Unauthorised
from medama_py.security import SESSION_TTL_SECONDS, hash_token, new_session_token

if TYPE_CHECKING:
    from medama_py.services import Services

__all__ = ["open_session", "route_handlers"]

_EXPOSE = {"Access-Control-Expose-Headers": "Set-Cookie,X-Api-Commit"}


async def open_session(
    request: AnyRequest, services: Services, username: str, password: str, *, refusal: str
) -> tuple[str, str]:
    """Check credentials (api/credentials.py: throttle, bounded argon2) and start a session: (user id, token).

    Wrong credentials are a 401 with `refusal`; too many attempts from one client a 429, too many clients
    waiting for a check a 503. The cookie login and the Umami-style token login (api/umami_auth.py) share it,
    and so share one throttle.
    """
    user = await check_credentials(services, client_key(request), username, password)
    if user is None:
        raise Unauthorised(refusal)
    now = services.clock().timestamp()
    token = new_session_token()
    await services.meta.add_session(hash_token(token), user.id, int(now), int(now) + SESSION_TTL_SECONDS)
    return user.id, token


@post(
    "/api/auth/login",
    operation_id="post-auth-login",
    tags=["Auth"],
    # application/json only (another site cannot send it without a preflight) and not from another site.
    guards=[forbid_cross_site, require_json_body],
    dependencies=SERVICES,
    status_code=200,
    summary="Log in and receive the session cookie",
)
async def login(
    request: AnyRequest,
    data: Annotated[AuthLogin, Body(media_type="application/json")],
    services: ServicesDep,
) -> Response[bytes]:
    """Check the credentials and set `_me_sess`; repeated failures from one client answer 429."""
    _, token = await open_session(request, services, data.username, data.password, refusal="user not found")
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        max_age=SESSION_TTL_SECONDS,
    )
    return Response(b"", status_code=200, headers=_EXPOSE, cookies=[cookie], media_type=MediaType.TEXT)


@post(
    "/api/auth/logout",
    operation_id="post-auth-logout",
    guards=[forbid_cross_site],
    tags=["Auth"],
    dependencies=SERVICES,
    status_code=204,
    summary="Log out: revoke the session and expire the cookie",
)
async def logout(
    request: AnyRequest,
    services: ServicesDep,
    session: Annotated[str | None, CookieParameter(name=SESSION_COOKIE, required=False)] = None,
) -> Response[None]:
    """Revoke the session named by the cookie (any value answers 204; no cookie is a 400, as in Medama)."""
    if not session:
        raise BadRequest("cookie: '_me_sess': missing session cookie")
    await services.meta.delete_session(hash_token(session))
    expired = Cookie(
        key=SESSION_COOKIE,
        value="",
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        expires=0,
        max_age=0,
    )
    return Response(None, status_code=204, headers=_EXPOSE, cookies=[expired])


route_handlers = [login, logout]
