"""/api/users: users managed by an admin, with roles and per-website grants (docs/accounts.md).

Medama's own /api/user (the caller's account) is untouched in api/users.py. Every route here is admin-only.
"""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from medama_py.api.access import caller_of
from medama_py.api.deps import (
    SERVICES_AND_USER,
    AdminController,
    AnyRequest,
    ServicesDep,
    UserIdDep,
    forbid_demo,
    require_json_body,
)
from medama_py.api.schemas import ID_PATTERN, AccountCreate, AccountGet, AccountPatch, from_record
from medama_py.clock import unix
from medama_py.ids import new_typeid
from medama_py.model import Account, User
from medama_py.security import hash_password
from medama_py.storage import accounts

__all__ = ["route_handlers"]

AccountIdPath = Annotated[
    str, PathParameter(description="Id of the user", min_length=1, max_length=64, pattern=ID_PATTERN)
]


def _account_get(account: Account) -> AccountGet:
    return from_record(AccountGet, account, websites=list(account.websites))


class UsersController(AdminController):
    path = "/api/users"
    tags = ["Users"]  # noqa: RUF012  (Litestar reads these class attributes)
    dependencies = SERVICES_AND_USER
    opt = {"no_api_keys": True}  # noqa: RUF012  (an API key cannot manage users: 403)

    @get("/", operation_id="get-users")
    async def list_users(self, services: ServicesDep) -> list[AccountGet]:
        """Every user with its role and granted websites."""
        return [_account_get(a) for a in await accounts.list_accounts(services.meta)]

    @post("/", operation_id="post-users", guards=[require_json_body], status_code=201)
    async def create_user(self, data: JSONBody[AccountCreate], services: ServicesDep) -> AccountGet:
        """Create a user (409 for a taken username, 404 for a grant on an unknown website)."""
        forbid_demo(services)
        now = unix(services.clock())
        user = User(new_typeid("user"), data.username, await hash_password(data.password), "en", now, now)
        await accounts.create_account(services.meta, user, data.role, dict.fromkeys(data.websites))
        return _account_get(await accounts.get_account(services.meta, user.id))

    @get("/{account_id:str}", operation_id="get-users-id")
    async def get_user(self, account_id: AccountIdPath, services: ServicesDep) -> AccountGet:
        """One user."""
        return _account_get(await accounts.get_account(services.meta, account_id))

    @patch("/{account_id:str}", operation_id="patch-users-id", guards=[require_json_body], status_code=200)
    async def patch_user(
        self,
        request: AnyRequest,
        account_id: AccountIdPath,
        data: JSONBody[AccountPatch],
        services: ServicesDep,
        user_id: UserIdDep,
    ) -> AccountGet:
        """Change a user's role, password or granted websites (409 when it would demote the last admin).

        A password set by an admin logs that user out everywhere (not the admin itself, when it is its own).
        """
        forbid_demo(services)
        now = unix(services.clock())
        await accounts.get_account(services.meta, account_id)
        if data.role is not None:
            await accounts.set_role(services.meta, account_id, data.role, now)
        if data.websites is not None:
            await accounts.set_grants(services.meta, account_id, dict.fromkeys(data.websites), now)
        if data.password is not None:
            keep = caller_of(request).session_hash if account_id == user_id else ""
            await services.meta.update_password(account_id, await hash_password(data.password), now, keep_session=keep)
        return _account_get(await accounts.get_account(services.meta, account_id))

    @delete("/{account_id:str}", operation_id="delete-users-id")
    async def delete_user(self, account_id: AccountIdPath, services: ServicesDep, user_id: UserIdDep) -> None:
        """Delete a user and log it out; its websites pass to the admin deleting it (409 for the last admin)."""
        forbid_demo(services)
        await accounts.delete_account(services.meta, account_id, heir_id=user_id)


route_handlers = [UsersController]
