"""The hit journal on real files: torn records, segments, and a restart that replays exactly the unapplied tail."""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from medama_py.model import EventRows
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.hit_batches import (
    Appenders,
    Batch,
    WriteItem,
    apply_batch,
    batch_from_payload,
    batch_payload,
    merge_batches,
    prepare_batch,
)
from medama_py.storage.journal import (
    SLOW_FLUSH_S,
    START,
    FlushStats,
    InDoubt,
    Journal,
    Position,
    decode_payload,
    encode_payload,
)
from tests.support.crash import restart, restart_writer, stored_bids
from tests.support.live import live_writer, writer_thread_held
from tests.support.rows import make_view_row

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from medama_py.storage.writer import HitWriter


NOW = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.log"))


def test_records_come_back_in_order_past_the_applied_position(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j")
    assert journal.open(START) == []
    ends = [journal.append(f"record {i}".encode()) for i in range(3)]
    journal.close()
    again = Journal(tmp_path / "j")
    assert [r.payload for r in again.open(START)] == [b"record 0", b"record 1", b"record 2"]
    again.close()
    third = Journal(tmp_path / "j")
    assert [(r.end, r.payload) for r in third.open(ends[0])] == [(ends[1], b"record 1"), (ends[2], b"record 2")]
    third.close()


class SteppingClock:
    """A monotonic clock that a test moves: each record's fdatasync "takes" the next of `flushes` seconds."""

    def __init__(self, flushes: list[float]) -> None:
        self.now = 1000.0
        self._flushes = flushes
        self._started = False

    def __call__(self) -> float:
        # Read twice per record, before and after its fdatasync; the after reading adds that record's duration.
        if self._started:
            self.now += self._flushes.pop(0)
        self._started = not self._started
        return self.now


def test_slow_flushes_are_counted_and_the_slowest_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    durations = [0.001, SLOW_FLUSH_S + 0.05, 0.002, 1.5, 2.5, 0.004]
    clock = SteppingClock(list(durations))
    journal = Journal(tmp_path / "j", clock=clock)
    journal.open(START)
    with caplog.at_level("WARNING", logger="medama_py.storage.journal"):
        for i in range(len(durations)):
            journal.append(f"record {i}".encode())
            if i == 4:
                clock.now += 61  # a minute later: a slow flush may warn again
    journal.close()
    assert journal.flushes == FlushStats(flushes=6, slow=3, slowest_s=journal.flushes.slowest_s)
    assert journal.flushes.slowest_s == pytest.approx(2.5)
    # Flushes of a second or more are logged, at most one warning a minute: the 1.5 s one, not the 2.5 s one
    # right after it (same minute).
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["the disk took 1.5 s to flush the hit journal; the hits of that record waited for it"
                        " (2 of 4 flushes over 0.25 s since start)"]  # fmt: skip
    # Records are as they would be with a real clock.
    assert [r.payload for r in Journal(tmp_path / "j").open(START)] == [f"record {i}".encode() for i in range(6)]


@pytest.mark.parametrize("damage", ["cut short", "bit flipped", "header only"])
def test_a_torn_last_record_ends_its_segment(tmp_path: Path, damage: str) -> None:
    journal = Journal(tmp_path / "j")
    journal.open(START)
    journal.append(b"first")
    second = journal.append(b"second, acknowledged")
    third = journal.append(b"third, its fsync never returned")
    journal.close()
    segment = _segments(tmp_path / "j")[-1]
    data = bytearray(segment.read_bytes())
    # What a crash leaves of a record being written: part of it over the segment's zeros.
    if damage == "cut short":
        data[third.offset - 3 : third.offset] = bytes(3)
    elif damage == "bit flipped":
        data[third.offset - 1] ^= 1
    else:
        data[second.offset + 7 :] = bytes(len(data) - second.offset - 7)
    segment.write_bytes(data)
    again = Journal(tmp_path / "j")
    assert [r.payload for r in again.open(START)] == [b"first", b"second, acknowledged"]
    # Later records go to a new segment, never behind the damaged bytes.
    assert again.append(b"after").segment > int(segment.stem)
    again.close()
    assert [r.payload for r in Journal(tmp_path / "j").open(START)] == [b"first", b"second, acknowledged", b"after"]


def test_records_overwrite_a_segment_zero_filled_ahead(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A record's fdatasync then flushes its bytes alone, never the file's size (storage/journal.py).
    journal = Journal(tmp_path / "j", segment_bytes=4096)
    journal.open(START)
    first = journal.append(b"a" * 1000)
    segment = _segments(tmp_path / "j")[0]
    assert segment.stat().st_size == 4096
    ends = [journal.append(b"b" * 1000) for _ in range(4)]
    assert segment.stat().st_size == 4096  # written in place, never grown
    # Four records of 1,012 bytes fill 4,048 of the 4,096; the fifth goes to the next segment, also zero-filled.
    assert [end.segment for end in ends] == [first.segment] * 3 + [first.segment + 1]
    assert [p.stat().st_size for p in _segments(tmp_path / "j")] == [4096, 4096]
    big = journal.append(b"c" * 5000)  # larger than a segment: a segment of its own, grown for it
    journal.close()
    assert (tmp_path / "j" / "next.zero").exists() is False
    records = Journal(tmp_path / "j").open(START)
    assert [r.payload for r in records] == [b"a" * 1000, *[b"b" * 1000] * 4, b"c" * 5000]
    assert records[-1].end == big
    assert "never acknowledged" not in caplog.text  # the zeros after the last record are no torn record


def test_segments_rotate_and_applied_ones_are_deleted(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j", segment_bytes=100)
    journal.open(START)
    ends = [journal.append(b"x" * 60) for _ in range(5)]
    assert len({end.segment for end in ends}) >= 3
    journal.release(ends[2])
    remaining = [int(p.stem) for p in _segments(tmp_path / "j")]
    assert min(remaining) == ends[2].segment
    journal.close(applied=ends[-1])  # a clean stop with everything applied leaves no segment
    assert _segments(tmp_path / "j") == []
    # A new segment is numbered past the applied position even when the files are gone (a restored backup).
    fresh = Journal(tmp_path / "j")
    fresh.open(Position(ends[-1].segment + 5, 10))
    assert fresh.append(b"y").segment == ends[-1].segment + 6
    fresh.close()


def test_a_record_may_hold_only_row_values(tmp_path: Path) -> None:
    views = [("bid", "example.com", "/", True, False, None, 12, 1.5, NOW)]
    assert decode_payload(encode_payload((1, 1, views))) == (1, 1, views)
    with pytest.raises(pickle.UnpicklingError, match="may not hold"):
        decode_payload(pickle.dumps(tmp_path))  # any class but the date and time types is refused


def test_a_batch_survives_the_journal_unchanged() -> None:
    items = [
        WriteItem(
            view=make_view_row(bid="b1", date_created=NOW), events=EventRows("e", "x.com", "b1", (("k", "v"),), NOW)
        ),
        WriteItem(duration=("b0", 1234), duration_at=NOW),
        WriteItem(duration=("b9", 5)),
    ]
    batch = prepare_batch(items)
    back = batch_from_payload(Position(1, 2), decode_payload(encode_payload(batch_payload(batch, len(items)))))
    assert (back.end, back.batch, back.items) == (Position(1, 2), batch, 3)


# --- a restart after a crash, with the files as they were at the crash --------------------------------------


def _crash_copy(source: Path, target: Path) -> Path:
    """The data directory's files as a kill -9 at this moment leaves them (DuckDB file, its WAL, the journal)."""
    shutil.copytree(source, target)
    return target / "analytics.db"


@contextlib.asynccontextmanager
async def _live_writer(directory: Path, max_batch: int) -> AsyncIterator[tuple[AnalyticsStore, HitWriter]]:
    directory.mkdir()
    async with live_writer(directory / "analytics.db", max_batch=max_batch, max_delay_ms=0) as running:
        yield running


async def test_a_crash_while_the_database_is_stuck_loses_no_acknowledged_hit(tmp_path: Path) -> None:
    live = tmp_path / "live"
    async with _live_writer(live, max_batch=5) as (store, writer):
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"applied{i}")) for i in range(20)))
        await writer.settled()
        async with writer_thread_held(store):  # an endless checkpoint, say
            await asyncio.gather(*(writer.add_view(make_view_row(bid=f"journaled{i}")) for i in range(30)))
            assert writer.pending == 30  # acknowledged, not yet in DuckDB
            crashed = _crash_copy(live, tmp_path / "crashed")
    assert set(stored_bids(crashed)) == {f"applied{i}" for i in range(20)}  # what DuckDB alone holds
    # Torn bytes of a record being written at the crash: never acknowledged, ignored.
    last = _segments(crashed.parent / "analytics.db.journal")[-1]
    last.write_bytes(last.read_bytes() + b"MHJ1\x40\x00\x00\x00partial")
    stored = await restart_writer(crashed)
    expected = {f"applied{i}" for i in range(20)} | {f"journaled{i}" for i in range(30)}
    assert stored == Counter(dict.fromkeys(expected, 1))
    assert await restart_writer(crashed) == stored  # a second restart replays nothing twice


