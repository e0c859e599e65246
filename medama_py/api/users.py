"""GET/PATCH/DELETE /user and GET /user/usage (docs/compatibility.md#users, #usage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import delete, get, patch
from litestar.params import JSONBody

from medama_py.api.access import caller_of, require_admin
from medama_py.api.deps import (
    COOKIE_SECURITY,
    SERVICES,
    SERVICES_AND_USER,
    AnyRequest,
    ServicesDep,
    UserIdDep,
    client_key,
    forbid_demo,
    require_json_body,
    require_session,
)
from medama_py.api.schemas import UserGet, UserPatch, UserSettings, UserUsageGet
from medama_py.api.usage import measure_usage
from medama_py.clock import unix
from medama_py.errors import LastAdmin, ViewerForbidden
from medama_py.storage import accounts

if TYPE_CHECKING:
    from medama_py.model import User

__all__ = ["route_handlers"]


def _user_get(user: User) -> UserGet:
    return UserGet(
        username=user.username,
        settings=UserSettings(language="en"),
        dateCreated=user.date_created,
        dateUpdated=user.date_updated,
    )


@get(
    "/api/user",
    operation_id="get-user",
    tags=["User"],
    guards=[require_session],
    security=COOKIE_SECURITY,
    dependencies=SERVICES_AND_USER,
)
async def get_user(services: ServicesDep, user_id: UserIdDep) -> UserGet:
    """The logged-in user's account."""
    return _user_get(await services.meta.get_user(user_id))


@patch(
    "/api/user",
    operation_id="patch-user",
    tags=["User"],
    guards=[require_session, require_json_body],
    security=COOKIE_SECURITY,
    dependencies=SERVICES_AND_USER,
    status_code=200,
    opt={"no_api_keys": True},
)
async def patch_user(
    request: AnyRequest, data: JSONBody[UserPatch], services: ServicesDep, user_id: UserIdDep
) -> UserGet:
    """Change username, password or settings; answers the new dateUpdated (docs/compatibility.md#users).

    A new password logs out every other session of the user; the one making the change stays. A viewer may change
    only its password (and the language setting, which has one value): docs/accounts.md.
    """
    forbid_demo(services)
    user = await services.meta.get_user(user_id)
    if caller_of(request).role != "admin" and data.username not in (None, user.username):
        raise ViewerForbidden
    now = unix(services.clock())
    if data.username is not None:
        await services.meta.update_username(user_id, data.username, now)
    if data.password is not None:
        new_hash = await services.passwords.hash(client_key(request), data.password)
        await services.meta.update_password(user_id, new_hash, now, keep_session=caller_of(request).session_hash)
    if data.settings is not None:
        await services.meta.update_language(user_id, data.settings.language, now)
    return _user_get(await services.meta.get_user(user_id))


@delete(
    "/api/user",
    operation_id="delete-user",
    tags=["User"],
    guards=[require_session],
    security=COOKIE_SECURITY,
    dependencies=SERVICES_AND_USER,
    opt={"no_api_keys": True},
)
async def delete_user(request: AnyRequest, services: ServicesDep, user_id: UserIdDep) -> None:
    """Delete the account; refused with 409 while it still owns websites (docs/compatibility.md#users).

    A viewer may not delete itself (403). Medama's only user may (a restart re-creates admin), but the last admin
    of several users may not (409): the viewers left behind could never get an admin back (docs/accounts.md).
    """
    forbid_demo(services)
    await services.meta.get_user(user_id)
    if caller_of(request).role != "admin":
        raise ViewerForbidden
    if await accounts.leaves_no_admin(services.meta, user_id):
        raise LastAdmin
    await services.meta.delete_user(user_id)


@get(
    "/api/user/usage",
    operation_id="get-user-usage",
    tags=["User"],
    guards=[require_session, require_admin],
    security=COOKIE_SECURITY,
    dependencies=SERVICES,
)
async def get_user_usage(services: ServicesDep) -> UserUsageGet:
    """Host CPU, memory, and disk of the filesystem holding the databases; the server's RSS and WAL size."""
    return await measure_usage(services)


route_handlers = [get_user, patch_user, delete_user, get_user_usage]
