"""An existing Medama data directory, built here from Medama's schema, opens unchanged.

The server starts on it, the Go-made user logs in with its password (argon2id with p=8, not this machine's CPU
count), websites and settings are served, and nothing in either file changes beyond our sessions table and row.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest
from argon2 import PasswordHasher

import medama_py
from medama_py.migrations import MIGRATIONS
from medama_py.storage.rollups import ROLLUP_TABLES
from tests.support.server import logged_in_client, running_server

SCRIPTS = Path(medama_py.__file__).parent / "static" / "scripts"

pytestmark = pytest.mark.e2e

OWNER_ID = "user_01h455vb4pex5vsknk084sn02q"
OTHER_ID = "user_01h455vb4pex5vsknk084sn02r"
PASSWORD = "correct horse battery"
NOW = datetime.now(UTC).replace(microsecond=0)

# The SQLite file as Medama's migrations 1, 6 and 7 leave it: migration 1's tables, then 6's ALTERs.
MEDAMA_SQLITE = """
CREATE TABLE migrations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    password TEXT NOT NULL,
    language TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    UNIQUE(username)
);
CREATE TABLE websites (
    hostname TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    FOREIGN KEY(user_id) REFERENCES users(id)
);
ALTER TABLE users ADD COLUMN settings JSON NOT NULL DEFAULT '{}';
ALTER TABLE users DROP COLUMN language;
ALTER TABLE websites ADD COLUMN settings JSON NOT NULL DEFAULT '{}';
CREATE TABLE tenant_settings (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    date_updated INTEGER NOT NULL
);
INSERT INTO migrations (id, name, type, created_at) VALUES
    (1, '0001_sqlite_schema.go', 'sqlite', '2024-03-01 10:00:00'),
    (6, '0006_sqlite_settings.go', 'sqlite', '2024-03-01 10:00:00'),
    (7, '0007_sqlite_tenant_settings.go', 'sqlite', '2024-03-01 10:00:00'),
    (2, '0002_duckdb_schema.go', 'duckdb', '2024-03-01 10:00:01'),
    (3, '0003_duckdb_referrer.go', 'duckdb', '2024-03-01 10:00:01'),
    (4, '0004_duckdb_events.go', 'duckdb', '2024-03-01 10:00:01'),
    (5, '0005_duckdb_event_bid.go', 'duckdb', '2024-03-01 10:00:01');