async def test_records_applied_before_the_crash_are_not_replayed(tmp_path: Path) -> None:
    live = tmp_path / "live"
    async with _live_writer(live, max_batch=3) as (_store, writer):
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"v{i}")) for i in range(12)))
        await writer.set_duration("v1", 700, at=NOW)
        await writer.settled()
        assert list((live / "analytics.db.journal").glob("*.log"))  # the applied records are still there
        crashed = _crash_copy(live, tmp_path / "crashed")
    assert await restart_writer(crashed) == Counter({f"v{i}": 1 for i in range(12)})


# --- the in-doubt mark: records whose COMMIT raised, checked at the next start ----------------------------


def test_the_in_doubt_mark_widens_and_goes_once_its_records_are_applied(tmp_path: Path) -> None:
    doubt = InDoubt(tmp_path)
    assert doubt.read() is None
    doubt.mark(Position(1, 500), Position(1, 900))
    doubt.mark(Position(1, 100), Position(1, 700))  # the failed check of earlier records, say
    assert InDoubt(tmp_path).read() == (Position(1, 100), Position(1, 900))
    doubt.clear(Position(1, 700))
    assert doubt.read() == (Position(1, 100), Position(1, 900))  # not every record it names is applied yet
    doubt.clear(Position(2, 0))
    assert doubt.read() is None
    doubt.mark(Position(1, 100), Position(1, 900))
    doubt.mark(Position(1, 300), Position(1, 400), widen=False)
    assert doubt.read() == (Position(1, 300), Position(1, 400))


