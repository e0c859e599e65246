"""SQLite meta store (aiosqlite): users, websites, tenant settings and sessions, in Medama's schema."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import TYPE_CHECKING, Any

import aiosqlite
import msgspec

from medama_py.errors import UserExists, UserNotFound, WebsiteExists, WebsiteNotFound, WebsitesOwned
from medama_py.migrations import run_meta_migrations
from medama_py.model import TenantSettings, User, Website

if TYPE_CHECKING:
    from collections.abc import Mapping

    from medama_py.errors import MedamaError

__all__ = ["WEBSITE_SELECT", "MetaStore", "insert_refused", "website_from_row"]

_USER_COLUMNS = "id, username, password, settings, date_created, date_updated"
# Websites with their UUID (medama_py's own table, docs/umami.md); every website has one after open().
WEBSITE_SELECT = (
    "SELECT w.hostname, w.user_id, w.date_created, w.date_updated, coalesce(u.uuid, '')"
    " FROM websites AS w LEFT JOIN website_uuids AS u ON u.hostname = w.hostname"
)


def _user(row: tuple[Any, ...]) -> User:
    user_id, username, password, settings, created, updated = row
    try:
        parsed = json.loads(str(settings or "{}"))
    except ValueError:
        parsed = {}
    language = parsed.get("language", "en") if isinstance(parsed, dict) else "en"
    return User(str(user_id), str(username), str(password), str(language), int(created), int(updated))


def website_from_row(row: tuple[Any, ...]) -> Website:
    """A Website from a row of `WEBSITE_SELECT`."""
    hostname, user_id, created, updated, website_uuid = row
    return Website(str(hostname), str(user_id), int(created), int(updated), str(website_uuid))


def insert_refused(exc: sqlite3.IntegrityError, *, missing: type[MedamaError], taken: type[MedamaError]) -> MedamaError:
    """The domain error of a refused INSERT: `missing` when it names a row that is not there, else `taken`."""
    return missing() if "FOREIGN KEY" in str(exc) else taken()


class MetaStore:
    """One aiosqlite connection; SQLite serialises writes, and every call here is short."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("meta store is not open")
        return self._conn

    async def open(self) -> list[int]:
        """Open (or create) the file, enforce foreign keys as Medama does, and run migrations."""
        self._conn = await aiosqlite.connect(self.path)
        try:
            await self._conn.execute("PRAGMA foreign_keys = ON")
            await self._conn.execute("PRAGMA busy_timeout = 5000")
            applied = await run_meta_migrations(self._conn)
            await self.ensure_website_uuids()
        except BaseException:
            # aiosqlite's connection thread keeps the process alive until closed: a file that is not a
            # database must end start-up, not leave it hanging.
            await self.close()
            raise
        return applied

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _one(self, sql: str, params: tuple[object, ...]) -> tuple[Any, ...] | None:
        async with self.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return None if row is None else tuple(row)

    # -- users ---------------------------------------------------------------------------------

    async def count_users(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM users", ())
        return int(row[0]) if row else 0

    async def create_user(self, user: User) -> None:
        """Insert a user; raise UserExists on a taken username."""
        try:
            await self.conn.execute(
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608 (fixed column list)
                (
                    user.id,
                    user.username,
                    user.password,
                    json.dumps({"language": user.language}),
                    user.date_created,
                    user.date_updated,
                ),
            )
            await self.conn.commit()
        except sqlite3.IntegrityError:
            await self.conn.rollback()
            raise UserExists from None

    async def get_user(self, user_id: str) -> User:
        row = await self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,))  # noqa: S608
        if row is None:
            raise UserNotFound
        return _user(row)

    async def get_user_by_username(self, username: str) -> User:
        row = await self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,))  # noqa: S608
        if row is None:
            raise UserNotFound
        return _user(row)

    async def update_username(self, user_id: str, username: str, now: int) -> None:
        await self._update_user(
            "UPDATE users SET username = ?, date_updated = ? WHERE id = ?", (username, now, user_id)
        )

    async def update_password(self, user_id: str, password_hash: str, now: int, keep_session: str = "") -> None:
        """Store a new password hash and revoke every session of the user but `keep_session` (a token hash).

        Both happen in one transaction: whoever held an old session (a stolen cookie, a forgotten browser)
        is logged out by the change that was meant to lock them out.
        """
        await self.conn.execute("DELETE FROM sessions WHERE user_id = ? AND token_hash != ?", (user_id, keep_session))
        await self._update_user(
            "UPDATE users SET password = ?, date_updated = ? WHERE id = ?", (password_hash, now, user_id)
        )

    async def update_language(self, user_id: str, language: str, now: int) -> None:
        await self._update_user(
            "UPDATE users SET settings = json_set(settings, '$.language', ?), date_updated = ? WHERE id = ?",
            (language, now, user_id),
        )

    async def _update_user(self, sql: str, params: tuple[object, ...]) -> None:
        try:
            cur = await self.conn.execute(sql, params)
            await self.conn.commit()
        except sqlite3.IntegrityError:
            await self.conn.rollback()
            raise UserExists from None
        if cur.rowcount == 0:
            raise UserNotFound

    async def delete_user(self, user_id: str) -> None:
        """Delete a user; raise WebsitesOwned while websites still reference it (docs/compatibility.md#users)."""
        try:
            cur = await self.conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
            # Its sessions go with it, in the same transaction (a refused delete keeps them).
            await self.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            await self.conn.commit()
        except sqlite3.IntegrityError:
            await self.conn.rollback()
            raise WebsitesOwned from None
        if cur.rowcount == 0:
            raise UserNotFound

    # -- websites ------------------------------------------------------------------------------

    async def list_websites(self, user_id: str) -> list[Website]:
        async with self.conn.execute(
            f"{WEBSITE_SELECT} WHERE w.user_id = ? ORDER BY w.rowid",
            (user_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [website_from_row(tuple(row)) for row in rows]

    async def list_all_websites(self) -> list[Website]:
        """Every website of every user, in creation order."""
        async with self.conn.execute(f"{WEBSITE_SELECT} ORDER BY w.rowid") as cur:
            rows = await cur.fetchall()
        return [website_from_row(tuple(row)) for row in rows]

    async def all_hostnames(self) -> set[str]:
        async with self.conn.execute("SELECT hostname FROM websites") as cur:
            return {str(row[0]) for row in await cur.fetchall()}

    async def get_website(self, hostname: str) -> Website:
        row = await self._one(f"{WEBSITE_SELECT} WHERE w.hostname = ?", (hostname,))
        if row is None:
            raise WebsiteNotFound
        return website_from_row(row)

    async def get_website_by_uuid(self, website_uuid: str) -> Website:
        """The website whose UUID is `website_uuid` (compared in lower case); WebsiteNotFound otherwise."""
        row = await self._one(f"{WEBSITE_SELECT} WHERE u.uuid = ?", (website_uuid.lower(),))
        if row is None:
            raise WebsiteNotFound
        return website_from_row(row)

    async def website_uuids(self) -> dict[str, str]:
        """UUID → hostname of every website (for callers that keep their own cache)."""
        async with self.conn.execute("SELECT uuid, hostname FROM website_uuids") as cur:
            return {str(u): str(h) for u, h in await cur.fetchall()}

    async def ensure_website_uuids(self) -> int:
        """Give every website lacking one a new random UUID (websites made by Medama itself); return how many."""
        async with self.conn.execute(
            "SELECT hostname FROM websites WHERE hostname NOT IN (SELECT hostname FROM website_uuids)"
        ) as cur:
            missing = [str(row[0]) for row in await cur.fetchall()]
        if missing:
            await self.conn.executemany(
                "INSERT INTO website_uuids (hostname, uuid) VALUES (?, ?)",
                [(hostname, str(uuid.uuid4())) for hostname in missing],
            )
            await self.conn.commit()
        return len(missing)

    async def create_website(self, website: Website) -> Website:
        """Insert a website with a new UUID (unless it carries one); return it as stored."""
        stored = website if website.uuid else msgspec.structs.replace(website, uuid=str(uuid.uuid4()))
        try:
            await self.conn.execute(
                "INSERT INTO websites (hostname, user_id, date_created, date_updated) VALUES (?, ?, ?, ?)",
                (stored.hostname, stored.user_id, stored.date_created, stored.date_updated),
            )
            await self.conn.execute(
                "INSERT INTO website_uuids (hostname, uuid) VALUES (?, ?)", (stored.hostname, stored.uuid)
            )
            await self.conn.commit()
        except sqlite3.IntegrityError as exc:
            await self.conn.rollback()
            raise insert_refused(exc, missing=UserNotFound, taken=WebsiteExists) from None
        return stored

    async def rename_website(self, old: str, new: str, now: int) -> None:
        """Rename a website (docs/compatibility.md#websites); raise WebsiteExists when the new name is taken."""
        try:
            cur = await self.conn.execute(
                "UPDATE websites SET hostname = ?, date_updated = ? WHERE hostname = ?", (new, now, old)
            )
            await self.conn.commit()
        except sqlite3.IntegrityError:
            await self.conn.rollback()
            raise WebsiteExists from None
        if cur.rowcount == 0:
            raise WebsiteNotFound

    async def delete_website(self, hostname: str) -> None:
        cur = await self.conn.execute("DELETE FROM websites WHERE hostname = ?", (hostname,))
        await self.conn.commit()
        if cur.rowcount == 0:
            raise WebsiteNotFound

    # -- tenant settings -----------------------------------------------------------------------

    async def get_settings(self) -> TenantSettings:
        async with self.conn.execute("SELECT key, value FROM tenant_settings") as cur:
            stored = {str(k): str(v) for k, v in await cur.fetchall()}
        known = {k: v for k, v in stored.items() if k in TenantSettings.__struct_fields__}
        return TenantSettings(**known)

    async def put_settings(self, values: Mapping[str, str], now: int) -> None:
        """Upsert the given keys in one transaction."""
        try:
            await self.conn.executemany(
                "INSERT INTO tenant_settings (key, value, date_updated) VALUES (?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value, date_updated = excluded.date_updated",
                [(key, value, now) for key, value in values.items()],
            )
            await self.conn.commit()
        except Exception:
            await self.conn.rollback()
            raise

    # -- sessions ------------------------------------------------------------------------------

    async def add_session(self, token_hash: str, user_id: str, now: int, expires: int) -> None:
        await self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, date_created, date_expires) VALUES (?, ?, ?, ?)",
            (token_hash, user_id, now, expires),
        )
        await self.conn.execute("DELETE FROM sessions WHERE date_expires <= ?", (now,))
        await self.conn.commit()

    async def session_user(self, token_hash: str, now: int) -> str | None:
        # Joined with users: a session whose user no longer exists (left by an older version) is no session.
        row = await self._one(
            "SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.token_hash = ? AND s.date_expires > ?",
            (token_hash, now),
        )
        return None if row is None else str(row[0])

    async def delete_session(self, token_hash: str) -> None:
        await self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
        await self.conn.commit()
