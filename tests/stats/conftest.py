"""One seeded fixture file per test session, opened read-only with the server's session settings."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import duckdb
import pytest

from tests.stats.dataset import build_fixture
from tests.support.server import Server, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import httpx


def open_read_only(path: Path | str) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path), read_only=True)
    conn.execute("LOAD icu")
    conn.execute("SET TimeZone = 'UTC'")
    return conn


@pytest.fixture(scope="session")
def fixture_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stats") / "me_analytics.db"
    build_fixture(path)
    return path


@pytest.fixture(scope="session")
def cur(fixture_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = open_read_only(fixture_file)
    yield conn
    conn.close()


@pytest.fixture
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    """An empty in-memory analytics database for hand-made rows."""
    from medama_py.storage.analytics_file import create_analytics_schema

    conn = duckdb.connect()
    conn.execute("LOAD icu")
    conn.execute("SET TimeZone = 'UTC'")
    create_analytics_schema(conn)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def stats_server(tmp_path_factory: pytest.TempPathFactory, fixture_file: Path) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("stats-api") / "data"
    data_dir.mkdir()
    shutil.copyfile(fixture_file, data_dir / "me_analytics.db")
    with running_server(data_dir) as server:
        yield server


@pytest.fixture(scope="session")
def client(stats_server: Server) -> Iterator[httpx.Client]:
    client = logged_in_client(stats_server)
    register_website(client, "example.com")
    register_website(client, "docs.example.com")  # shop.example.org has rows but stays unregistered
    yield client
    client.close()