async def test_a_damaged_mark_has_every_record_on_disk_checked_once(tmp_path: Path) -> None:
    live = tmp_path / "live"
    async with _live_writer(live, max_batch=3) as (_store, writer):
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"v{i}")) for i in range(12)))
        await writer.settled()
        crashed = _crash_copy(live, tmp_path / "crashed")
    mark = crashed.parent / "analytics.db.journal" / InDoubt.NAME
    mark.write_text("not a position")
    stats = await restart(crashed)
    assert stats.checked >= 1
    assert stats.checked_rows_applied == 0  # every row was held: DuckDB's position was right this time
    assert stored_bids(crashed) == Counter({f"v{i}": 1 for i in range(12)})
    assert not mark.exists()
    assert (await restart(crashed)).checked == 0


async def test_a_mark_naming_records_no_longer_on_disk_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "analytics.db"
    async with live_writer(path, max_batch=3, max_delay_ms=0) as (_store, writer):
        await asyncio.gather(*(writer.add_view(make_view_row(bid=f"v{i}")) for i in range(6)))
    # A clean stop deleted the applied segments; a mark left from before them names nothing to check.
    InDoubt(tmp_path / "analytics.db.journal").mark(START, Position(1, 10))
    stats = await restart(path)
    assert (stats.checked, stats.batches) == (0, 0)
    assert InDoubt(tmp_path / "analytics.db.journal").read() is None
    assert stored_bids(path) == Counter({f"v{i}": 1 for i in range(6)})


# --- several journaled batches applied as one transaction -------------------------------------------------

_T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _sequence() -> list[list[WriteItem]]:
    """Batches as they arrive: loads, then unloads of the same bids in later batches, one bid unloaded twice."""
    minute = timedelta(minutes=1)
    return [
        [WriteItem(make_view_row(bid=f"m{i}", date_created=_T0 + i * minute)) for i in range(4)],
        [WriteItem(duration=("m0", 100)), WriteItem(duration=("m1", 200), duration_at=_T0 + 2 * minute)],
        [WriteItem(duration=("m0", 300), duration_at=_T0 + minute / 2), WriteItem(duration=("m2", 5))],
        [
            WriteItem(make_view_row(bid="m4", date_created=_T0 + 6 * minute)),
            WriteItem(duration=("m1", 250)),
            WriteItem(duration=("m2", 9), duration_at=_T0 + 10 * minute),  # its window misses m2: stays 5
            WriteItem(duration=("m3", 7), duration_at=_T0 + 3 * minute),
        ],
        [WriteItem(events=EventRows("e", "example.com", "m4", (("k", "v"),), _T0))],
    ]


def _applied(path: Path, batches: list[Batch]) -> list[tuple[object, ...]]:
    store = AnalyticsStore(str(path))
    store.open()
    try:
        cur = store.cursor()
        appenders = Appenders(cur)
        for batch in batches:
            apply_batch(cur, appenders, batch)
        views = cur.execute("SELECT bid, duration_ms FROM views ORDER BY bid").fetchall()
        events = cur.execute("SELECT bid, name, value FROM events").fetchall()
        return [*views, *events]
    finally:
        store.close()


def test_merged_batches_store_what_one_after_another_store(tmp_path: Path) -> None:
    batches = [prepare_batch(items) for items in _sequence()]
    one_by_one = _applied(tmp_path / "sequential.db", batches)
    assert _applied(tmp_path / "merged.db", [merge_batches(batches)]) == one_by_one
    assert one_by_one[:5] == [("m0", 300), ("m1", 250), ("m2", 5), ("m3", 7), ("m4", None)]
