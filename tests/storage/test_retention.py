"""Retention on real files: month arithmetic, batched deletes across a month boundary, the stored setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from medama_py.storage import retention
from medama_py.storage.retention import cutoff_for, oldest_row, retention_pass, run_retention_daily
from tests.support.rows import Event, insert_events, insert_views, make_view

if TYPE_CHECKING:
    from medama_py.storage.analytics import AnalyticsStore
    from medama_py.storage.meta import MetaStore

NOW = datetime(2024, 6, 1, 0, 30, tzinfo=UTC)  # just after a month boundary


@pytest.mark.parametrize(
    ("now", "months", "cutoff"),
    [
        (datetime(2024, 6, 1, 0, 30, tzinfo=UTC), 1, datetime(2024, 5, 1, 0, 30, tzinfo=UTC)),
        (datetime(2024, 3, 31, 12, tzinfo=UTC), 1, datetime(2024, 2, 29, 12, tzinfo=UTC)),  # leap February
        (datetime(2023, 3, 31, 12, tzinfo=UTC), 1, datetime(2023, 2, 28, 12, tzinfo=UTC)),
        (datetime(2024, 1, 15, tzinfo=UTC), 13, datetime(2022, 12, 15, tzinfo=UTC)),
        (datetime(2024, 1, 15, tzinfo=UTC), 0, datetime(2024, 1, 15, tzinfo=UTC)),
    ],
)
def test_cutoff_is_the_same_instant_n_calendar_months_earlier(now: datetime, months: int, cutoff: datetime) -> None:
    assert cutoff_for(now, months) == cutoff


def _seed(analytics: AnalyticsStore, moments: list[datetime]) -> None:
    """One view and one event of it at each moment."""
    views = [make_view(bid=f"b{i}", hostname="a.example", date_created=at) for i, at in enumerate(moments)]
    insert_views(analytics.conn, views)
    insert_events(
        analytics.conn, [Event(f"e{i}", "a.example", "plan", "pro", at, f"b{i}") for i, at in enumerate(moments)]
    )


async def test_a_pass_deletes_rows_older_than_the_setting_in_batches(
    analytics: AnalyticsStore, meta: MetaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH_ROWS", 3)  # several batches per table
    boundary = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
    old = [boundary - timedelta(minutes=m) for m in (1, 60, 60 * 24, 60 * 24 * 40, 60 * 24 * 400, 1, 2)]
    kept = [boundary, boundary + timedelta(seconds=1), NOW]
    _seed(analytics, old + kept)

    assert await retention_pass(meta, analytics, NOW) == 0  # default: forever
    assert analytics.conn.execute("SELECT count(*) FROM views").fetchone() == (10,)

    await meta.put_settings({"retention_months": "1"}, 0)
    assert await retention_pass(meta, analytics, NOW) == 2 * len(old)  # views and their events
    views = sorted(row[0] for row in analytics.conn.execute("SELECT date_created FROM views").fetchall())
    assert views == kept
    assert analytics.conn.execute("SELECT count(*) FROM events").fetchone() == (len(kept),)
    assert oldest_row(analytics.cursor()) == boundary
    assert await retention_pass(meta, analytics, NOW) == 0  # idempotent


async def test_the_daily_job_waits_runs_and_survives_a_failing_pass(analytics: AnalyticsStore, meta: MetaStore) -> None:
    _seed(analytics, [NOW - timedelta(days=100), NOW])
    await meta.put_settings({"retention_months": "2"}, 0)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise TimeoutError

    with pytest.raises(TimeoutError):
        await run_retention_daily(meta, analytics, lambda: NOW, sleep)
    assert waits == [60, 86400, 86400]
    assert analytics.conn.execute("SELECT count(*) FROM views").fetchone() == (1,)

    await meta.put_settings({"retention_months": "not a number"}, 0)  # a hand-edited file: logged, not fatal
    waits.clear()
    with pytest.raises(TimeoutError):
        await run_retention_daily(meta, analytics, lambda: NOW, sleep)
    assert waits == [60, 86400, 86400]
