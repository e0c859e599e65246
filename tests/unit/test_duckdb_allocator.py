"""DuckDB's jemalloc: what it holds is readable, and with tune_jemalloc what DuckDB frees leaves the RSS at once."""

from __future__ import annotations

import ctypes
import sys

import duckdb
import pytest

from medama_py import duckdb_allocator
from medama_py.duckdb_allocator import CONF_VARIABLE, allocator_stats, resident_bytes, tune_jemalloc

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or duckdb_allocator._MALLCTL is None,
    reason="DuckDB links jemalloc only in its Linux wheels",
)

MB = 1024 * 1024


def _default_decay_ms() -> int:
    mallctl = duckdb_allocator._MALLCTL
    assert mallctl is not None
    value = ctypes.c_ssize_t()
    assert duckdb_allocator._get(mallctl, "arenas.dirty_decay_ms", value)
    return int(value.value)


def test_memory_duckdb_frees_leaves_at_once() -> None:
    assert tune_jemalloc()
    assert _default_decay_ms() == 0
    with duckdb.connect(config={"threads": 2}) as conn:
        before = resident_bytes()
        assert before is not None
        conn.execute("CREATE TABLE t AS SELECT range AS i, range::VARCHAR AS s FROM range(2000000)")
        filled = resident_bytes()
        assert filled is not None
        assert filled > before + 30 * MB
        conn.execute("DROP TABLE t")
        emptied = resident_bytes()
    assert emptied is not None
    # With jemalloc's default decay (DuckDB's 1 s) the freed ~40 MB stayed resident until the arena allocated again.
    assert emptied < before + 10 * MB


def test_stats_describe_the_allocator() -> None:
    stats = allocator_stats()
    assert stats is not None
    assert set(stats) == {"allocated", "active", "resident", "mapped", "retained"}
    assert stats["allocated"] <= stats["active"] <= stats["mapped"]
    assert stats["resident"] <= stats["mapped"]


def test_an_operators_jemalloc_settings_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    decay = _default_decay_ms()
    monkeypatch.setenv(CONF_VARIABLE, "dirty_decay_ms:5000")
    assert not tune_jemalloc(decay_ms=decay + 7)
    assert _default_decay_ms() == decay
