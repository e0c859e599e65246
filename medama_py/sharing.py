"""Share links: making them, opening them, and the tokens their visitors read one website with (docs/accounts.md).

No Litestar here: the handlers in api/shares.py call these, and the stats guard calls `token_hostname`.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from medama_py.errors import ShareNotFound, Unauthorised
from medama_py.ids import new_typeid
from medama_py.model import ShareLink
from medama_py.security import hash_password, hash_token, verify_password
from medama_py.storage import shares

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from medama_py.storage.meta import MetaStore

__all__ = ["SHARE_TOKEN_TTL", "OpenedLink", "is_active", "new_link", "open_link", "share_id", "token_hostname"]

SHARE_TOKEN_TTL = 24 * 3600  # a visitor's token lives a day (never beyond its link's expiry), then the page asks anew
_SLUG_BYTES = 24  # 192 random bits, 32 URL-safe characters
_MAX_SLUG = 256  # longer input is cut before hashing, so a huge path costs no more than a normal one


def _slug_hash(slug: str) -> str:
    return hash_token(slug[:_MAX_SLUG])


async def new_link(meta: MetaStore, hostname: str, password: str | None, expires: int | None, now: int) -> ShareLink:
    """Create a link to `hostname` (WebsiteNotFound if it does not exist)."""
    slug = secrets.token_urlsafe(_SLUG_BYTES)
    link = ShareLink(new_typeid("share"), hostname, slug, password is not None, now, expires, None)
    password_hash = None if password is None else await hash_password(password)
    await shares.create_link(meta, link, _slug_hash(slug), password_hash)
    return link


class OpenedLink:
    """A visitor's share token, the website it reads, and when it stops working."""

    __slots__ = ("expires", "hostname", "token")

    def __init__(self, token: str, hostname: str, expires: int) -> None:
        self.token = token
        self.hostname = hostname
        self.expires = expires


async def is_active(meta: MetaStore, slug: str, now: int) -> bool:
    """Whether `/share/<slug>` is a live link. Every slug, malformed or not, costs one hash and one lookup."""
    return await shares.find_active_link(meta, _slug_hash(slug), now) is not None


async def open_link(
    meta: MetaStore,
    slug: str,
    password: str | None,
    now: int,
    *,
    check: Callable[[str, str], Awaitable[bool]] = verify_password,
) -> OpenedLink:
    """Exchange a slug (and its password, if it has one) for a token.

    ShareNotFound for unknown, expired or revoked links; Unauthorised for a missing or wrong password.
    """
    link = await shares.find_active_link(meta, _slug_hash(slug), now)
    if link is None:
        raise ShareNotFound
    # `check` is the server's bounded password check (api/shares.py); argon2 costs 64 MiB a run.
    if link.password is not None and (password is None or not await check(link.password, password)):
        raise Unauthorised("this share link needs its password")
    expires = now + SHARE_TOKEN_TTL if link.expires is None else min(link.expires, now + SHARE_TOKEN_TTL)
    token = secrets.token_urlsafe(32)
    await shares.add_share_session(meta, hash_token(token), link.id, now, expires)
    return OpenedLink(token, link.hostname, expires)


async def token_hostname(meta: MetaStore, token: str, now: int) -> str | None:
    """The website a share token reads, or None once its link is revoked or expired."""
    return await shares.share_session_hostname(meta, hash_token(token[:_MAX_SLUG]), now)


async def share_id(meta: MetaStore, hostname: str, now: int) -> str | None:
    """Umami's `shareId` of a website: the slug of its oldest active link without a password, if any."""
    return await shares.first_active_slug(meta, hostname, now)
