"""API keys in the meta database: only a SHA-256 of each secret is stored, with name and dates (docs/umami.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["ApiKey", "create_api_key", "delete_api_key", "find_api_key", "list_api_keys", "touch_api_key"]

# Writing last-used on every request would make each scripted read a SQLite write; once a minute is
# precise enough for "last used" and keeps reads read-only.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiKey(msgspec.Struct, frozen=True):
    id: str
    user_id: str
    name: str
    date_created: int
    date_last_used: int | None = None


_COLUMNS = "id, user_id, name, date_created, date_last_used"


def _key(row: tuple[object, ...]) -> ApiKey:
    key_id, user_id, name, created, last_used = row
    return ApiKey(
        str(key_id), str(user_id), str(name), int(str(created)), None if last_used is None else int(str(last_used))
    )


async def create_api_key(conn: aiosqlite.Connection, key: ApiKey, key_hash: str) -> None:
    await conn.execute(
        "INSERT INTO api_keys (id, user_id, name, key_hash, date_created) VALUES (?, ?, ?, ?, ?)",
        (key.id, key.user_id, key.name, key_hash, key.date_created),
    )
    await conn.commit()


async def list_api_keys(conn: aiosqlite.Connection, user_id: str) -> list[ApiKey]:
    """The user's keys, oldest first."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY date_created, id",  # noqa: S608 (fixed columns)
        (user_id,),
    ) as cur:
        return [_key(tuple(row)) for row in await cur.fetchall()]


async def delete_api_key(conn: aiosqlite.Connection, user_id: str, key_id: str) -> bool:
    """Revoke one of the user's keys at once; False when the user has no such key."""
    cur = await conn.execute("DELETE FROM api_keys WHERE id = ? AND user_id = ?", (key_id, user_id))
    await conn.commit()
    return cur.rowcount > 0


async def find_api_key(conn: aiosqlite.Connection, key_hash: str) -> ApiKey | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,)) as cur:  # noqa: S608
        row = await cur.fetchone()
    return None if row is None else _key(tuple(row))


async def touch_api_key(conn: aiosqlite.Connection, key: ApiKey, now: int) -> None:
    """Record that `key` was used, at most once per LAST_USED_RESOLUTION_SECONDS."""
    if key.date_last_used is not None and now - key.date_last_used < LAST_USED_RESOLUTION_SECONDS:
        return
    await conn.execute("UPDATE api_keys SET date_last_used = ? WHERE id = ?", (now, key.id))
    await conn.commit()
