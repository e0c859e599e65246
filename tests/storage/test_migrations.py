"""Migrations on real files: Medama's exact tables, columns and `migrations` rows (docs/compatibility.md)."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import duckdb

from medama_py.migrations import MIGRATIONS
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.analytics_file import VIEWS_COLUMNS
from medama_py.storage.meta import MetaStore

if TYPE_CHECKING:
    from pathlib import Path

OUR_TABLES = {"sessions", "user_roles", "website_grants", "share_links", "share_sessions"}
MEDAMA_ROWS = {
    1: ("0001_sqlite_schema.go", "sqlite"),
    6: ("0006_sqlite_settings.go", "sqlite"),
    7: ("0007_sqlite_tenant_settings.go", "sqlite"),
    2: ("0002_duckdb_schema.go", "duckdb"),
    3: ("0003_duckdb_referrer.go", "duckdb"),
    4: ("0004_duckdb_events.go", "duckdb"),
    5: ("0005_duckdb_event_bid.go", "duckdb"),
}

# medama_py's own migrations (ids above 1000), applied after Medama's in the order listed.
OURS = [m.id for m in MIGRATIONS if m.id > 1000]

# PRAGMA table_info: (name, declared type, NOT NULL, default, primary key position)
USERS = [
    ("id", "TEXT", 0, None, 1),
    ("username", "TEXT", 1, None, 0),
    ("password", "TEXT", 1, None, 0),
    ("date_created", "INTEGER", 1, None, 0),
    ("date_updated", "INTEGER", 1, None, 0),
    ("settings", "JSON", 1, "'{}'", 0),
]
WEBSITES = [
    ("hostname", "TEXT", 0, None, 1),
    ("user_id", "TEXT", 1, None, 0),
    ("date_created", "INTEGER", 1, None, 0),
    ("date_updated", "INTEGER", 1, None, 0),
    ("settings", "JSON", 1, "'{}'", 0),
]
TENANT_SETTINGS = [
    ("key", "TEXT", 1, None, 1),
    ("value", "TEXT", 1, None, 0),
    ("date_updated", "INTEGER", 1, None, 0),
]
MIGRATIONS_TABLE = [
    ("id", "INTEGER", 0, None, 1),
    ("name", "TEXT", 1, None, 0),
    ("type", "TEXT", 1, None, 0),
    ("created_at", "DATETIME", 0, "CURRENT_TIMESTAMP", 0),
]
VIEWS = [
    ("bid", "VARCHAR", "YES"),
    ("hostname", "VARCHAR", "NO"),
    ("pathname", "VARCHAR", "NO"),
    ("is_unique_user", "BOOLEAN", "NO"),
    ("is_unique_page", "BOOLEAN", "NO"),
    ("referrer_host", "VARCHAR", "YES"),
    ("referrer_group", "VARCHAR", "YES"),
    ("country", "VARCHAR", "YES"),
    ("language_base", "VARCHAR", "YES"),
    ("language_dialect", "VARCHAR", "YES"),
    ("ua_browser", "VARCHAR", "NO"),
    ("ua_os", "VARCHAR", "NO"),
    ("ua_device_type", "VARCHAR", "NO"),
    ("utm_source", "VARCHAR", "YES"),
    ("utm_medium", "VARCHAR", "YES"),
    ("utm_campaign", "VARCHAR", "YES"),
    ("duration_ms", "UINTEGER", "YES"),
    ("date_created", "TIMESTAMP WITH TIME ZONE", "NO"),
]
EVENTS = [
    ("batch_id", "VARCHAR", "NO"),
    ("group_name", "VARCHAR", "NO"),
    ("name", "VARCHAR", "NO"),
    ("value", "VARCHAR", "NO"),
    ("date_created", "TIMESTAMP WITH TIME ZONE", "NO"),
    ("bid", "VARCHAR", "YES"),
]


def table_info(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    return [
        (name, kind, notnull, default, pk)
        for _, name, kind, notnull, default, pk in conn.execute(f"PRAGMA table_info({table})")
    ]


def duck_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()


async def open_meta(path: Path) -> list[int]:
    store = MetaStore(str(path))
    try:
        return await store.open()
    finally:
        await store.close()


async def test_fresh_meta_file_gets_medama_schema_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "me_meta.db"
    applied = await open_meta(path)
    # Medama's order: SQLite steps first (1, 6, 7), then the DuckDB ones (2–5); ours last.
    assert applied == [1, 6, 7, 2, 3, 4, 5, *OURS]

    with sqlite3.connect(path) as conn:
        assert table_info(conn, "users") == USERS
        assert table_info(conn, "websites") == WEBSITES
        assert table_info(conn, "tenant_settings") == TENANT_SETTINGS
        assert table_info(conn, "migrations") == MIGRATIONS_TABLE
        rows = {row[0]: (row[1], row[2]) for row in conn.execute("SELECT id, name, type FROM migrations")}
        created = conn.execute("SELECT COUNT(*) FROM migrations WHERE created_at IS NOT NULL").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        unique_username = [
            index
            for index in conn.execute("PRAGMA index_list(users)")
            if index[2] == 1 and [c[2] for c in conn.execute(f"PRAGMA index_info('{index[1]}')")] == ["username"]
        ]
        foreign_keys = [(fk[2], fk[3], fk[4]) for fk in conn.execute("PRAGMA foreign_key_list(websites)")]
    assert {k: v for k, v in rows.items() if k in MEDAMA_ROWS} == MEDAMA_ROWS
    assert rows[1001] == ("1001_medama_py_sessions", "sqlite")
    assert set(rows) == {*MEDAMA_ROWS, *OURS}
    assert created == len(MEDAMA_ROWS) + len(OURS)
    assert {"users", "websites", "tenant_settings", "migrations"} | OUR_TABLES <= tables
    assert unique_username, "users needs UNIQUE(username)"
    assert foreign_keys == [("users", "user_id", "id")]


async def test_migration_table_matches_declared_list() -> None:
    assert [(m.id, m.name, m.type) for m in MIGRATIONS if m.id in MEDAMA_ROWS] == [
        (i, *MEDAMA_ROWS[i]) for i in (1, 6, 7, 2, 3, 4, 5)
    ]


async def test_reopening_applies_nothing_and_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "me_meta.db"
    await open_meta(path)
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT id, name, type, created_at FROM migrations ORDER BY id").fetchall()
    assert await open_meta(path) == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT id, name, type, created_at FROM migrations ORDER BY id").fetchall() == before


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    store = MetaStore(str(tmp_path / "me_meta.db"))
    await store.open()
    try:
        async with store.conn.execute("PRAGMA foreign_keys") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == 1
    finally:
        await store.close()


def _medama_v1_file(path: Path) -> None:
    """A file as Medama left it after migration 1 only: users still has `language`."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL,
                                     created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
            CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL, password TEXT NOT NULL,
                                language TEXT NOT NULL, date_created INTEGER NOT NULL,
                                date_updated INTEGER NOT NULL, UNIQUE(username));
            CREATE TABLE websites (hostname TEXT PRIMARY KEY, user_id TEXT NOT NULL, date_created INTEGER NOT NULL,
                                   date_updated INTEGER NOT NULL, FOREIGN KEY(user_id) REFERENCES users(id));
            INSERT INTO migrations (id, name, type) VALUES (1, '0001_sqlite_schema.go', 'sqlite');
            INSERT INTO users VALUES ('user_01h455vb4pex5vsknk084sn02q', 'owner', 'x', 'en', 1700000000, 1700000001);
            INSERT INTO websites VALUES ('old.example', 'user_01h455vb4pex5vsknk084sn02q', 1700000000, 1700000000);
            """
        )


async def test_old_medama_file_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "me_meta.db"
    _medama_v1_file(path)
    assert await open_meta(path) == [6, 7, 2, 3, 4, 5, *OURS]
    with sqlite3.connect(path) as conn:
        assert table_info(conn, "users") == USERS
        assert table_info(conn, "websites") == WEBSITES
        user = conn.execute("SELECT id, username, settings, date_created, date_updated FROM users").fetchone()
        website = conn.execute("SELECT hostname, user_id, settings FROM websites").fetchone()
    assert user[:2] == ("user_01h455vb4pex5vsknk084sn02q", "owner")
    assert json.loads(user[2]) == {"language": "en"}
    assert user[3:] == (1700000000, 1700000001)
    assert website == ("old.example", "user_01h455vb4pex5vsknk084sn02q", "{}")


async def test_migration_7_moves_tenant_keys_out_of_user_settings(tmp_path: Path) -> None:
    path = tmp_path / "me_meta.db"
    _medama_v1_file(path)
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            ALTER TABLE users ADD COLUMN settings JSON NOT NULL DEFAULT '{}';
            UPDATE users SET settings = json_object('language', language);
            ALTER TABLE users DROP COLUMN language;
            ALTER TABLE websites ADD COLUMN settings JSON NOT NULL DEFAULT '{}';
            INSERT INTO migrations (id, name, type) VALUES (6, '0006_sqlite_settings.go', 'sqlite');
            """
        )
        conn.execute(
            "UPDATE users SET settings = ?",
            (
                json.dumps(
                    {
                        "language": "en",
                        "script_type": "default,click-events",
                        "block_abusive_ips": False,
                        "blocked_ips": "10.0.0.1,192.0.2.4",
                        "block_tor_exit_nodes": None,
                    }
                ),
            ),
        )
    assert await open_meta(path) == [7, 2, 3, 4, 5, *OURS]
    with sqlite3.connect(path) as conn:
        stored = dict(conn.execute("SELECT key, value FROM tenant_settings").fetchall())
        settings = json.loads(conn.execute("SELECT settings FROM users").fetchone()[0])
    assert stored == {
        "script_type": "default,click-events",
        "block_abusive_ips": "false",
        "blocked_ips": "10.0.0.1,192.0.2.4",
    }
    assert settings == {"language": "en"}


