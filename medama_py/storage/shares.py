"""Share links and the tokens their visitors read with, in the meta database (docs/accounts.md).

A link is looked up by the hash of its slug; a token by its own hash. Both lookups check expiry in SQL, and a
revoked link is a deleted row whose tokens the foreign key's cascade deletes with it, so revocation needs no
cache invalidation anywhere.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from medama_py.errors import ShareNotFound, WebsiteNotFound
from medama_py.model import ShareLink

if TYPE_CHECKING:
    from medama_py.storage.meta import MetaStore

__all__ = [
    "ActiveLink",
    "add_share_session",
    "create_link",
    "delete_link",
    "find_active_link",
    "first_active_slug",
    "list_links",
    "share_session_hostname",
]

_LINK_COLUMNS = "id, hostname, slug, password IS NOT NULL, date_created, date_expires, date_last_used"
_ACTIVE = "(date_expires IS NULL OR date_expires > ?)"


def _link(row: tuple[object, ...]) -> ShareLink:
    link_id, hostname, slug, has_password, created, expires, last_used = row
    return ShareLink(
        str(link_id),
        str(hostname),
        str(slug),
        bool(has_password),
        int(str(created)),
        None if expires is None else int(str(expires)),
        None if last_used is None else int(str(last_used)),
    )


class ActiveLink:
    """What opening a link needs: its id, website, password hash and expiry (None: none)."""

    __slots__ = ("expires", "hostname", "id", "password")

    def __init__(self, link_id: str, hostname: str, password: str | None, expires: int | None) -> None:
        self.id = link_id
        self.hostname = hostname
        self.password = password
        self.expires = expires


async def create_link(meta: MetaStore, link: ShareLink, slug_hash: str, password_hash: str | None) -> None:
    """Store a new link; raise WebsiteNotFound when its website does not exist."""
    try:
        await meta.conn.execute(
            "INSERT INTO share_links (id, hostname, slug, slug_hash, password, date_created, date_expires)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (link.id, link.hostname, link.slug, slug_hash, password_hash, link.date_created, link.date_expires),
        )
        await meta.conn.commit()
    except sqlite3.IntegrityError:
        await meta.conn.rollback()
        raise WebsiteNotFound from None


async def list_links(meta: MetaStore, hostname: str) -> list[ShareLink]:
    """Every link of a website that was not revoked, expired ones included (so they can be seen and revoked)."""
    sql = f"SELECT {_LINK_COLUMNS} FROM share_links WHERE hostname = ? ORDER BY date_created, id"  # noqa: S608
    async with meta.conn.execute(sql, (hostname,)) as cur:
        return [_link(tuple(row)) for row in await cur.fetchall()]


async def delete_link(meta: MetaStore, hostname: str, link_id: str) -> None:
    """Revoke a link: its page and every token issued through it answer 404 from the next request on."""
    cur = await meta.conn.execute("DELETE FROM share_links WHERE id = ? AND hostname = ?", (link_id, hostname))
    await meta.conn.commit()
    if cur.rowcount == 0:
        raise ShareNotFound


async def find_active_link(meta: MetaStore, slug_hash: str, now: int) -> ActiveLink | None:
    sql = f"SELECT id, hostname, password, date_expires FROM share_links WHERE slug_hash = ? AND {_ACTIVE}"  # noqa: S608
    async with meta.conn.execute(sql, (slug_hash, now)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    password = None if row[2] is None else str(row[2])
    return ActiveLink(str(row[0]), str(row[1]), password, None if row[3] is None else int(row[3]))


async def add_share_session(meta: MetaStore, token_hash: str, link_id: str, now: int, expires: int) -> None:
    """Record a visitor's token and the link's last use; expired tokens are swept at the same time."""
    await meta.conn.execute(
        "INSERT INTO share_sessions (token_hash, link_id, date_expires) VALUES (?, ?, ?)",
        (token_hash, link_id, expires),
    )
    await meta.conn.execute("UPDATE share_links SET date_last_used = ? WHERE id = ?", (now, link_id))
    await meta.conn.execute("DELETE FROM share_sessions WHERE date_expires <= ?", (now,))
    await meta.conn.commit()


async def share_session_hostname(meta: MetaStore, token_hash: str, now: int) -> str | None:
    """The website a live share token reads, or None (unknown, expired, or its link revoked or expired)."""
    sql = (
        "SELECT l.hostname FROM share_sessions s JOIN share_links l ON l.id = s.link_id"
        " WHERE s.token_hash = ? AND s.date_expires > ? AND (l.date_expires IS NULL OR l.date_expires > ?)"
    )
    async with meta.conn.execute(sql, (token_hash, now, now)) as cur:
        row = await cur.fetchone()
    return None if row is None else str(row[0])


async def first_active_slug(meta: MetaStore, hostname: str, now: int) -> str | None:
    """The slug of a website's oldest active link without a password: Umami's `shareId` (docs/umami.md)."""
    sql = (
        f"SELECT slug FROM share_links WHERE hostname = ? AND {_ACTIVE} AND password IS NULL"  # noqa: S608
        " ORDER BY date_created, id LIMIT 1"
    )
    async with meta.conn.execute(sql, (hostname, now)) as cur:
        row = await cur.fetchone()
    return None if row is None else str(row[0])
