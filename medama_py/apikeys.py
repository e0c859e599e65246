"""API keys and bearer credentials: what a secret looks like and which user it stands for (docs/umami.md).

A bearer credential is either an API key (recognised by its prefix) or a session token from a login
(`/umami/api/auth/login` hands out the same sessions as the cookie). Keys act as their user, except that
they can never manage users, passwords or keys: the caller marks those routes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from medama_py.ids import new_typeid
from medama_py.security import hash_token
from medama_py.storage.api_keys import ApiKey, create_api_key, find_api_key, touch_api_key

if TYPE_CHECKING:
    from medama_py.storage.meta import MetaStore

__all__ = ["API_KEY_PREFIX", "Principal", "is_api_key", "issue_api_key", "new_api_key", "principal_for_bearer"]

# A recognisable prefix lets secret scanners flag leaked keys and lets us tell keys from session tokens.
API_KEY_PREFIX = "mdk_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the user, and the API key it came with (None for sessions)."""

    user_id: str
    api_key_id: str | None = None

    @property
    def via_api_key(self) -> bool:
        return self.api_key_id is not None


def new_api_key() -> str:
    """A new secret: the prefix and 256 random bits, URL-safe."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


async def principal_for_bearer(meta: MetaStore, token: str, now: int) -> Principal | None:
    """The principal an API key or a session token stands for; None when it is unknown, revoked or expired."""
    if is_api_key(token):
        key = await find_api_key(meta.conn, hash_token(token))
        if key is None:
            return None
        await touch_api_key(meta.conn, key, now)
        return Principal(key.user_id, key.id)
    user_id = await meta.session_user(hash_token(token), now)
    return None if user_id is None else Principal(user_id)


async def issue_api_key(meta: MetaStore, user_id: str, name: str, now: int) -> tuple[ApiKey, str]:
    """Create a key for `user_id`; return it with its secret, which is never stored or shown again."""
    secret = new_api_key()
    key = ApiKey(new_typeid("apikey"), user_id, name, now)
    await create_api_key(meta.conn, key, hash_token(secret))
    return key, secret
