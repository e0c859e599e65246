"""Share links: an admin makes, lists and revokes them per website; anyone holding one opens it (docs/accounts.md).

Opening a link (`POST /api/share/{slug}`) answers a token that the shared page sends as `X-Share-Token` on its
stats requests. Wrong passwords count against the client like failed logins and answer 429 past the limit.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated

from litestar import Controller, delete, get, post
from litestar.params import JSONBody, PathParameter

from medama_py import sharing
from medama_py.api.deps import (
    SERVICES,
    AdminController,
    AnyRequest,
    ServicesDep,
    client_key,
    forbid_demo,
    require_json_body,
)
from medama_py.api.schemas import ID_PATTERN, ShareAccess, ShareLinkCreate, ShareLinkGet, ShareOpen, from_record
from medama_py.api.websites import HostnamePath
from medama_py.clock import unix
from medama_py.errors import TooManyRequests, Unauthorised
from medama_py.storage import shares

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler

    from medama_py.model import ShareLink

__all__ = ["route_handlers", "share_path"]

ShareIdPath = Annotated[
    str, PathParameter(description="Id of the share link", min_length=1, max_length=64, pattern=ID_PATTERN)
]


# Any text: a malformed slug answers the same 404 as an unknown one, after the same work (docs/accounts.md).
SlugPath = Annotated[str, PathParameter(description="The secret part of a share link's address")]


def share_path(slug: str) -> str:
    """The public page of a link, relative to the server's origin."""
    return f"/share/{slug}"


def _link_get(link: ShareLink) -> ShareLinkGet:
    return from_record(ShareLinkGet, link, path=share_path(link.slug))


class ShareLinksController(AdminController):
    """Management of one website's links."""

    path = "/api/websites/{hostname:str}/shares"
    tags = ["Share links"]  # noqa: RUF012  (Litestar reads these class attributes)
    dependencies = SERVICES

    @get("/", operation_id="get-websites-id-shares")
    async def list_share_links(self, hostname: HostnamePath, services: ServicesDep) -> list[ShareLinkGet]:
        """The website's links that were not revoked, oldest first, with creation time and last use."""
        await services.meta.get_website(hostname)
        return [_link_get(link) for link in await shares.list_links(services.meta, hostname)]

    @post("/", operation_id="post-websites-id-shares", guards=[require_json_body], status_code=201)
    async def create_share_link(
        self, hostname: HostnamePath, data: JSONBody[ShareLinkCreate], services: ServicesDep
    ) -> ShareLinkGet:
        """Publish the website's stats through a new link, optionally with a password and an expiry."""
        now = unix(services.clock())
        forbid_demo(services)
        expires = None if data.expiresIn is None else now + int(data.expiresIn)
        link = await sharing.new_link(services.meta, hostname, data.password, expires, now)
        return _link_get(link)

    @delete("/{share_id:str}", operation_id="delete-websites-id-shares-id")
    async def revoke_share_link(self, hostname: HostnamePath, share_id: ShareIdPath, services: ServicesDep) -> None:
        """Revoke a link: its page and every token issued through it answer 404 from now on."""
        forbid_demo(services)
        await shares.delete_link(services.meta, hostname, share_id)


@post(
    "/api/share/{slug:str}",
    operation_id="post-share-slug",
    tags=["Share links"],
    guards=[require_json_body],
    dependencies=SERVICES,
    status_code=200,
)
async def open_share_link(
    request: AnyRequest, slug: SlugPath, data: JSONBody[ShareOpen], services: ServicesDep
) -> ShareAccess:
    """Open a share link: a token that reads this website's stats (send it as `X-Share-Token`).

    Unknown, malformed, expired and revoked links all answer 404; a missing or wrong password 401.
    """
    key = client_key(request)
    now = unix(services.clock())
    throttle = services.share_throttle
    guess = data.password is not None  # asking whether a password is needed is no attempt
    # Counted before the password is checked, as logins are (docs/security.md, "Logins").
    if (guess and not throttle.reserve(key, now)) or (not guess and throttle.is_blocked(key, now)):
        raise TooManyRequests(retry_after=throttle.retry_after(key, now))

    async def check(stored: str, password: str) -> bool:  # in the same bounded argon2 lines as logins
        return await services.passwords.verify(key, stored, password, recent_attempts=attempts)

    attempts = functools.partial(throttle.count, key, now)
    give_back = guess
    try:
        opened = await sharing.open_link(services.meta, slug, data.password, now, check=check)
    except Unauthorised:
        give_back = False  # a wrong password stays counted
        raise
    finally:
        if give_back:  # a right password, an unknown link, a busy server: no failed guess
            throttle.release(key, now)
    return ShareAccess(token=opened.token, hostname=opened.hostname, dateExpires=opened.expires)


route_handlers: list[type[Controller] | HTTPRouteHandler] = [ShareLinksController, open_share_link]
