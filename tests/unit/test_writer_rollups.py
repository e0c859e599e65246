"""The hit writer tells the rollups what each batch changes before it commits (storage/rollups.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import pytest

from medama_py.model import EventRows
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.rollups import Rollups, hour_of
from medama_py.storage.writer import HitWriter
from tests.support.live import PATIENT_READS_S
from tests.support.rows import make_view_row

if TYPE_CHECKING:
    import asyncio
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

HOUR0 = datetime(2024, 5, 3, 10, 0, tzinfo=UTC)
H = hour_of(HOUR0)


@pytest.fixture
async def built(tmp_path: Path) -> AsyncIterator[tuple[AnalyticsStore, HitWriter]]:
    """Two views in hours H and H+1 (bids b0, b1; an event on b0) with both hours built, the writer running."""
    store = AnalyticsStore(str(tmp_path / "analytics.db"))
    store.open()
    writer = HitWriter(store, max_batch=50, max_delay_ms=1, read_wait_s=PATIENT_READS_S)
    await writer.start()
    for n in range(2):
        await writer.add_view(make_view_row(bid=f"b{n}", date_created=HOUR0 + timedelta(hours=n, minutes=5)))
    await writer.add_events(EventRows("e0", "example.com", "b0", (("plan", "pro"),), HOUR0 + timedelta(minutes=6)))
    await writer.settled()  # acknowledged means journaled: the builds must come after the rows are in DuckDB
    rollups = store.rollups
    await store.write(partial(rollups.build, hostname="example.com", first=H, last=H + 1), noted=True)
    seen = await store.write(lambda _: rollups.props.begin_build(H + 1), noted=True)
    rows = await store.read(partial(rollups.props.compute, first=H, last=H + 1))
    await store.write(partial(rollups.props.install, first=H, last=H + 1, seen=seen, rows=rows), noted=True)
    yield store, writer
    await writer.stop()
    store.close()


async def usable(store: AnalyticsStore) -> tuple[list[int], list[int]]:
    views = await store.read(lambda cur: store.rollups.usable_hours(cur, "example.com", H, H + 1))
    events = await store.read(lambda cur: store.rollups.props.usable_hours(cur, H, H + 1))
    return views, events


async def test_everything_is_current_after_the_builds(built: tuple[AnalyticsStore, HitWriter]) -> None:
    assert await usable(built[0]) == ([H, H + 1], [H, H + 1])


async def test_a_duration_marks_the_hour_of_its_view(built: tuple[AnalyticsStore, HitWriter]) -> None:
    store, writer = built
    await writer.set_duration("b1", 3000)
    assert (await usable(store))[0] == [H]


async def test_a_recent_duration_marks_it_too(built: tuple[AnalyticsStore, HitWriter]) -> None:
    store, writer = built
    # b0's view is at 10:05; the unload's window (its arrival minus the duration and a minute) reaches it.
    await writer.set_duration("b0", 3000, at=HOUR0 + timedelta(minutes=6))
    assert (await usable(store))[0] == [H + 1]


async def test_a_duration_whose_window_misses_the_view_marks_nothing(built: tuple[AnalyticsStore, HitWriter]) -> None:
    store, writer = built
    # The window starts at 10:05:57, after b0's view: the update changes no row, so no hour is marked.
    await writer.set_duration("b0", 3000, at=HOUR0 + timedelta(minutes=7))
    assert (await usable(store))[0] == [H, H + 1]


async def test_a_late_view_marks_its_hour_and_the_events_of_its_bid(built: tuple[AnalyticsStore, HitWriter]) -> None:
    store, writer = built
    await writer.add_view(make_view_row(bid="b0", date_created=HOUR0 + timedelta(hours=1, minutes=30)))
    assert await usable(store) == ([H], [H + 1])


async def test_a_late_event_marks_its_hour(built: tuple[AnalyticsStore, HitWriter]) -> None:
    store, writer = built
    await writer.add_events(EventRows("e1", "example.com", "b1", (("plan", "x"),), HOUR0 + timedelta(hours=1)))
    assert (await usable(store))[1] == [H]


async def test_any_other_write_marks_everything(built: tuple[AnalyticsStore, HitWriter]) -> None:
    store, _ = built
    await store.write(lambda cur: cur.execute("DELETE FROM views WHERE bid = 'nothing'"))
    assert await usable(store) == ([], [])


async def test_writes_while_a_build_counts_leave_that_build_stale(built: tuple[AnalyticsStore, HitWriter]) -> None:
    """The job's way: a version on the writer thread, the counting on a reader, the install on the writer thread."""
    store, writer = built
    rollups = store.rollups
    writes: list[tuple[Callable[[], asyncio.Future[None]], list[int]]] = [
        # a late view into H; an unload of b1's view in H + 1
        (lambda: writer.add_view(make_view_row(bid="late", date_created=HOUR0 + timedelta(minutes=9))), [H + 1]),
        (lambda: writer.set_duration("b1", 4000, at=HOUR0 + timedelta(hours=1, minutes=6)), [H]),
    ]
    for write, current in writes:
        build = await store.write(partial(rollups.begin_build, hostname="example.com", first=H, last=H + 1), noted=True)
        await write()
        await writer.settled()
        build = await store.read(partial(Rollups.compute, build=build))
        await store.write(partial(rollups.install, build=build), noted=True)
        assert (await usable(store))[0] == current
        await store.write(partial(rollups.build, hostname="example.com", first=H, last=H + 1), noted=True)
        assert (await usable(store))[0] == [H, H + 1]
