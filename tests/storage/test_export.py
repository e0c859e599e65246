"""Exports on a real file larger than one chunk: the chunked CSV/NDJSON bytes equal one ordered COPY's."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb
import pytest

from medama_py.storage.analytics_file import VIEWS_COLUMNS, create_analytics_schema
from medama_py.storage.export import CHUNK_ROWS, export_rows
from tests.support.rows import insert_views, make_view

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SITE = "shop.example"
START = datetime(2024, 1, 1, tzinfo=UTC)
ROWS = 2 * CHUNK_ROWS + 5_000


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """Two sites interleaved (every third row is the other's), inserted in several statements, some commas."""
    path = tmp_path_factory.mktemp("export") / "me_analytics.db"
    with duckdb.connect(str(path)) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        create_analytics_schema(connection)
        for first in range(0, ROWS, 10_000):
            insert_views(
                connection,
                [
                    make_view(
                        bid=f"b{i}",
                        hostname="other.example" if i % 3 == 0 else SITE,
                        pathname=f'/p{i % 7},"q"' if i % 11 == 0 else f"/p{i % 7}",
                        duration_ms=i if i % 2 else None,
                        date_created=START + timedelta(minutes=(i * 7919) % ROWS),  # not in arrival order
                    )
                    for i in range(first, min(first + 10_000, ROWS))
                ],
            )
        connection.execute("DELETE FROM views WHERE bid IN ('b4', 'b5000')")  # gaps in the rowids
        yield connection


def _reference(conn: duckdb.DuckDBPyConnection, path: Path, options: str, where: str = "") -> bytes:
    select = f"SELECT {', '.join(VIEWS_COLUMNS)} FROM views WHERE hostname = '{SITE}' {where} ORDER BY rowid"  # noqa: S608
    conn.execute(f"COPY ({select}) TO '{path}' ({options})")
    return path.read_bytes()


@pytest.mark.parametrize(("file_format", "options"), [("csv", "FORMAT csv, HEADER true"), ("ndjson", "FORMAT json")])
def test_chunked_text_exports_equal_one_copy_in_storage_order(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path, file_format: str, options: str
) -> None:
    seen: list[tuple[int, int]] = []
    out = tmp_path / f"v.{file_format}"
    count = export_rows(
        conn, out, table="views", file_format=file_format, hostname=SITE, start=None, end=None,
        progress=lambda written, total: seen.append((written, total)),
    )  # fmt: skip
    expected = ROWS - (ROWS + 2) // 3 - 2  # every third row is the other site's; two rows were deleted
    assert count == expected
    assert out.read_bytes() == _reference(conn, tmp_path / f"ref.{file_format}", options)
    assert len(seen) >= 2, "more than one chunk"
    assert seen[-1] == (expected, expected)
    assert all(later[0] > earlier[0] for earlier, later in itertools.pairwise(seen))
    assert not list(tmp_path.glob("*.part"))


def test_a_range_and_an_empty_range(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    start, end = START + timedelta(days=3), START + timedelta(days=9, hours=5)
    out = tmp_path / "range.csv"
    count = export_rows(conn, out, table="views", file_format="csv", hostname=SITE, start=start, end=end)
    where = "AND date_created >= $1 AND date_created <= $2"
    select = f"SELECT {', '.join(VIEWS_COLUMNS)} FROM views WHERE hostname = '{SITE}' {where} ORDER BY rowid"  # noqa: S608
    conn.execute(f"COPY ({select}) TO '{tmp_path / 'ref.csv'}' (FORMAT csv, HEADER true)", [start, end])
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert count == out.read_text().count("\n") - 1 > 0

    future = START + timedelta(days=3650)
    for file_format, content in (("csv", ",".join(VIEWS_COLUMNS) + "\n"), ("ndjson", "")):
        empty = tmp_path / f"empty.{file_format}"
        count = export_rows(conn, empty, table="views", file_format=file_format, hostname=SITE, start=future, end=None)
        assert count == 0
        assert empty.read_text() == content


def test_parquet_holds_the_same_rows(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = tmp_path / "v.parquet"
    count = export_rows(conn, out, table="views", file_format="parquet", hostname=SITE, start=None, end=None)
    columns = ", ".join(VIEWS_COLUMNS)
    difference = conn.execute(
        f"(SELECT {columns} FROM read_parquet(?) EXCEPT ALL SELECT {columns} FROM views WHERE hostname = ?)"  # noqa: S608
        f" UNION ALL (SELECT {columns} FROM views WHERE hostname = ? EXCEPT ALL SELECT {columns} FROM read_parquet(?))",
        [str(out), SITE, SITE, str(out)],
    ).fetchall()
    assert difference == []
    assert count == conn.execute("SELECT count(*) FROM views WHERE hostname = ?", [SITE]).fetchone()[0]  # type: ignore[index]
    described = conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(out)]).fetchall()
    assert tuple(row[0] for row in described) == VIEWS_COLUMNS
