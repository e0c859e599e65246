"""A COMMIT that DuckDB fails half-way: every acknowledged hit is still stored, and stored once.

How DuckDB is made to fail (for real) is in tests/support/failed_commit.py; a crash in the middle of it is
tests/e2e/test_failed_commit_crash.py.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING

import duckdb

from medama_py.model import EventRows, UmamiRows
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.batch_check import Checked, apply_missing
from medama_py.storage.hit_batches import TARGET_COLUMNS, Appenders, WriteItem, apply_batch, prepare_batch
from medama_py.storage.journal import Position, create_applied, read_applied
from medama_py.storage.writer import HitWriter
from tests.support.failed_commit import NO_CHECKPOINTS, START, CommitSqueeze, acknowledge, stored, until_settled
from tests.support.live import PATIENT_READS_S
from tests.support.rows import make_view_row

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


async def test_a_commit_that_fails_half_way_loses_no_acknowledged_hit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "analytics.db"
    store = AnalyticsStore(str(path))
    store.open()
    squeeze = CommitSqueeze(store)
    writer = HitWriter(
        store,
        max_batch=20,
        max_delay_ms=1,
        checkpoints=NO_CHECKPOINTS,
        before_commit=squeeze,
        read_wait_s=PATIENT_READS_S,
    )
    await writer.start()
    try:
        # The views so far in the file's blocks, and a few more in the WAL only: DuckDB's COMMIT appends to a
        # block it must read back (pin), and what it wrote of the failed transaction is replayed from the WAL.
        await acknowledge(writer, 0, 200)
        await until_settled(writer)
        await store.checkpoint()
        await acknowledge(writer, 200, 20)
        await until_settled(writer)
        squeeze.arm()
        with caplog.at_level(logging.WARNING):
            await acknowledge(writer, 220, 20)
            await squeeze.release()
            await until_settled(writer)
    finally:
        await writer.stop()
        store.close()
    bids, durations = stored(path)
    assert bids == Counter({f"v{n}": 1 for n in range(240)})
    assert durations == 120
    # The squeeze did what DuckDB does at 32 MB: the next update of the journal position conflicted with what
    # the failed COMMIT left behind, and the store opened its file again.
    assert store.recoveries == 1
    assert "Conflict on update" in caplog.text
    # ...and the reopened file held the batch's journal position without its 20 views: the check applied them.
    assert writer.stats.checked_rows_applied == 20


async def test_an_apply_that_fails_before_its_commit_is_applied_again_without_a_check(tmp_path: Path) -> None:
    # Everything before the COMMIT is rolled back whole: nothing is in doubt, and the retry is a plain apply.
    failures = [duckdb.OutOfMemoryException("could not allocate block of size 256.0 KiB")]

    def fail_once(_cur: duckdb.DuckDBPyConnection) -> None:
        if failures:
            raise failures.pop()

    path = tmp_path / "analytics.db"
    store = AnalyticsStore(str(path))
    store.open()
    writer = HitWriter(
        store,
        max_batch=20,
        max_delay_ms=1,
        checkpoints=NO_CHECKPOINTS,
        before_commit=fail_once,
        read_wait_s=PATIENT_READS_S,
    )
    await writer.start()
    try:
        await acknowledge(writer, 0, 20)
        await until_settled(writer)
    finally:
        await writer.stop()
        store.close()
    assert not failures
    assert stored(path) == (Counter({f"v{n}": 1 for n in range(20)}), 10)
    assert writer.stats.checked == 0


# --- the check itself: which rows of a batch the database holds -------------------------------------------


def _hit(n: int) -> WriteItem:
    """A Umami page view with its own properties and event data, NULLs included, as ingestion hands it over."""
    at = START + timedelta(seconds=n)
    view = make_view_row(bid=f"h{n}", date_created=at, referrer_host=None, utm_source=None)
    events = EventRows(f"e{n}", "example.com", f"h{n}", (("plan", "pro"), ("size", str(n))), at)
    hit = (f"h{n}", None, "example.com", "s1", "v1", 1, None, None, "/", None, "Home", None, None, None, None,
           None, "1920x1080", "en-GB", None, None, n % 2 == 0, at)  # fmt: skip
    data = ((f"h{n}", "w1", "example.com", None, "k", 2, str(n), float(n), at),)
    session = (("w1", "example.com", "s1", None, "tier", 1, "gold", None, at),)
    return WriteItem(view=view, events=events, umami=UmamiRows(hit, data, session))


def _table_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, Counter[tuple[object, ...]]]:
    found = {}
    for table, columns in TARGET_COLUMNS.items():
        rows = cur.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()  # noqa: S608 (our names)
        found[table] = Counter(tuple(row) for row in rows)
    return found


def _expected(items: list[WriteItem]) -> dict[str, Counter[tuple[object, ...]]]:
    batch = prepare_batch(items)
    umami = batch.umami
    lists = {"views": batch.views, "events": batch.events, "umami_hits": umami.hits,
             "umami_event_data": umami.data, "umami_session_data": umami.session_data}  # fmt: skip
    return {table: Counter(tuple(row) for row in rows) for table, rows in lists.items()}


def test_a_batch_partly_in_the_database_gets_only_the_rows_it_lacks(tmp_path: Path) -> None:
    store = AnalyticsStore(str(tmp_path / "analytics.db"))
    store.open()
    try:
        cur = store.cursor()
        create_applied(cur)
        appenders = Appenders(cur)
        items = [_hit(n) for n in range(6)]
        apply_batch(cur, appenders, prepare_batch(items[:2]))  # what a COMMIT that failed half-way may leave
        durations = [WriteItem(duration=("h1", 900)), WriteItem(duration=("h4", 400), duration_at=START)]
        whole = prepare_batch([*items, *durations])

        checked = apply_missing(cur, appenders, whole, applied=Position(2, 70))
        # Per hit: a view, two event rows, a Umami hit, its event data and its session data: 6 rows.
        assert checked == Checked(held=2 * 6, applied=4 * 6)
        assert _table_counts(cur) == _expected(items)
        assert cur.execute(
            "SELECT bid, duration_ms FROM views WHERE duration_ms IS NOT NULL ORDER BY bid"
        ).fetchall() == [
            ("h1", 900),
            ("h4", 400),
        ]
        assert read_applied(cur) == Position(2, 70)

        # Checked once more (its apply failed again, say): everything is held, nothing is stored twice.
        assert apply_missing(cur, appenders, whole, applied=Position(2, 70)) == Checked(held=6 * 6, applied=0)
        assert _table_counts(cur) == _expected(items)
    finally:
        store.close()


def test_equal_rows_are_counted_one_by_one(tmp_path: Path) -> None:
    # A batch may hold two equal rows (the same hit sent twice within a microsecond); one held leaves one to apply.
    store = AnalyticsStore(str(tmp_path / "analytics.db"))
    store.open()
    try:
        cur = store.cursor()
        appenders = Appenders(cur)
        twice = WriteItem(make_view_row(bid="same", date_created=START))
        apply_batch(cur, appenders, prepare_batch([twice]))
        assert apply_missing(cur, appenders, prepare_batch([twice, twice])) == Checked(held=1, applied=1)
        assert cur.execute("SELECT count(*) FROM views WHERE bid = 'same'").fetchone() == (2,)
    finally:
        store.close()
