"""Umami-compatible auth under /umami/api (and /umami/v1): login, verify, logout, me, API keys (docs/umami.md).

A login token is a medama_py session, the same kind as the `_me_sess` cookie: same table, same expiry,
revoked by logout; failed logins are throttled per client exactly like POST /api/auth/login.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import delete, get, post
from litestar.params import JSONBody, PathParameter

from medama_py.api.api_keys import ApiKeyCreate
from medama_py.api.auth import open_session
from medama_py.api.deps import (
    AnyRequest,
    ServicesDep,
    UserIdDep,
    bearer_credential,
    forbid_demo,
    require_json_body,
    require_session,
)
from medama_py.apikeys import issue_api_key
from medama_py.clock import unix
from medama_py.errors import BadRequest, NotFound
from medama_py.security import hash_token
from medama_py.storage import accounts
from medama_py.storage.api_keys import ApiKey, delete_api_key, list_api_keys

__all__ = ["UMAMI_BEARER_SECURITY", "UmamiUser", "iso_time", "route_handlers"]

UMAMI_BEARER_SECURITY: list[dict[str, list[str]]] = [{"UmamiApiKey": []}, {"BearerAuth": []}]
_NO_KEYS = {"no_api_keys": True}


class UmamiLogin(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=200)]
    password: Annotated[str, msgspec.Meta(max_length=200)]


class UmamiUser(msgspec.Struct):
    id: str
    username: str
    role: str
    createdAt: str  # noqa: N815  (Umami's JSON naming)
    isAdmin: bool  # noqa: N815


class UmamiLoginResult(msgspec.Struct):
    token: str
    user: UmamiUser


class UmamiApiKey(msgspec.Struct):
    id: str
    name: str
    createdAt: str  # noqa: N815
    lastUsedAt: str | None  # noqa: N815


class UmamiApiKeyCreated(UmamiApiKey):
    key: str  # the secret, shown in this answer only


class UmamiApiKeyPage(msgspec.Struct):
    data: list[UmamiApiKey]
    count: int
    page: int
    pageSize: int  # noqa: N815


def iso_time(unix_seconds: int) -> str:
    """Umami's timestamps: ISO 8601 in UTC with milliseconds and `Z`."""
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def _umami_user(services: ServicesDep, user_id: str) -> UmamiUser:
    user = await services.meta.get_user(user_id)
    role = await accounts.role_of(services.meta, user_id)
    created = iso_time(user.date_created)
    return UmamiUser(id=user.id, username=user.username, role=role, createdAt=created, isAdmin=role == "admin")


def _api_key(key: ApiKey) -> UmamiApiKey:
    last = None if key.date_last_used is None else iso_time(key.date_last_used)
    return UmamiApiKey(id=key.id, name=key.name, createdAt=iso_time(key.date_created), lastUsedAt=last)


@post(
    "/auth/login",
    operation_id="umami-post-auth-login",
    tags=["Umami auth"],
    guards=[require_json_body],
    opt={"media_types": ("application/json", "text/plain")},
    status_code=200,
)
async def umami_login(request: AnyRequest, data: JSONBody[UmamiLogin], services: ServicesDep) -> UmamiLoginResult:
    """Check the credentials and answer a bearer token (a medama_py session) with the user."""
    user_id, token = await open_session(
        request, services, data.username, data.password, refusal="incorrect-username-password"
    )
    return UmamiLoginResult(token=token, user=await _umami_user(services, user_id))


@post(
    "/auth/verify",
    operation_id="umami-post-auth-verify",
    tags=["Umami auth"],
    guards=[require_session],
    security=UMAMI_BEARER_SECURITY,
    status_code=200,
)
async def umami_verify(services: ServicesDep, user_id: UserIdDep) -> UmamiUser:
    """The user the token or key stands for."""
    return await _umami_user(services, user_id)


@post(
    "/auth/logout",
    operation_id="umami-post-auth-logout",
    tags=["Umami auth"],
    guards=[require_session],
    security=UMAMI_BEARER_SECURITY,
    status_code=200,
    opt=_NO_KEYS,
)
async def umami_logout(request: AnyRequest, services: ServicesDep, user_id: UserIdDep) -> UmamiUser:
    """Revoke the bearer session (replaying it afterwards is a 401); answers the user it belonged to."""
    user = await _umami_user(services, user_id)
    token = bearer_credential(request)
    if token is None:
        raise BadRequest("logout needs the login token as Authorization: Bearer")
    await services.meta.delete_session(hash_token(token))
    return user


@get("/me", operation_id="umami-get-me", tags=["Umami auth"], guards=[require_session], security=UMAMI_BEARER_SECURITY)
async def umami_me(services: ServicesDep, user_id: UserIdDep) -> UmamiUser:
    """The calling user."""
    return await _umami_user(services, user_id)


@get(
    "/me/api-keys",
    operation_id="umami-get-me-api-keys",
    tags=["Umami auth"],
    guards=[require_session],
    security=UMAMI_BEARER_SECURITY,
    opt=_NO_KEYS,
)
async def umami_list_keys(services: ServicesDep, user_id: UserIdDep) -> UmamiApiKeyPage:
    """The caller's API keys (a login token is needed: keys cannot manage keys)."""
    keys = [_api_key(key) for key in await list_api_keys(services.meta.conn, user_id)]
    return UmamiApiKeyPage(data=keys, count=len(keys), page=1, pageSize=max(len(keys), 1))


@post(
    "/me/api-keys",
    operation_id="umami-post-me-api-keys",
    tags=["Umami auth"],
    guards=[require_session],
    security=UMAMI_BEARER_SECURITY,
    status_code=200,
    opt=_NO_KEYS,
)
async def umami_create_key(
    data: JSONBody[ApiKeyCreate], services: ServicesDep, user_id: UserIdDep
) -> UmamiApiKeyCreated:
    """Create an API key; the secret is in this answer only."""
    forbid_demo(services)
    key, secret = await issue_api_key(services.meta, user_id, data.name, unix(services.clock()))
    return UmamiApiKeyCreated(**msgspec.structs.asdict(_api_key(key)), key=secret)


@delete(
    "/me/api-keys/{key_id:str}",
    operation_id="umami-delete-me-api-keys-id",
    tags=["Umami auth"],
    guards=[require_session],
    security=UMAMI_BEARER_SECURITY,
    status_code=200,
    opt=_NO_KEYS,
)
async def umami_revoke_key(
    key_id: Annotated[str, PathParameter(max_length=100)], services: ServicesDep, user_id: UserIdDep
) -> dict[str, bool]:
    """Revoke one of the caller's keys at once."""
    forbid_demo(services)
    if not await delete_api_key(services.meta.conn, user_id, key_id):
        raise NotFound("api key not found")
    return {"ok": True}


route_handlers = [
    umami_login,
    umami_verify,
    umami_logout,
    umami_me,
    umami_list_keys,
    umami_create_key,
    umami_revoke_key,
]
