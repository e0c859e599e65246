"""The SQLite schema steps, written to reach Medama's final layout (docs/compatibility.md#what-stays-identical)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["create_schema", "create_sessions", "create_tenant_settings", "move_language_to_settings"]

_TENANT_KEYS = ("script_type", "block_abusive_ips", "block_tor_exit_nodes", "blocked_ips")


async def create_schema(conn: aiosqlite.Connection) -> None:
    """Migration 1: users (still with `language`) and websites."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            password TEXT NOT NULL,
            language TEXT NOT NULL,
            date_created INTEGER NOT NULL,
            date_updated INTEGER NOT NULL,
            UNIQUE(username)
        )"""
    )
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS websites (
            hostname TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            date_created INTEGER NOT NULL,
            date_updated INTEGER NOT NULL,
            FOREIGN KEY(user_id) REFERENCES users(id)
        )"""
    )


async def move_language_to_settings(conn: aiosqlite.Connection) -> None:
    """Migration 6: `users.settings` JSON replaces `users.language`; `websites.settings` appears."""
    await conn.execute("ALTER TABLE users ADD COLUMN settings JSON NOT NULL DEFAULT '{}'")
    await conn.execute("UPDATE users SET settings = json_object('language', language)")
    await conn.execute("ALTER TABLE users DROP COLUMN language")
    await conn.execute("ALTER TABLE websites ADD COLUMN settings JSON NOT NULL DEFAULT '{}'")


async def create_tenant_settings(conn: aiosqlite.Connection) -> None:
    """Migration 7: global settings move from users' JSON into `tenant_settings`."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS tenant_settings (
            key TEXT NOT NULL PRIMARY KEY,
            value TEXT NOT NULL,
            date_updated INTEGER NOT NULL
        )"""
    )
    async with conn.execute("SELECT id, settings FROM users") as cur:
        rows = list(await cur.fetchall())
    for user_id, raw in rows:
        try:
            settings = json.loads(raw or "{}")
        except ValueError:
            continue
        if not isinstance(settings, dict):
            continue
        for key in _TENANT_KEYS:
            value = settings.pop(key, None)
            if value is None:
                continue
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value).lower()
            await conn.execute(
                "INSERT INTO tenant_settings (key, value, date_updated) VALUES (?, ?, strftime('%s','now'))"
                " ON CONFLICT(key) DO NOTHING",
                (key, text),
            )
        await conn.execute("UPDATE users SET settings = ? WHERE id = ?", (json.dumps(settings), user_id))


async def create_sessions(conn: aiosqlite.Connection) -> None:
    """medama_py sessions: only a SHA-256 of each token is stored, so a leaked file grants no login."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS sessions (
            token_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            date_created INTEGER NOT NULL,
            date_expires INTEGER NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(date_expires)")


async def create_visit_token_secret(conn: aiosqlite.Connection) -> None:
    """The key that signs Umami visit tokens and hashes distinct ids (docs/privacy.md); made once, kept."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS umami_visit_secret (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            secret BLOB NOT NULL
        )"""
    )
    await conn.execute("INSERT OR IGNORE INTO umami_visit_secret (id, secret) VALUES (1, randomblob(32))")
