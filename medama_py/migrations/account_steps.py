"""medama_py's account tables: roles, per-website grants and share links (docs/accounts.md).

Medama's own tables stay exactly as they are, so the Go server can still open the file: every addition lives in
a table of its own, tied to `users` and `websites` by foreign keys that cascade (Medama enforces foreign keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["create_share_links", "create_user_roles", "create_website_grants"]


async def create_user_roles(conn: aiosqlite.Connection) -> None:
    """Migration 1040: one role per user; every user that exists already (Medama's admin) becomes an admin.

    A user without a row (one created later by the Go server, which knows nothing of roles) counts as an admin
    too, as Medama's only kind of user is.
    """
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS user_roles (
            user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('admin', 'viewer'))
        )"""
    )
    await conn.execute("INSERT OR IGNORE INTO user_roles (user_id, role) SELECT id, 'admin' FROM users")


async def create_website_grants(conn: aiosqlite.Connection) -> None:
    """Migration 1041: the websites a viewer may read; renames and deletions of websites carry over."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS website_grants (
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            hostname TEXT NOT NULL REFERENCES websites(hostname) ON DELETE CASCADE ON UPDATE CASCADE,
            date_created INTEGER NOT NULL,
            PRIMARY KEY (user_id, hostname)
        )"""
    )
    await conn.execute("CREATE INDEX IF NOT EXISTS website_grants_hostname ON website_grants(hostname)")


async def create_share_links(conn: aiosqlite.Connection) -> None:
    """Migration 1042: public read-only links to one website, and the tokens their visitors read stats with.

    Links are found by the SHA-256 of their slug, so a lookup's timing says nothing about how close a guess was;
    the slug itself is kept so that an admin can copy the link again later. Revoking deletes the row, and the
    cascade deletes every token issued through it in the same statement.
    """
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS share_links (
            id TEXT PRIMARY KEY,
            hostname TEXT NOT NULL REFERENCES websites(hostname) ON DELETE CASCADE ON UPDATE CASCADE,
            slug TEXT NOT NULL,
            slug_hash TEXT NOT NULL UNIQUE,
            password TEXT,
            date_created INTEGER NOT NULL,
            date_expires INTEGER,
            date_last_used INTEGER
        )"""
    )
    await conn.execute("CREATE INDEX IF NOT EXISTS share_links_hostname ON share_links(hostname, date_created)")
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS share_sessions (
            token_hash TEXT PRIMARY KEY,
            link_id TEXT NOT NULL REFERENCES share_links(id) ON DELETE CASCADE,
            date_expires INTEGER NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX IF NOT EXISTS share_sessions_link ON share_sessions(link_id)")
