"""medama_py's own SQLite tables for the Umami-compatible API: website UUIDs and API keys (docs/umami.md).

They live beside Medama's tables, never inside them, so a meta file written by medama_py still opens in
Medama: the Go server simply never reads these tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["create_api_keys", "create_website_uuids"]


async def create_website_uuids(conn: aiosqlite.Connection) -> None:
    """Migration 1020: one stable UUID per website, following renames (ON UPDATE CASCADE) and deletions."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS website_uuids (
            hostname TEXT PRIMARY KEY REFERENCES websites(hostname) ON UPDATE CASCADE ON DELETE CASCADE,
            uuid TEXT NOT NULL UNIQUE
        )"""
    )


async def create_api_keys(conn: aiosqlite.Connection) -> None:
    """Migration 1021: API keys, stored only as a SHA-256 of the secret; deleting the user deletes its keys."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS api_keys (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            date_created INTEGER NOT NULL,
            date_last_used INTEGER
        )"""
    )
    await conn.execute("CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys(user_id)")
