"""Ordered migrations with Medama's ids, names and types, recorded in SQLite's `migrations` table.

SQLite steps run first, then the DuckDB ones. The DuckDB tables themselves are created by the analytics
store whenever the file lacks them (docs/compatibility.md#analytics-tables); here their rows are still
written so that the Go server can open files that medama_py created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from medama_py.migrations import account_steps, sqlite_steps, umami_steps

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import aiosqlite

__all__ = ["MIGRATIONS", "Migration", "run_meta_migrations"]


@dataclass(frozen=True)
class Migration:
    id: int
    name: str
    type: str
    up: Callable[[aiosqlite.Connection], Awaitable[None]] | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "0001_sqlite_schema.go", "sqlite", sqlite_steps.create_schema),
    Migration(6, "0006_sqlite_settings.go", "sqlite", sqlite_steps.move_language_to_settings),
    Migration(7, "0007_sqlite_tenant_settings.go", "sqlite", sqlite_steps.create_tenant_settings),
    Migration(2, "0002_duckdb_schema.go", "duckdb"),
    Migration(3, "0003_duckdb_referrer.go", "duckdb"),
    Migration(4, "0004_duckdb_events.go", "duckdb"),
    Migration(5, "0005_duckdb_event_bid.go", "duckdb"),
    # medama_py's own additions use ids far above Medama's; the Go server never looks them up.
    Migration(1001, "1001_medama_py_sessions", "sqlite", sqlite_steps.create_sessions),
    Migration(1020, "1020_medama_py_website_uuids", "sqlite", umami_steps.create_website_uuids),
    Migration(1021, "1021_medama_py_api_keys", "sqlite", umami_steps.create_api_keys),
    Migration(1030, "1030_medama_py_umami_visit_secret", "sqlite", sqlite_steps.create_visit_token_secret),
    # Accounts (1040-1049): roles, per-website grants, share links.
    Migration(1040, "1040_medama_py_user_roles", "sqlite", account_steps.create_user_roles),
    Migration(1041, "1041_medama_py_website_grants", "sqlite", account_steps.create_website_grants),
    Migration(1042, "1042_medama_py_share_links", "sqlite", account_steps.create_share_links),
)

_CREATE_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS migrations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
)"""


async def run_meta_migrations(conn: aiosqlite.Connection) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction; return the ids applied."""
    await conn.execute(_CREATE_MIGRATIONS)
    await conn.commit()
    applied: list[int] = []
    for migration in MIGRATIONS:
        async with conn.execute("SELECT id FROM migrations WHERE id = ?", (migration.id,)) as cur:
            if await cur.fetchone() is not None:
                continue
        try:
            if migration.up is not None:
                await migration.up(conn)
            await conn.execute(
                "INSERT INTO migrations (id, name, type) VALUES (?, ?, ?)",
                (migration.id, migration.name, migration.type),
            )
            await conn.commit()
        except Exception:
            await conn.rollback()
            raise
        applied.append(migration.id)
    return applied
