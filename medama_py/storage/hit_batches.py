"""Batches of hits as rows, and how one batch is applied to DuckDB in a single transaction.

The writer (storage/writer.py) queues each request's `WriteItem`, closes a batch, turns it into plain rows in
column order here on the event loop (`prepare_batch`), journals them (`batch_payload`) and later hands them to
`apply_batch` on the store's writer thread: DuckDB appenders insert the views, events and Umami rows, and the
durations become updates of the views with their bid, which name the hours they changed to the rollups.
Several journaled batches can be merged into one transaction with the outcome of applying them one after
another (`merge_batches`); a row DuckDB refuses is set aside without losing the rest (`apply_refusing_rows`).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

from medama_py.storage.analytics_file import VIEWS_COLUMNS
from medama_py.storage.journal import record_applied
from medama_py.storage.umami_tables import UMAMI_DATA_COLUMNS, UMAMI_HIT_COLUMNS, UMAMI_SESSION_DATA_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from medama_py.model import EventRows, UmamiRows, ViewRow
    from medama_py.storage.journal import Position
    from medama_py.storage.rollups import Rollups

__all__ = [
    "DURATION_SLACK",
    "ROW_ERRORS",
    "TARGET_COLUMNS",
    "Appenders",
    "Batch",
    "Journaled",
    "Row",
    "UmamiBatch",
    "WriteItem",
    "apply_batch",
    "apply_refusing_rows",
    "batch_from_payload",
    "batch_payload",
    "merge_batches",
    "prepare_batch",
    "prepare_umami",
]

# What DuckDB says about a row it will never take (a bad value, a NULL where none is allowed): the row is set
# aside, not retried. Any other failure is retried, since the hits stay in the journal meanwhile.
ROW_ERRORS = (
    duckdb.ConstraintException,
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.TypeMismatchException,
    duckdb.OutOfRangeException,
    TypeError,
    ValueError,
)


class WriteItem(NamedTuple):
    """One request's writes: a view (with its load properties), custom events, a duration, Umami-only rows.

    A Umami hit may fill several at once (its view, the previous view's duration, its Umami rows): they
    always commit together. `duration_at` is when the duration was reported: with it, only the views stored
    since then minus the duration (and `DURATION_SLACK`) are searched for its bid; without it, every view.
    """

    view: ViewRow | None = None
    events: EventRows | None = None
    duration: tuple[str, int] | None = None
    umami: UmamiRows | None = None
    duration_at: datetime | None = None


class Journaled(NamedTuple):
    """A batch in the journal, acknowledged and not yet applied to DuckDB: where its record ends, its rows."""

    end: Position
    batch: Batch
    items: int


# Every views column but duration_ms, which stays NULL until an unload arrives.
_VIEW_COLUMNS = tuple(name for name in VIEWS_COLUMNS if name != "duration_ms")
# A view's values in that order, read in one C call (~0.8 us against ~1.0 for a generator of getattr calls).
_view_values = operator.attrgetter(*_VIEW_COLUMNS)
_EVENT_COLUMNS = ("batch_id", "group_name", "name", "value", "date_created", "bid")

Row = tuple[object, ...]

TARGET_COLUMNS = {
    "views": _VIEW_COLUMNS,
    "events": _EVENT_COLUMNS,
    "umami_hits": UMAMI_HIT_COLUMNS,
    "umami_event_data": UMAMI_DATA_COLUMNS,
    "umami_session_data": UMAMI_SESSION_DATA_COLUMNS,
}


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch as plain rows in column order, built on the event loop; the writer thread only runs DuckDB."""

    views: list[Row]
    events: list[Row]
    # (bid, duration_ms), the latest per bid: later unloads of a bid overwrite earlier ones, as separate
    # UPDATEs would. `durations` are looked up in every view; `recent_durations`, (bid, duration_ms, since),
    # only in the views stored since their own `since`, and `recent_since` (the earliest) lets DuckDB skip
    # every older row group.
    durations: list[Row]
    umami: UmamiBatch
    recent_durations: list[Row] = field(default_factory=list)
    recent_since: datetime | None = None


def prepare_batch(items: list[WriteItem]) -> Batch:
    """Turn a batch's items into the rows of each target, in column order."""
    views: list[Row] = [_view_values(item.view) for item in items if item.view is not None]
    events: list[Row] = [row for item in items if item.events is not None for row in item.events.rows()]
    durations = {item.duration[0]: (item.duration[1], item.duration_at) for item in items if item.duration is not None}
    anywhere: list[Row] = [(bid, ms) for bid, (ms, at) in durations.items() if at is None]
    windows = {bid: at - timedelta(milliseconds=ms) - DURATION_SLACK for bid, (ms, at) in durations.items() if at}
    recent: list[Row] = [(bid, durations[bid][0], since) for bid, since in windows.items()]
    since = min(windows.values(), default=None)
    return Batch(
        views,
        events,
        anywhere,
        prepare_umami(items),
        recent,
        since,
    )


@dataclass(frozen=True, slots=True)
class UmamiBatch:
    """The Umami-only rows of a batch (storage/umami_tables.py)."""

    hits: list[Row]
    data: list[Row]
    session_data: list[Row]


def prepare_umami(items: list[WriteItem]) -> UmamiBatch:
    rows = [item.umami for item in items if item.umami is not None]
    return UmamiBatch(
        [r.hit for r in rows if r.hit is not None],
        [data for r in rows for data in r.data],
        [data for r in rows for data in r.session_data],
    )


class Appenders:
    """DuckDB appenders of the write cursor, one per target, made once and reused by every batch.

    An appender converts the rows in C++ and inserts them with one statement at `flush` (the durations are
    UPDATE statements instead, see `apply_batch`). Appenders rather than Arrow tables: DuckDB reads an Arrow
    table by calling back into Python, and under load each call waits for the GIL (a contended batch took
    ~20% longer that way).
    """

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.views = cur.appender("views", columns=list(_VIEW_COLUMNS))
        self.events = cur.appender("events", columns=list(_EVENT_COLUMNS))
        self.umami_hits = cur.appender("umami_hits", columns=list(UMAMI_HIT_COLUMNS))
        self.umami_data = cur.appender("umami_event_data", columns=list(UMAMI_DATA_COLUMNS))
        self.umami_session_data = cur.appender("umami_session_data", columns=list(UMAMI_SESSION_DATA_COLUMNS))
        # Set when a COMMIT of `apply_batch` raised: DuckDB may have committed all of that transaction, none of it or
        # a part (storage/batch_check.py). A failure before the COMMIT is rolled back whole, so it leaves no doubt.
        self.commit_failed = False

    def clear(self) -> None:
        for appender in (
            self.views,
            self.events,
            self.umami_hits,
            self.umami_data,
            self.umami_session_data,
        ):
            appender.clear()


def apply_batch(
    cur: duckdb.DuckDBPyConnection,
    appenders: Appenders,
    batch: Batch,
    rollups: Rollups | None = None,
    applied: Position | None = None,
    *,
    keep: bool = True,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """Write a batch in one transaction: insert views, insert events, then apply durations.

    `rollups` is told which hours the batch changes (storage/rollups.py) before anyone can see it: the views'
    own hours first, then the hours of the views each duration update changed, as the update returns them.
    `applied`, the end of the batch's journal record, is recorded in the same transaction, so after a crash
    the batch is either in the database with its position or replayed from the journal, never both. Without
    `keep` the transaction is rolled back: a trial of whether DuckDB takes the rows. `before_commit` runs last
    inside the transaction (tests make DuckDB's COMMIT fail there, as it does under memory pressure).
    """
    targets = (
        (appenders.views, batch.views),
        (appenders.events, batch.events),
        (appenders.umami_hits, batch.umami.hits),
        (appenders.umami_data, batch.umami.data),
        (appenders.umami_session_data, batch.umami.session_data),
    )
    work = [(appender, rows) for appender, rows in targets if rows]
    if not work and not batch.durations and not batch.recent_durations and applied is None:
        return
    if rollups is not None:
        rollups.note_batch(batch.views, batch.events)
    cur.begin()
    try:
        for appender, rows in work:
            appender.append_rows(rows)
            appender.flush()
        changed = _update_durations(cur, batch)
        if rollups is not None and changed:
            rollups.note_updated(changed)
        if applied is not None:
            record_applied(cur, applied)
        if before_commit is not None:
            before_commit(cur)
    except BaseException:
        # A failed append keeps the rows before the bad one buffered: drop them with the transaction.
        appenders.clear()
        cur.rollback()
        raise
    if not keep:
        cur.rollback()
        return
    try:
        cur.commit()
    except BaseException:
        appenders.commit_failed = True
        raise


def apply_refusing_rows(
    cur: duckdb.DuckDBPyConnection, appenders: Appenders, batch: Batch, rollups: Rollups | None, applied: Position
) -> list[Row]:
    """Apply a journaled batch without the rows DuckDB refuses (each tried alone first); return those rows.

    The good rows and the journal position still commit together, so a crash meanwhile replays the batch whole.
    """
    lists = _row_lists(batch)
    refused: list[Row] = []
    for name, rows in lists.items():
        kept = []
        for row in rows:
            try:
                apply_batch(cur, appenders, _batch_of({name: [row]}, batch.recent_since), keep=False)
            except ROW_ERRORS:
                refused.append(row)
            else:
                kept.append(row)
        lists[name] = kept
    apply_batch(cur, appenders, _batch_of(lists, batch.recent_since), rollups, applied)
    return refused


def _row_lists(batch: Batch) -> dict[str, list[Row]]:
    return {
        "views": batch.views,
        "events": batch.events,
        "durations": batch.durations,
        "recent_durations": batch.recent_durations,
        "umami_hits": batch.umami.hits,
        "umami_data": batch.umami.data,
        "umami_session_data": batch.umami.session_data,
    }


def _batch_of(lists: dict[str, list[Row]], recent_since: datetime | None) -> Batch:
    def rows(name: str) -> list[Row]:
        return lists.get(name, [])

    umami = UmamiBatch(rows("umami_hits"), rows("umami_data"), rows("umami_session_data"))
    return Batch(rows("views"), rows("events"), rows("durations"), umami, rows("recent_durations"), recent_since)


def merge_batches(batches: list[Batch]) -> Batch:
    """Several journaled batches as one, applied in one transaction with the same outcome as one after another.

    Inserts keep their order. A bid's durations keep only what consecutive UPDATEs would leave: an update of
    every view (no arrival time) replaces all earlier ones of its bid; a time-bounded one replaces earlier
    time-bounded ones and runs after the untimed one, as `apply_batch` runs them. The time-bounded ones search
    from the earliest batch's window, as one batch's already do: a wider window only costs a longer scan.
    """
    anywhere: dict[object, object] = {}
    recent: dict[object, Row] = {}
    for batch in batches:
        for bid, ms in batch.durations:
            recent.pop(bid, None)
            anywhere[bid] = ms
        for row in batch.recent_durations:
            recent[row[0]] = row
    since = [batch.recent_since for batch in batches if batch.recent_since is not None]
    umami = UmamiBatch(
        [row for batch in batches for row in batch.umami.hits],
        [row for batch in batches for row in batch.umami.data],
        [row for batch in batches for row in batch.umami.session_data],
    )
    return Batch(
        [row for batch in batches for row in batch.views],
        [row for batch in batches for row in batch.events],
        list(anywhere.items()),
        umami,
        list(recent.values()),
        min(since) if since else None,
    )


_PAYLOAD_VERSION = 1


def batch_payload(batch: Batch, items: int) -> tuple[object, ...]:
    """What the journal stores of a batch: plain lists of row tuples, no classes of ours to rename later."""
    umami = batch.umami
    return (_PAYLOAD_VERSION, items, batch.views, batch.events, batch.durations, umami.hits, umami.data,
            umami.session_data, batch.recent_durations, batch.recent_since)  # fmt: skip


def batch_from_payload(end: Position, payload: Any) -> Journaled:
    """The journaled batch back from `batch_payload`'s tuple."""
    version, items, views, events, durations, hits, data, session_data, recent, since = payload
    if version != _PAYLOAD_VERSION:
        raise ValueError(f"journal record of unknown version {version!r}")
    return Journaled(end, Batch(views, events, durations, UmamiBatch(hits, data, session_data), recent, since), items)


# An unload reports how long its page was open, so its view was stored about `duration_ms` before it arrived;
# the slack covers the unload's delivery and clock adjustments on the visitor's side. Searching only that
# window lets DuckDB skip every older row group by its date_created bounds: the lookup by bid was a scan of the
# whole views table per batch (7 ms at 1.6M views and growing with the table, measured with the appender's
# keyed update), and it kept the bid column of every view in DuckDB's buffer pool.
DURATION_SLACK = timedelta(minutes=1)

# Each returns the (hostname, UTC hour) of every view it changed, for the rollups (storage/rollups.py): exactly
# the hours whose durations moved, with no lookup of bids afterwards.
_CHANGED = "RETURNING views.hostname, (epoch_us(views.date_created) // 3600000000)::INTEGER"
# Every view with the bid (a duration journaled without its arrival time, by an older version); a bid nobody
# loaded is a no-op.
_UPDATE_DURATIONS = f"""
UPDATE views SET duration_ms = u.duration_ms
FROM (SELECT unnest($bids::TEXT[]) AS bid, unnest($durations::BIGINT[]) AS duration_ms) AS u
WHERE views.bid = u.bid
{_CHANGED}"""  # noqa: S608 (only code)
_UPDATE_RECENT_DURATIONS = f"""
UPDATE views SET duration_ms = u.duration_ms
FROM (SELECT unnest($bids::TEXT[]) AS bid, unnest($durations::BIGINT[]) AS duration_ms,
             unnest($sinces::TIMESTAMPTZ[]) AS since) AS u
WHERE views.bid = u.bid AND views.date_created >= u.since AND views.date_created >= $since
{_CHANGED}"""  # noqa: S608 (only code)


def _update_durations(cur: duckdb.DuckDBPyConnection, batch: Batch) -> list[tuple[str, int]]:
    """Apply the batch's durations, the unbounded ones first (`merge_batches` relies on that order)."""
    changed: list[tuple[str, int]] = []
    if batch.durations:
        bids, durations = zip(*batch.durations, strict=True)
        changed += cur.execute(_UPDATE_DURATIONS, {"bids": list(bids), "durations": list(durations)}).fetchall()
    if batch.recent_durations and batch.recent_since is not None:
        bids, durations, sinces = zip(*batch.recent_durations, strict=True)
        params = {"bids": list(bids), "durations": list(durations), "sinces": list(sinces), "since": batch.recent_since}
        changed += cur.execute(_UPDATE_RECENT_DURATIONS, params).fetchall()
    return changed
