"""The backup's copy on a real file: it runs below the hit path's priority and gives DuckDB's threads back."""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

import duckdb
import pytest

from medama_py.storage.analytics_file import create_analytics_schema
from medama_py.storage.backup import at_lowest_priority, copy_analytics
from tests.support.rows import insert_views, make_view

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priorities are Linux's")
def test_the_work_runs_on_its_own_thread_at_the_lowest_priority() -> None:
    def where_and_how() -> tuple[int, int]:
        native = threading.get_native_id()
        return native, os.getpriority(os.PRIO_PROCESS, native)

    caller = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, caller)
    native, priority = at_lowest_priority(where_and_how)
    assert native != caller
    assert priority == 19
    assert os.getpriority(os.PRIO_PROCESS, caller) == before  # the caller keeps its own


def test_an_exception_reaches_the_caller() -> None:
    def fail() -> None:
        raise ValueError("disk full")

    with pytest.raises(ValueError, match="disk full"):
        at_lowest_priority(fail)


def test_the_copy_holds_every_row_and_restores_duckdbs_threads(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "live.db"), config={"threads": 3}) as conn:
        create_analytics_schema(conn)
        insert_views(conn, [make_view(bid=f"b{i}") for i in range(500)])
        counts = at_lowest_priority(lambda: copy_analytics(conn.cursor(), tmp_path / "copy.db"))
        assert conn.execute("SELECT current_setting('threads')").fetchone() == (3,)
    assert counts["views"] == 500
    with duckdb.connect(str(tmp_path / "copy.db"), read_only=True) as copy:
        assert copy.execute("SELECT count(DISTINCT bid) FROM views").fetchone() == (500,)