"""

MEDAMA_DUCKDB = """
CREATE TABLE views (
    bid TEXT, hostname TEXT NOT NULL, pathname TEXT NOT NULL, is_unique_user BOOLEAN NOT NULL,
    is_unique_page BOOLEAN NOT NULL, referrer_host TEXT, referrer_group TEXT, country TEXT, language_base TEXT,
    language_dialect TEXT, ua_browser TEXT NOT NULL, ua_os TEXT NOT NULL, ua_device_type TEXT NOT NULL,
    utm_source TEXT, utm_medium TEXT, utm_campaign TEXT, duration_ms UINTEGER, date_created TIMESTAMPTZ NOT NULL
);
CREATE TABLE events (
    batch_id TEXT NOT NULL, group_name TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    date_created TIMESTAMPTZ NOT NULL
);
ALTER TABLE events ADD COLUMN bid TEXT;
"""


def go_style_hash(password: str) -> str:
    """What alexedwards/argon2id DefaultParams writes on an 8-CPU machine: m=64 MiB, t=1, p=8."""
    return PasswordHasher(time_cost=1, memory_cost=65536, parallelism=8, hash_len=32, salt_len=16).hash(password)


def build_medama_dir(data: Path) -> None:
    data.mkdir()
    with sqlite3.connect(data / "me_meta.db") as conn:
        conn.executescript(MEDAMA_SQLITE)
        conn.executemany(
            "INSERT INTO users (id, username, password, date_created, date_updated, settings)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (OWNER_ID, "owner", go_style_hash(PASSWORD), 1709287200, 1709290800, '{"language":"en"}'),
                (OTHER_ID, "other", go_style_hash("other password"), 1709287300, 1709287300, '{"language":"en"}'),
            ],
        )
        conn.executemany(
            "INSERT INTO websites (hostname, user_id, date_created, date_updated) VALUES (?, ?, ?, ?)",
            [
                ("shop.example", OWNER_ID, 1709287400, 1709287400),
                ("blog.example", OWNER_ID, 1709287500, 1709287500),
                ("other.example", OTHER_ID, 1709287600, 1709287600),
            ],
        )
        conn.executemany(
            "INSERT INTO tenant_settings (key, value, date_updated) VALUES (?, ?, ?)",
            [
                ("script_type", "default,click-events", 1709287700),
                ("block_abusive_ips", "false", 1709287700),
                ("block_tor_exit_nodes", "true", 1709287700),
                ("blocked_ips", "10.0.0.1,192.0.2.4", 1709287700),
            ],
        )
    with duckdb.connect(str(data / "me_analytics.db")) as conn:
        conn.execute(MEDAMA_DUCKDB)
        views = [
            # (bid, hostname, unique user, when)
            ("b1", "shop.example", True, NOW - timedelta(hours=1)),
            ("b2", "shop.example", True, NOW - timedelta(hours=3)),
            ("b3", "shop.example", False, NOW - timedelta(hours=3)),
            ("b4", "shop.example", True, NOW - timedelta(days=3)),
            ("b5", "blog.example", True, NOW - timedelta(days=2)),
        ]
        for bid, hostname, unique, when in views:
            conn.execute(
                "INSERT INTO views VALUES (?, ?, '/pricing', ?, true, 'google.com', 'Google', 'United Kingdom',"
                " 'English', 'British English', 'Chrome', 'Windows', 'Desktop', 'news', 'email', 'spring', 1200, ?)",
                [bid, hostname, unique, when],
            )
        conn.execute(
            "INSERT INTO events VALUES ('event_01h455vb4pex5vsknk084sn02q', 'shop.example', 'plan', 'pro', ?, 'b1')",
            [NOW - timedelta(hours=1)],
        )


# Medama's own tables; medama_py's additions live in tables of their own, created by migrations above id 1000.
MEDAMA_TABLES = ("migrations", "users", "websites", "tenant_settings")
# medama_py's own DuckDB tables (Umami collection, the stats rollups), beside Medama's, which must stay as they were.
OUR_ANALYTICS_TABLES = ("umami_hits", "umami_event_data", "umami_session_data", *ROLLUP_TABLES)


def sqlite_snapshot(path: Path) -> dict[str, object]:
    with sqlite3.connect(path) as conn:
        schema = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN (?, ?, ?, ?) ORDER BY name", MEDAMA_TABLES
        ).fetchall()
        return {
            "schema": schema,
            "users": conn.execute("SELECT * FROM users ORDER BY id").fetchall(),
            "websites": conn.execute("SELECT * FROM websites ORDER BY rowid").fetchall(),
            "tenant_settings": conn.execute("SELECT * FROM tenant_settings ORDER BY key").fetchall(),
            "migrations": conn.execute("SELECT * FROM migrations WHERE id < 1000 ORDER BY id").fetchall(),
        }


def duckdb_snapshot(path: Path) -> dict[str, object]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {
            "columns": conn.execute(
                "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
                " WHERE table_name NOT IN (SELECT unnest(?::TEXT[])) ORDER BY table_name, ordinal_position",
                [list(OUR_ANALYTICS_TABLES)],
            ).fetchall(),
            "views": conn.execute("SELECT * FROM views ORDER BY bid").fetchall(),
            "events": conn.execute("SELECT * FROM events ORDER BY batch_id").fetchall(),
        }


def test_existing_medama_directory_opens_unchanged(tmp_path: Path) -> None:
    data = tmp_path / "medama-data"
    build_medama_dir(data)
    meta_before = sqlite_snapshot(data / "me_meta.db")
    analytics_before = duckdb_snapshot(data / "me_analytics.db")

    with running_server(data) as server:
        # The default admin is not created: users exist.
        with httpx.Client(base_url=server.base_url, timeout=10) as anonymous:
            refused = anonymous.post(
                "/api/auth/login", json={"username": "admin", "password": "CHANGE_ME_ON_FIRST_LOGIN"}
            )
            assert refused.status_code == 401
            assert (
                anonymous.post("/api/auth/login", json={"username": "owner", "password": "wrong password"}).status_code
                == 401
            )
        with closing(logged_in_client(server, "owner", PASSWORD)) as owner:
            user = owner.get("/api/user").json()
            assert user == {
                "username": "owner",
                "settings": {"language": "en"},
                "dateCreated": 1709287200,
                "dateUpdated": 1709290800,
            }
            # Both of Medama's users became admins (docs/accounts.md), and an admin sees every website.
            everything = [{"hostname": "shop.example"}, {"hostname": "blog.example"}, {"hostname": "other.example"}]
            assert owner.get("/api/websites").json() == everything
            summaries = owner.get("/api/websites", params={"summary": "true"}).json()
            assert summaries[:2] == [
                {"hostname": "shop.example", "summary": {"visitors": 2}},
                {"hostname": "blog.example", "summary": {"visitors": 0}},
            ]
            assert owner.get("/api/websites/shop.example").json() == {"hostname": "shop.example"}
            assert owner.get("/api/websites/other.example").json() == {"hostname": "other.example"}
            assert [u["role"] for u in owner.get("/api/users").json()] == ["admin", "admin"]
            assert owner.get("/api/tenant/settings").json() == {
                "script_type": ["default", "click-events"],
                "blockAbusiveIPs": False,
                "blockTorExitNodes": True,
                "blockedIPs": ["10.0.0.1", "192.0.2.4"],
            }
            # The stored script_type picks the tracker variant from the first request on.
            script = owner.get("/script.js")
            assert script.status_code == 200
            assert script.content == (SCRIPTS / "click-events.js").read_bytes()
        with closing(logged_in_client(server, "other", "other password")) as other_user:
            assert other_user.get("/api/websites").json() == everything
        log = server.log()
    assert "creating default admin user" not in log
    assert "Traceback" not in log

    assert sqlite_snapshot(data / "me_meta.db") == meta_before
    assert duckdb_snapshot(data / "me_analytics.db") == analytics_before
    with sqlite3.connect(data / "me_meta.db") as conn:
        ours = conn.execute("SELECT id, name, type FROM migrations WHERE id > 7").fetchall()
        sessions = conn.execute("SELECT user_id FROM sessions ORDER BY user_id").fetchall()
    assert ours == [(m.id, m.name, m.type) for m in MIGRATIONS if m.id > 7]
    assert sessions == [(OWNER_ID,), (OTHER_ID,)]


def test_go_style_hash_really_uses_other_parallelism() -> None:
    # The premise of the test above: the stored hash says p=8, and this machine would have written another p.
    assert ",p=8$" in go_style_hash("x")
