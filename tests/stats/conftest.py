"""One seeded fixture file per test session, opened read-only with the server's session settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pytest

from tests.stats.dataset import build_fixture

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


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
    from medama_py.storage.analytics import create_analytics_schema

    conn = duckdb.connect()
    conn.execute("LOAD icu")
    conn.execute("SET TimeZone = 'UTC'")
    create_analytics_schema(conn)
    yield conn
    conn.close()
