"""Roles and per-website grants in the meta database (docs/accounts.md).

Medama's `users` table is untouched; a user's role lives in `user_roles`, and a user without a row there is an
admin (Medama's only kind of user). The last-admin rule is part of each UPDATE/DELETE statement itself, so two
concurrent requests cannot both pass it.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, cast

from medama_py.errors import LastAdmin, UserExists, UserNotFound, WebsiteNotFound
from medama_py.model import Account, Role, User
from medama_py.storage.meta import WEBSITE_SELECT, insert_refused, website_from_row

if TYPE_CHECKING:
    from collections.abc import Iterable

    from medama_py.model import Website
    from medama_py.storage.meta import MetaStore

__all__ = [
    "create_account",
    "delete_account",
    "get_account",
    "granted_websites",
    "is_granted",
    "leaves_no_admin",
    "list_accounts",
    "role_of",
    "session_caller",
    "set_grants",
    "set_role",
]

_ROLE = "COALESCE((SELECT role FROM user_roles r WHERE r.user_id = users.id), 'admin')"
_ADMINS = f"(SELECT COUNT(*) FROM users WHERE {_ROLE} = 'admin')"  # noqa: S608 (fixed SQL text)
_ACCOUNTS = (
    f"SELECT id, username, {_ROLE}, date_created, date_updated,"  # noqa: S608 (fixed SQL text)
    " (SELECT group_concat(hostname, char(10)) FROM"
    "  (SELECT hostname FROM website_grants g WHERE g.user_id = users.id ORDER BY hostname))"
    " FROM users"
)

# Promoting is always allowed; demoting only a viewer (a no-op) or an admin while another admin remains.
_SET_ROLE = (
    "INSERT INTO user_roles (user_id, role) SELECT ?, ? WHERE ? = 'admin' OR"  # noqa: S608 (fixed SQL text)
    f" (SELECT {_ROLE} FROM users WHERE id = ?) = 'viewer' OR {_ADMINS} > 1"
    " ON CONFLICT(user_id) DO UPDATE SET role = excluded.role"
)


def _account(row: Iterable[object]) -> Account:
    user_id, username, role, created, updated, websites = row
    hostnames = tuple(str(websites).split("\n")) if websites else ()
    return Account(str(user_id), str(username), cast("Role", role), hostnames, int(str(created)), int(str(updated)))


async def session_caller(meta: MetaStore, token_hash: str, now: int) -> tuple[str, Role] | None:
    """The user id and role behind a live session; a session whose user no longer exists is no session."""
    sql = (
        "SELECT s.user_id, COALESCE(r.role, 'admin') FROM sessions s JOIN users u ON u.id = s.user_id"
        " LEFT JOIN user_roles r ON r.user_id = s.user_id WHERE s.token_hash = ? AND s.date_expires > ?"
    )
    async with meta.conn.execute(sql, (token_hash, now)) as cur:
        row = await cur.fetchone()
    return None if row is None else (str(row[0]), cast("Role", row[1]))


async def role_of(meta: MetaStore, user_id: str) -> Role:
    """A user's role, for credentials that name a user (API keys); a missing user gets the least privilege."""
    async with meta.conn.execute(f"SELECT {_ROLE} FROM users WHERE id = ?", (user_id,)) as cur:  # noqa: S608
        row = await cur.fetchone()
    return "viewer" if row is None else cast("Role", row[0])


async def list_accounts(meta: MetaStore) -> list[Account]:
    async with meta.conn.execute(_ACCOUNTS + " ORDER BY date_created, username") as cur:
        return [_account(row) for row in await cur.fetchall()]


