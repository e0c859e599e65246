"""API keys, Medama side: GET/POST /api/user/api-keys and DELETE /api/user/api-keys/{id} (docs/umami.md).

Only a logged-in session manages keys: a key presented here is a 403, so a leaked key cannot mint more.
The secret appears once, in the answer to POST.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import JSONBody, PathParameter

from medama_py.api.deps import (
    COOKIE_SECURITY,
    SERVICES_AND_USER,
    ServicesDep,
    UserIdDep,
    forbid_demo,
    require_json_body,
    require_session,
)
from medama_py.api.schemas import from_record
from medama_py.apikeys import issue_api_key
from medama_py.clock import unix
from medama_py.errors import NotFound
from medama_py.storage.api_keys import ApiKey, delete_api_key, list_api_keys

__all__ = ["ApiKeyCreate", "ApiKeyCreated", "ApiKeyGet", "route_handlers"]

KeyName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ApiKeyCreate(msgspec.Struct):
    name: KeyName


class ApiKeyGet(msgspec.Struct):
    id: str
    name: str
    dateCreated: int  # noqa: N815  (Medama's JSON naming)
    dateLastUsed: int | None  # noqa: N815


class ApiKeyCreated(ApiKeyGet):
    key: str  # the secret: shown in this answer only


def _key_get(key: ApiKey) -> ApiKeyGet:
    return from_record(ApiKeyGet, key)


class ApiKeysController(Controller):
    """The caller's own keys, managed with a session cookie only: a key presented here answers 403."""

    path = "/api/user/api-keys"
    tags = ["API keys"]  # noqa: RUF012  (Litestar reads these class attributes)
    guards = [require_session]  # noqa: RUF012
    security = COOKIE_SECURITY
    dependencies = SERVICES_AND_USER
    opt = {"no_api_keys": True}  # noqa: RUF012

    @get("/", operation_id="get-user-api-keys")
    async def list_keys(self, services: ServicesDep, user_id: UserIdDep) -> list[ApiKeyGet]:
        """The caller's API keys: name, creation and last use (never the secret)."""
        return [_key_get(key) for key in await list_api_keys(services.meta.conn, user_id)]

    @post("/", operation_id="post-user-api-keys", guards=[require_json_body], status_code=201)
    async def create_key(
        self, data: JSONBody[ApiKeyCreate], services: ServicesDep, user_id: UserIdDep
    ) -> ApiKeyCreated:
        """Create an API key; the answer holds the secret, which is stored only as a hash."""
        forbid_demo(services)
        key, secret = await issue_api_key(services.meta, user_id, data.name, unix(services.clock()))
        return ApiKeyCreated(id=key.id, name=key.name, dateCreated=key.date_created, dateLastUsed=None, key=secret)

    @delete("/{key_id:str}", operation_id="delete-user-api-keys-id")
    async def revoke_key(
        self, key_id: Annotated[str, PathParameter(max_length=100)], services: ServicesDep, user_id: UserIdDep
    ) -> None:
        """Revoke one of the caller's keys; it stops working with the next request."""
        forbid_demo(services)
        if not await delete_api_key(services.meta.conn, user_id, key_id):
            raise NotFound("api key not found")


route_handlers = [ApiKeysController]