def test_fresh_analytics_file_gets_medama_tables(tmp_path: Path) -> None:
    store = AnalyticsStore(str(tmp_path / "me_analytics.db"))
    store.open()
    try:
        assert duck_columns(store.conn, "views") == VIEWS
        assert duck_columns(store.conn, "events") == EVENTS
        assert tuple(name for name, _, _ in VIEWS) == VIEWS_COLUMNS
    finally:
        store.close()
    # Reopening is a no-op and keeps the layout.
    store = AnalyticsStore(str(tmp_path / "me_analytics.db"))
    store.open()
    try:
        assert duck_columns(store.conn, "views") == VIEWS
    finally:
        store.close()


def test_analytics_file_from_before_migration_5_gets_events_bid(tmp_path: Path) -> None:
    path = tmp_path / "me_analytics.db"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE events (batch_id TEXT NOT NULL, group_name TEXT NOT NULL, name TEXT NOT NULL,"
            " value TEXT NOT NULL, date_created TIMESTAMPTZ NOT NULL)"
        )
        conn.execute("INSERT INTO events VALUES ('event_1', 'a.example', 'k', 'v', '2024-01-01 00:00:00+00')")
    store = AnalyticsStore(str(path))
    store.open()
    try:
        assert duck_columns(store.conn, "events") == EVENTS
        assert store.conn.execute("SELECT batch_id, bid FROM events").fetchall() == [("event_1", None)]
        assert duck_columns(store.conn, "views") == VIEWS
    finally:
        store.close()


async def test_new_analytics_file_next_to_a_migrated_meta_file_gets_tables(tmp_path: Path) -> None:
    # The DuckDB rows 2–5 already exist in SQLite, yet a deleted analytics file is re-created complete.
    await open_meta(tmp_path / "me_meta.db")
    store = AnalyticsStore(str(tmp_path / "me_analytics.db"))
    store.open()
    try:
        assert duck_columns(store.conn, "views") == VIEWS
        assert duck_columns(store.conn, "events") == EVENTS
    finally:
        store.close()