async def get_account(meta: MetaStore, user_id: str) -> Account:
    async with meta.conn.execute(_ACCOUNTS + " WHERE id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        raise UserNotFound
    return _account(row)


async def _insert_grants(meta: MetaStore, user_id: str, hostnames: Iterable[str], now: int) -> None:
    await meta.conn.executemany(
        "INSERT OR IGNORE INTO website_grants (user_id, hostname, date_created) VALUES (?, ?, ?)",
        [(user_id, hostname, now) for hostname in hostnames],
    )


async def create_account(meta: MetaStore, user: User, role: Role, websites: Iterable[str]) -> None:
    """Insert the user, its role and its grants in one transaction.

    Raises UserExists for a taken username and WebsiteNotFound for a grant on an unknown website.
    """
    try:
        await meta.conn.execute(
            "INSERT INTO users (id, username, password, settings, date_created, date_updated)"
            " VALUES (?, ?, ?, json_object('language', ?), ?, ?)",
            (user.id, user.username, user.password, user.language, user.date_created, user.date_updated),
        )
        await meta.conn.execute("INSERT INTO user_roles (user_id, role) VALUES (?, ?)", (user.id, role))
        await _insert_grants(meta, user.id, websites, user.date_created)
        await meta.conn.commit()
    except sqlite3.IntegrityError as exc:
        await meta.conn.rollback()
        raise insert_refused(exc, missing=WebsiteNotFound, taken=UserExists) from None


async def set_role(meta: MetaStore, user_id: str, role: Role, now: int) -> None:
    """Change a user's role; demoting the last admin raises LastAdmin (checked inside the statement)."""
    await get_account(meta, user_id)
    cur = await meta.conn.execute(_SET_ROLE, (user_id, role, role, user_id))
    if cur.rowcount == 0:
        await meta.conn.rollback()
        raise LastAdmin
    await meta.conn.execute("UPDATE users SET date_updated = ? WHERE id = ?", (now, user_id))
    await meta.conn.commit()


async def set_grants(meta: MetaStore, user_id: str, hostnames: Iterable[str], now: int) -> None:
    """Replace the websites granted to a user; an unknown hostname raises WebsiteNotFound and changes nothing."""
    await get_account(meta, user_id)
    try:
        await meta.conn.execute("DELETE FROM website_grants WHERE user_id = ?", (user_id,))
        await _insert_grants(meta, user_id, hostnames, now)
        await meta.conn.execute("UPDATE users SET date_updated = ? WHERE id = ?", (now, user_id))
        await meta.conn.commit()
    except sqlite3.IntegrityError:
        await meta.conn.rollback()
        raise WebsiteNotFound from None


async def delete_account(meta: MetaStore, user_id: str, heir_id: str) -> None:
    """Delete a user and its sessions; its websites pass to `heir_id` (the admin deleting it).

    When an admin deletes itself, another admin inherits. Deleting the last admin raises LastAdmin (checked
    inside the DELETE statement).
    """
    await get_account(meta, user_id)
    if heir_id == user_id:
        sql = f"SELECT id FROM users WHERE id != ? AND {_ROLE} = 'admin' ORDER BY date_created LIMIT 1"  # noqa: S608
        async with meta.conn.execute(sql, (user_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise LastAdmin
        heir_id = str(row[0])
    await meta.conn.execute("UPDATE websites SET user_id = ? WHERE user_id = ?", (heir_id, user_id))
    cur = await meta.conn.execute(
        f"DELETE FROM users WHERE id = ? AND ({_ROLE} = 'viewer' OR {_ADMINS} > 1)",  # noqa: S608 (fixed SQL text)
        (user_id,),
    )
    if cur.rowcount == 0:
        await meta.conn.rollback()
        raise LastAdmin
    await meta.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
    await meta.conn.commit()


async def leaves_no_admin(meta: MetaStore, user_id: str) -> bool:
    """Whether deleting this user would leave other users but no admin."""
    sql = f"SELECT {_ROLE} = 'admin' AND {_ADMINS} = 1 AND (SELECT COUNT(*) FROM users) > 1 FROM users WHERE id = ?"  # noqa: S608
    async with meta.conn.execute(sql, (user_id,)) as cur:
        row = await cur.fetchone()
    return row is not None and bool(row[0])


async def is_granted(meta: MetaStore, user_id: str, hostname: str) -> bool:
    sql = "SELECT 1 FROM website_grants WHERE user_id = ? AND hostname = ?"
    async with meta.conn.execute(sql, (user_id, hostname)) as cur:
        return await cur.fetchone() is not None


async def granted_websites(meta: MetaStore, user_id: str) -> list[Website]:
    """The websites granted to a user, in creation order, as MetaStore reads websites (with their UUIDs)."""
    sql = f"{WEBSITE_SELECT} JOIN website_grants g ON g.hostname = w.hostname WHERE g.user_id = ? ORDER BY w.rowid"
    async with meta.conn.execute(sql, (user_id,)) as cur:
        return [website_from_row(tuple(row)) for row in await cur.fetchall()]
