"""The group-commit HitWriter on a real DuckDB file: batching, ordering, durability on stop."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb
import pytest

from medama_py.errors import ServiceUnavailable
from medama_py.model import EventRows
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.hit_batches import DURATION_SLACK, WriteItem
from medama_py.storage.row_check import RowRefused
from medama_py.storage.writer import CheckpointPolicy, HitWriter
from tests.support.live import PATIENT_READS_S, writer_thread_held
from tests.support.rows import count_views, make_view_row

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

NOW = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> AnalyticsStore:
    store = AnalyticsStore(str(tmp_path / "analytics.db"))
    store.open()
    return store


@pytest.fixture
async def writer(store: AnalyticsStore) -> AsyncIterator[HitWriter]:
    writer = HitWriter(store, max_batch=50, max_delay_ms=1, read_wait_s=PATIENT_READS_S)
    await writer.start()
    yield writer
    await writer.stop()
    store.close()


async def test_views_are_committed_in_batches(store: AnalyticsStore, writer: HitWriter) -> None:
    await asyncio.gather(*(writer.add_view(make_view_row(bid=f"b{i}")) for i in range(500)))
    assert 10 <= writer.stats.journaled < 500
    await writer.settled()
    assert 1 <= writer.stats.batches <= writer.stats.journaled  # the applier may take several records at once
    count = await store.read(lambda cur: cur.execute("SELECT count(*) FROM views").fetchone())
    assert count == (500,)


async def test_every_column_is_stored(store: AnalyticsStore, writer: HitWriter) -> None:
    view = make_view_row(
        bid="bid-1",
        pathname="/x",
        is_unique_user=True,
        is_unique_page=False,
        referrer_host="www.google.com",
        referrer_group="Google",
        country="Türkiye",
        language_base="English",
        language_dialect="British English",
        ua_browser="Firefox",
        ua_os="Linux",
        ua_device_type="Desktop",
        utm_source="ü",
        utm_medium="m",
        utm_campaign="c",
        date_created=NOW,
    )
    await writer.add_view(view, EventRows("event_x", "example.com", "bid-1", (("k", "v"), ("n", "1")), NOW))
    rows = await store.read(lambda cur: cur.execute("SELECT * FROM views").fetchall())
    assert rows == [
        ("bid-1", "example.com", "/x", True, False, "www.google.com", "Google", "Türkiye", "English",
         "British English", "Firefox", "Linux", "Desktop", "ü", "m", "c", None, NOW),
    ]  # fmt: skip
    events = await store.read(lambda cur: cur.execute("SELECT * FROM events ORDER BY name").fetchall())
    assert events == [
        ("event_x", "example.com", "k", "v", NOW, "bid-1"),
        ("event_x", "example.com", "n", "1", NOW, "bid-1"),
    ]


async def test_duration_updates_every_view_with_the_bid_and_last_wins(store: AnalyticsStore, writer: HitWriter) -> None:
    await writer.add_view(make_view_row(bid="same"))
    await writer.add_view(make_view_row(bid="same"))
    await asyncio.gather(writer.set_duration("same", 10), writer.set_duration("same", 20))
    await writer.set_duration("unknown-bid", 5)  # a silent no-op
    rows = await store.read(lambda cur: cur.execute("SELECT duration_ms FROM views").fetchall())
    assert rows == [(20,), (20,)]


async def test_a_timed_duration_searches_only_views_stored_within_it_and_the_slack(
    store: AnalyticsStore, writer: HitWriter
) -> None:
    # An unload at NOW for a page open 30 s: its view was stored at most 30 s + DURATION_SLACK before.
    inside = NOW - timedelta(seconds=30) - DURATION_SLACK
    await writer.add_view(make_view_row(bid="b", pathname="/old", date_created=inside - timedelta(seconds=1)))
    await writer.add_view(make_view_row(bid="b", pathname="/edge", date_created=inside))
    await writer.add_view(make_view_row(bid="b", pathname="/new", date_created=NOW - timedelta(seconds=30)))
    await writer.add_view(make_view_row(bid="other", pathname="/other", date_created=NOW))
    await asyncio.gather(writer.set_duration("b", 30_000, at=NOW), writer.set_duration("unknown", 5, at=NOW))
    rows = await store.read(lambda cur: cur.execute("SELECT pathname, duration_ms FROM views ORDER BY 1").fetchall())
    assert rows == [("/edge", 30_000), ("/new", 30_000), ("/old", None), ("/other", None)]
    # Without a time (an older caller), the bid is still looked up in every view.
    await writer.set_duration("b", 40_000)
    durations = await store.read(
        lambda cur: cur.execute("SELECT DISTINCT duration_ms FROM views WHERE bid = 'b'").fetchall()
    )
    assert durations == [(40_000,)]


async def test_timed_and_untimed_durations_of_one_batch_each_apply(store: AnalyticsStore, writer: HitWriter) -> None:
    await writer.add_view(make_view_row(bid="timed", date_created=NOW))
    await writer.add_view(make_view_row(bid="untimed", date_created=NOW - timedelta(days=400)))
    await asyncio.gather(writer.set_duration("timed", 1_000, at=NOW), writer.set_duration("untimed", 2_000))
    rows = await store.read(lambda cur: cur.execute("SELECT bid, duration_ms FROM views ORDER BY 1").fetchall())
    assert rows == [("timed", 1_000), ("untimed", 2_000)]


async def test_load_and_unload_in_one_batch_apply_in_order(store: AnalyticsStore, writer: HitWriter) -> None:
    await asyncio.gather(writer.add_view(make_view_row(bid="b")), writer.set_duration("b", 7))
    rows = await store.read(lambda cur: cur.execute("SELECT duration_ms FROM views").fetchall())
    assert rows == [(7,)]


async def test_custom_events(store: AnalyticsStore, writer: HitWriter) -> None:
    await writer.add_events(EventRows("event_y", "example.com", "", (("click", "true"),), NOW))
    rows = await store.read(lambda cur: cur.execute("SELECT batch_id, bid, name, value FROM events").fetchall())
    assert rows == [("event_y", "", "click", "true")]


async def test_a_failing_item_fails_alone(store: AnalyticsStore, writer: HitWriter) -> None:
    bad = make_view_row(bid="bad", ua_browser=None)  # violates NOT NULL: refused before the journal
    results = await asyncio.gather(
        writer.add_view(make_view_row(bid="good1")), writer.add_view(bad), writer.add_view(make_view_row(bid="good2")),
        return_exceptions=True,
    )  # fmt: skip
    assert results[0] is None
    assert isinstance(results[1], RowRefused)
    assert "ua_browser" in str(results[1])
    assert results[2] is None
    rows = await store.read(lambda cur: cur.execute("SELECT bid FROM views ORDER BY bid").fetchall())
    assert rows == [("good1",), ("good2",)]


async def test_a_row_duckdb_refuses_after_the_answer_is_set_aside_alone(
    store: AnalyticsStore, writer: HitWriter, caplog: pytest.LogCaptureFixture
) -> None:
    # A value of the wrong type passes the NOT NULL check and fails only in DuckDB, after the acknowledgement.
    bad = make_view_row(bid="bad", date_created="not a time")
    await asyncio.gather(writer.add_view(make_view_row(bid="good1")), writer.add_view(bad))
    await writer.add_view(make_view_row(bid="good2"))
    rows = await store.read(lambda cur: cur.execute("SELECT bid FROM views ORDER BY bid").fetchall())
    assert rows == [("good1",), ("good2",)]
    assert writer.stats.rejected == 1
    assert "'bad'" in caplog.text


async def test_stop_flushes_pending_and_refuses_new_work(tmp_path: Path) -> None:
    store = AnalyticsStore(str(tmp_path / "a.db"))
    store.open()
    writer = HitWriter(store, max_batch=10_000, max_delay_ms=10_000)  # nothing closes a batch but stop()
    await writer.start()
    pending = [asyncio.ensure_future(writer.add_view(make_view_row(bid=f"b{i}"))) for i in range(100)]
    await asyncio.sleep(0)
    await writer.stop()
    await asyncio.gather(*pending)
    with pytest.raises(RuntimeError):
        await writer.add_view(make_view_row(bid="late"))
    store.close()
    with duckdb.connect(str(tmp_path / "a.db")) as conn:
        assert conn.execute("SELECT count(*) FROM views").fetchone() == (100,)


def test_rejects_nonsense_tuning(store: AnalyticsStore) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        HitWriter(store, max_batch=0)
    with pytest.raises(ValueError, match="max_pending"):
        HitWriter(store, max_pending=0)
    store.close()


async def _wait_for(condition: Callable[[], bool], seconds: float = 3) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


# A policy that never checkpoints; each test turns on the one rule it checks.
NEVER = CheckpointPolicy(wal_bytes=1 << 40, interval_seconds=3600, quiet_seconds=3600, quiet_bytes=1 << 40)


@contextlib.asynccontextmanager
async def writer_with(store: AnalyticsStore, policy: CheckpointPolicy, batch: int = 50) -> AsyncIterator[HitWriter]:
    writer = HitWriter(store, max_batch=batch, max_delay_ms=1, checkpoints=policy, read_wait_s=PATIENT_READS_S)
    await writer.start()
    try:
        yield writer
    finally:
        await writer.stop()
        store.close()


async def test_a_quiet_spell_folds_the_wal_into_the_file(store: AnalyticsStore) -> None:
    async with writer_with(store, replace(NEVER, quiet_seconds=0.05, quiet_bytes=1)) as writer:
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"q{i}")) for i in range(200)))
        # Only a WAL with something in it is checkpointed (test_checkpoint_policy_rules), so a checkpoint under this
        # policy is a quiet spell's. Under load a spell can come between two applies of these 200 (acknowledged once
        # journaled), folding only the first; once all are applied, the next spell folds the rest.
        await writer.settled(timeout=30)
        assert await _wait_for(lambda: writer.stats.checkpoints >= 1 and store.wal_bytes() == 0, seconds=10)
        # Hits after the checkpoint are committed as usual, and nothing was lost.
        await writer.add_view(make_view_row(bid="after"))
        count = await store.read(lambda cur: cur.execute("SELECT count(*) FROM views").fetchone())
        assert count == (201,)


async def test_small_wal_and_recent_checkpoint_wait_for_a_quiet_spell(store: AnalyticsStore) -> None:
    # Below every threshold nothing is checkpointed, however long the pause.
    async with writer_with(store, replace(NEVER, quiet_seconds=0.01)) as writer:
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"b{i}")) for i in range(100)))
        await writer.settled(timeout=30)  # acknowledged once journaled: wait until DuckDB holds them
        await asyncio.sleep(0.1)
        assert writer.stats.checkpoints == 0
        assert store.wal_bytes() > 0


async def test_continuous_traffic_is_checkpointed_by_wal_size(store: AnalyticsStore) -> None:
    # Hits never pause, so no quiet spell ever comes: the size rule alone must keep the WAL small.
    largest_wal = 0
    async with writer_with(store, replace(NEVER, wal_bytes=64 * 1024), batch=100) as writer:
        for round_ in range(40):
            await asyncio.gather(*(writer.add_view(make_view_row(bid=f"c{round_}-{i}")) for i in range(250)))
            # Each round applied before the next: a lagging apply task would merge rounds into one transaction
            # larger than the bound below, which is about one batch past the threshold.
            await writer.settled(timeout=30)
            largest_wal = max(largest_wal, store.wal_bytes())
        assert writer.stats.checkpoints >= 3
        assert writer.stats.longest_checkpoint_ms > 0
        # One batch can take the WAL past the threshold before the check that follows it.
        assert largest_wal < 64 * 1024 + 256 * 1024
        count = await store.read(lambda cur: cur.execute("SELECT count(*) FROM views").fetchone())
        assert count == (10_000,)


async def test_an_old_wal_is_checkpointed_by_age(store: AnalyticsStore) -> None:
    async with writer_with(store, replace(NEVER, interval_seconds=0.2)) as writer:
        await writer.add_view(make_view_row(bid="lonely"))
        # Every other rule is off, so a checkpoint is the age rule's (whether or not it came before this line).
        assert await _wait_for(lambda: writer.stats.checkpoints >= 1)
        assert store.wal_bytes() == 0


def test_checkpoint_policy_rules() -> None:
    policy = CheckpointPolicy(wal_bytes=1000, interval_seconds=10)
    assert policy.due(1000, 0)
    assert not policy.due(999, 9.9)
    assert policy.due(1, 10)
    assert not policy.due(0, 1000)  # nothing to fold in


async def test_a_full_backlog_refuses_instead_of_growing(store: AnalyticsStore) -> None:
    writer = HitWriter(store, max_batch=2, max_delay_ms=0, max_pending=3, read_wait_s=PATIENT_READS_S)
    await writer.start()
    try:
        async with writer_thread_held(store):  # a real stall of the database: its thread busy with something slow
            # Acknowledged once journaled, although the database is stuck: they wait in the journal.
            await asyncio.gather(*(writer.add_view(make_view_row(bid=f"journaled-{i}")) for i in range(3)))
            assert writer.pending == 3
            with pytest.raises(ServiceUnavailable) as refused:
                writer.add_view(make_view_row(bid="refused"))
            assert refused.value.status_code == 503
            assert refused.value.retry_after is not None
            assert writer.stats.refused == 1
        rows = await store.read(lambda cur: cur.execute("SELECT bid FROM views ORDER BY bid").fetchall())
        assert [bid for (bid,) in rows] == ["journaled-0", "journaled-1", "journaled-2"]
        assert writer.pending == 0
        await writer.add_view(make_view_row(bid="later"))  # accepted again once the backlog is applied
    finally:
        await writer.stop()
        store.close()


async def test_a_refused_checkpoint_never_holds_up_hits(store: AnalyticsStore) -> None:
    # DuckDB refuses CHECKPOINT while another connection has an update open (appends alone it allows).
    other = store.cursor()
    other.execute("INSERT INTO events VALUES ('e', 'example.com', 'k', 'v', now(), 'b')")
    other.begin()
    other.execute("UPDATE events SET value = 'w'")
    async with writer_with(store, replace(NEVER, wal_bytes=1)) as writer:
        for i in range(5):
            await writer.add_view(make_view_row(bid=f"r{i}"))  # each commit is followed by a (failing) attempt
        await writer.settled(timeout=30)
        assert writer.stats.checkpoints == 0
        assert store.wal_bytes() > 0
        other.rollback()
        await asyncio.sleep(1.1)  # past the retry pause
        await writer.add_view(make_view_row(bid="after"))
        assert await _wait_for(lambda: writer.stats.checkpoints >= 1)
        count = await store.read(lambda cur: cur.execute("SELECT count(*) FROM views").fetchone())
        assert count == (6,)


async def test_a_null_in_any_required_column_is_found(store: AnalyticsStore, writer: HitWriter) -> None:
    check = writer._check
    assert check is not None
    assert check.problem(WriteItem(events=EventRows("event_y", "example.com", "", (("click", "true"),), NOW))) is None
    refused = check.problem(WriteItem(events=EventRows("event_y", "example.com", "", (("click", None),), NOW)))  # type: ignore[arg-type]
    assert isinstance(refused, RowRefused)
    for field in ("hostname", "date_created"):
        assert isinstance(check.problem(WriteItem(view=make_view_row(**{field: None}))), RowRefused), field
    assert check.problem(WriteItem(view=make_view_row())) is None


async def test_under_steady_traffic_hits_gather_until_a_read_or_the_stop_wants_them(store: AnalyticsStore) -> None:
    # A gathering window no test outlasts: only the rule's own triggers can start the next transaction.
    writer = HitWriter(
        store, max_batch=500, max_delay_ms=1, gather_ms=60_000, gather_items=1_000, read_wait_s=PATIENT_READS_S
    )
    await writer.start()
    try:
        # One transaction of 100 hits: steady traffic (64 or more) ...
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"a{i}")) for i in range(100)))
        assert await store.read(count_views) == 100
        # ... so the next hits, acknowledged once journaled, gather instead of being applied one by one.
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"b{i}")) for i in range(10)))
        await asyncio.sleep(0.3)
        assert writer.pending == 10
        assert await store.read(count_views, settled=False) == 100
        # A read that waits for them has them applied at once.
        assert await store.read(count_views) == 110
        # That transaction was small (a trickle's): the next 100 go at once, and the 10 after them gather again ...
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"c{i}")) for i in range(100)))
        for _ in range(1_000):  # applied without a read asking, well inside the 60-s window
            if writer.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert writer.pending == 0
        assert await store.read(count_views, settled=False) == 210
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"d{i}")) for i in range(10)))
        await asyncio.sleep(0.3)
        assert writer.pending == 10
    finally:
        await writer.stop()  # ... until the stop applies them
    assert await store.read(count_views, settled=False) == 220
    store.close()
