"""Retention: "keep data for N months" deletes older analytics rows, in small batches, once a day.

Each batch is one short transaction on the hit writer's thread, so hits wait at most one batch (a few
milliseconds), never the whole purge; a checkpoint then folds the deletions into the file
(docs/data.md#retention). The setting lives in `tenant_settings` as `retention_months` ("0": forever).
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import logging
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import duckdb

    from medama_py.storage.analytics import AnalyticsStore
    from medama_py.storage.meta import MetaStore

__all__ = [
    "RETENTION_TABLES",
    "cutoff_for",
    "delete_batch",
    "oldest_row",
    "purge_older_than",
    "run_retention_daily",
]

log = logging.getLogger("medama_py")

# Every analytics table with its timestamp column; events before views so a page view's events never outlive it.
RETENTION_TABLES: tuple[str, ...] = ("events", "umami_event_data", "umami_session_data", "umami_hits", "views")
BATCH_ROWS = 20_000
DAY = dt.timedelta(days=1)
FIRST_RUN_DELAY = dt.timedelta(minutes=1)  # after start-up, when the server has settled


def cutoff_for(now: dt.datetime, months: int) -> dt.datetime:
    """The same instant `months` calendar months earlier (the day clamped to the month's length), in UTC."""
    now = now.astimezone(dt.UTC)
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def delete_batch(cur: duckdb.DuckDBPyConnection, table: str, cutoff: dt.datetime) -> int:
    """Delete at most BATCH_ROWS rows of `table` created before `cutoff`; return how many went."""
    if table not in RETENTION_TABLES:
        raise ValueError(table)
    # `table` is one of the fixed names above; the cutoff and the batch size are bound.
    row = cur.execute(
        f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE date_created < ? LIMIT ?)",  # noqa: S608
        [cutoff, BATCH_ROWS],
    ).fetchone()
    return int(row[0]) if row else 0


def oldest_row(cur: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """The oldest page view kept, or None when there is none."""
    row = cur.execute("SELECT min(date_created) FROM views").fetchone()
    return row[0] if row and row[0] is not None else None


async def purge_older_than(analytics: AnalyticsStore, cutoff: dt.datetime) -> int:
    """Delete every row created before `cutoff`, batch by batch through the writer; then checkpoint once."""
    deleted = 0
    for table in RETENTION_TABLES:
        while True:
            count = await analytics.write(partial(delete_batch, table=table, cutoff=cutoff))
            deleted += count
            if count < BATCH_ROWS:
                break
    if deleted:
        await analytics.write(lambda cur: cur.execute("CHECKPOINT"))
    return deleted


async def retention_pass(meta: MetaStore, analytics: AnalyticsStore, now: dt.datetime) -> int:
    """Apply the stored setting once; return the rows deleted (0 when data is kept forever)."""
    months = int((await meta.get_settings()).retention_months or "0")
    if months <= 0:
        return 0
    cutoff = cutoff_for(now, months)
    deleted = await purge_older_than(analytics, cutoff)
    log.info("retention applied", extra={"months": months, "cutoff": cutoff.isoformat(), "deleted": deleted})
    return deleted


async def run_retention_daily(
    meta: MetaStore,
    analytics: AnalyticsStore,
    clock: Callable[[], dt.datetime],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Forever: a pass shortly after start-up, then one a day. A failed pass is logged and tried the next day."""
    await sleep(FIRST_RUN_DELAY.total_seconds())
    while True:
        try:
            await retention_pass(meta, analytics, clock())
        except Exception:
            log.exception("retention pass failed; it runs again tomorrow")
        await sleep(DAY.total_seconds())
