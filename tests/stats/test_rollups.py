"""The hourly rollups give exactly the raw numbers: built, partly built, and after writes made hours stale.

The writes here follow the writer's protocol (storage/hit_batches.apply_batch): tell `Rollups` first, then write.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medama_py.stats.reports import REPORTS
from medama_py.storage.analytics_file import VIEWS_COLUMNS, create_analytics_schema
from medama_py.storage.hit_batches import Appenders, Batch, Row, UmamiBatch, apply_batch
from medama_py.storage.rollup_blocks import cover
from medama_py.storage.rollup_days import GROUPED_LABELS
from medama_py.storage.rollup_hour_lists import drop_hour_lists_before
from medama_py.storage.rollup_job import _run_end
from medama_py.storage.rollups import ROLLED_LABELS, Rollups, create_rollup_tables, hour_of
from tests.stats.harness import params
from tests.stats.test_snapshots import EXTRA, cases
from tests.support.examples import examples

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DAY0 = datetime(2024, 3, 30, tzinfo=UTC)  # three days over a month's end
HOSTS = ("a.example", "b.example")


def answer(report: str, cur: duckdb.DuckDBPyConnection, query: str, hostname: str, rollups: Rollups | None) -> Any:
    """The report's answer as JSON values: through the rollups, or raw when `rollups` is None."""
    result = REPORTS[report].run(cur, params(report, query, hostname), rollups)
    return msgspec.json.decode(msgspec.json.encode(result))


def summary(cur: duckdb.DuckDBPyConnection, query: str, hostname: str, rollups: Rollups | None) -> Any:
    return answer("summary", cur, query, hostname, rollups)


def assert_rolled_is_raw(report: str, conn: duckdb.DuckDBPyConnection, query: str, rollups: Rollups) -> None:
    for hostname in ("example.com", "docs.example.com"):
        assert answer(report, conn, query, hostname, rollups) == answer(report, conn, query, hostname, None)


def assert_rollups_are_read(
    report: str,
    conn: duckdb.DuckDBPyConnection,
    rollups: Rollups,
    wrong: str,
    listed: str = "",
    period: str = "start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z",
) -> None:
    """Not a tautology: a wrong rollup row (the UPDATE `wrong`) changes the answer, so the rollups are read."""
    query = period + listed
    honest = answer(report, conn, query, "example.com", rollups)
    conn.execute("BEGIN")
    conn.execute(wrong)
    assert answer(report, conn, query, "example.com", rollups) != honest
    conn.execute("ROLLBACK")


def build_all(cur: duckdb.DuckDBPyConnection, rollups: Rollups, hostname: str, span: int = 24) -> None:
    """Every hour of the site, without the recent hours' list rows (the fixture's times are long past)."""
    row = cur.execute(
        "SELECT min(date_created), max(date_created) FROM views WHERE hostname = ?", [hostname]
    ).fetchone()
    if row is None or row[0] is None:
        return
    first, last = hour_of(row[0]), hour_of(row[1])
    for start in range(first, last + 1, span):
        rollups.build(cur, hostname, start, min(start + span - 1, last), lists_from=last + 1)


@pytest.fixture(scope="module")
def rolled(fixture_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Rollups]]:
    """The seeded fixture with every hour of every site built.

    Spans of four weeks less an hour, so runs meet off midnight, at a different hour each time; the cost is per
    build (a year in 23-hour spans took 1,100 builds and ~7 s; with the day rows, 167-hour spans took 6.0 s of CPU,
    671-hour spans 1.5 s). Each span holds whole days too, so a period reads day rows, hour rows and raw rows.
    """
    path = tmp_path_factory.mktemp("rollups") / "me_analytics.db"
    shutil.copyfile(fixture_file, path)
    conn = duckdb.connect(str(path))
    conn.execute("LOAD icu")
    conn.execute("SET TimeZone = 'UTC'")
    create_rollup_tables(conn)
    rollups = Rollups()
    for (hostname,) in conn.execute("SELECT DISTINCT hostname FROM views").fetchall():
        build_all(conn, rollups, hostname, span=28 * 24 - 1)
        # Ten weeks from midnight in one build, as the job builds: every day of two blocks gets its day row, so the
        # full lists read block rows (storage/rollup_blocks.py) as well as day rows and raw rows. The list rows of
        # single hours, which the job keeps for recent days only, for six of its days (around PARTIAL_DAYS).
        start = hour_of(datetime(2024, 2, 20, tzinfo=UTC))
        lists = {"lists_from": start + 8 * 24, "lists_until": start + 14 * 24}
        rollups.build(conn, hostname, start, start + 70 * 24 - 1, **lists)
    yield conn, rollups
    conn.close()


SUMMARY_CASES = [query for endpoint, _, query in cases() + EXTRA if endpoint == "summary"] + [
    "start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z&interval=month&previous=true",
    "start=2024-03-01T00:00:00Z&end=2024-03-08T00:00:00Z&interval=day&previous=true",
    "start=2024-03-01T00:00:00%2B02:00&end=2024-03-07T23:59:59%2B02:00&interval=day",
    "start=2024-03-01T10:00:00Z&end=2024-03-03T10:00:00Z&interval=hour",
    "start=2024-02-10T00:00:00Z&end=2024-05-10T00:00:00Z&interval=week",
    "start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z&interval=day",
]


@pytest.mark.parametrize("query", SUMMARY_CASES)
def test_every_summary_case_is_the_same_from_the_rollups(rolled: tuple[Any, Rollups], query: str) -> None:
    assert_rolled_is_raw("summary", rolled[0], query, rolled[1])


@pytest.mark.parametrize("table", ["rollup_hours", "rollup_day_cells"])
def test_the_rollups_are_read(rolled: tuple[Any, Rollups], table: str) -> None:
    conn, rollups = rolled
    days, hours = rollups.usable(conn, "example.com", 0, 10**6)
    assert days and hours
    wrong = f"UPDATE {table} SET pageviews = pageviews + 1 WHERE hostname = 'example.com'"  # noqa: S608 (code)
    assert_rollups_are_read("summary", conn, rollups, wrong)


YEAR = "start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z"
# Devices are rolled up per label (ROLLED_LABELS): whole periods, partial hours at either end, pages, the
# summary variant, and filters (which read raw) all give the raw answer.
DEVICES_CASES = [query for endpoint, _, query in cases() if endpoint == "devices"] + [
    YEAR,
    f"{YEAR}&summary=true&limit=5",
    f"{YEAR}&limit=1&offset=1",
    "start=2024-03-01T10:20:00Z&end=2024-03-09T07:40:00Z",
    "start=2024-03-01T00:00:00%2B02:00&end=2024-03-31T23:59:59%2B02:00",
    "start=2024-02-29T23:59:59Z&end=2024-03-02T00:00:00Z&summary=true",
    f"{YEAR}&device[neq]=desktop",
    f"{YEAR}&path[starts_with]=/blog",
]


@pytest.mark.parametrize("query", DEVICES_CASES)
def test_every_devices_case_is_the_same_from_the_rollups(rolled: tuple[Any, Rollups], query: str) -> None:
    assert_rolled_is_raw("devices", rolled[0], query, rolled[1])


@pytest.mark.parametrize("table", ["rollup_labels", "rollup_day_labels"])
def test_the_label_rollups_are_read(rolled: tuple[Any, Rollups], table: str) -> None:
    wrong = f"UPDATE {table} SET visitors = visitors + 1 WHERE hostname = 'example.com'"  # noqa: S608 (code)
    assert_rollups_are_read("devices", rolled[0], rolled[1], wrong)


def test_the_rolled_labels_are_the_reports_labels() -> None:
    for report, label in ROLLED_LABELS.items():
        described = REPORTS[report].label
        assert described is not None and described.sql == label and described.flag is None


# The lists counted per day and label (GROUPED_LABELS): every snapshot case of theirs plus whole periods, pages,
# both variants, the flags that change the label, and periods with partial days at either end.
GROUPED_REPORTS = ("pages", "time", "referrers", "sources", "mediums", "campaigns", "browsers", "os", "countries",
                   "languages")  # fmt: skip
GROUPED_CASES = (
    [(endpoint, query) for endpoint, _, query in cases() if endpoint in GROUPED_REPORTS]
    + [
        (report, query)
        for report in GROUPED_REPORTS
        for query in (
            YEAR,
            f"{YEAR}&summary=true&limit=5",
            f"{YEAR}&limit=2&offset=1",
            "start=2024-03-01T10:20:00Z&end=2024-03-09T07:40:00Z&summary=true",
            "start=2024-03-01T00:00:00%2B02:00&end=2024-03-31T23:59:59%2B02:00",
        )
    ]
    + [
        ("referrers", f"{YEAR}&grouped=false"),
        ("referrers", f"{YEAR}&grouped=false&summary=true&limit=3"),
        ("languages", f"{YEAR}&locale=true"),
        ("languages", f"{YEAR}&locale=true&summary=true"),
        ("time", f"{YEAR}&summary=true&limit=2"),
        ("time", f"{YEAR}&limit=30"),
    ]
)


@pytest.mark.parametrize(("report", "query"), GROUPED_CASES)
def test_every_grouped_case_is_the_same_from_the_rollups(rolled: tuple[Any, Rollups], report: str, query: str) -> None:
    assert_rolled_is_raw(report, rolled[0], query, rolled[1])


@pytest.mark.parametrize("report", ["pages", "time", "countries"])
@pytest.mark.parametrize("table", ["rollup_day_groups", "rollup_block_groups"])
def test_the_group_rollups_are_read(rolled: tuple[Any, Rollups], report: str, table: str) -> None:
    # /time's summary shows shares of the time spent, the others visitors.
    changed = "total_duration = 0" if report == "time" else "page_visitors = page_visitors + 1, visitors = visitors + 1"
    wrong = f"UPDATE {table} SET {changed}"  # noqa: S608 (code)
    assert_rollups_are_read(report, rolled[0], rolled[1], wrong, listed="&summary=true&limit=50")


@pytest.mark.parametrize("report", ["referrers", "browsers", "countries"])
@pytest.mark.parametrize("table", ["rollup_day_bins", "rollup_block_bins"])
def test_the_day_and_block_bins_are_read(rolled: tuple[Any, Rollups], report: str, table: str) -> None:
    # The full variant: visitors, bounce and the median histogram of whole days come from the bins.
    wrong = f"UPDATE {table} SET visitors = visitors + 1"  # noqa: S608 (code)
    assert_rollups_are_read(report, rolled[0], rolled[1], wrong, listed="&limit=50")


# Whole days in the middle, and hours of two partial days at either end: the recent hours' list rows serve those.
PARTIAL_DAYS = "start=2024-03-01T10:00:00Z&end=2024-03-04T10:00:00Z"


# /time reads counts from the rollups for a limited page only.
@pytest.mark.parametrize(
    ("report", "listed"),
    [("pages", "&summary=true"), ("pages", "&limit=3"), ("time", "&summary=true&limit=3"), ("time", "&limit=3")],
)
def test_the_hour_groups_are_read(rolled: tuple[Any, Rollups], report: str, listed: str) -> None:
    changed = "total_duration = 0" if report == "time" else "page_visitors = page_visitors + 1, visitors = visitors + 1"
    wrong = f"UPDATE rollup_hour_groups SET {changed}"  # noqa: S608 (code)
    assert_rollups_are_read(report, rolled[0], rolled[1], wrong, listed, period=PARTIAL_DAYS)
    assert_rolled_is_raw(report, rolled[0], PARTIAL_DAYS + listed, rolled[1])


@pytest.mark.parametrize("report", ["referrers", "countries"])
@pytest.mark.parametrize(
    ("table", "listed"), [("rollup_hour_bins", "&limit=50"), ("rollup_hour_groups", "&summary=true")]
)
def test_the_hour_bins_are_read(rolled: tuple[Any, Rollups], report: str, table: str, listed: str) -> None:
    wrong = f"UPDATE {table} SET visitors = visitors + 1"  # noqa: S608 (code)
    assert_rollups_are_read(report, rolled[0], rolled[1], wrong, listed, period=PARTIAL_DAYS)
    assert_rolled_is_raw(report, rolled[0], PARTIAL_DAYS + listed, rolled[1])


def test_hour_lists_are_kept_only_from_the_horizon_and_dropped_before_it(db: duckdb.DuckDBPyConnection) -> None:
    create_rollup_tables(db)
    rollups = Rollups()
    bids = ["b1", "b2", "b3", "b4", "b5", "b6"]
    views: list[tuple[str, int, bool, int | None, str]] = [
        ("a.example", hour * 3600 + 600 * n, (hour + n) % 3 == 0, 9000 * n + hour, bids[(hour + n) % len(bids)])
        for hour in range(72)
        for n in range(3)
    ]
    _insert(db, rollups, views)
    base = hour_of(DAY0)
    horizon = base + 30
    rollups.build(db, "a.example", base, base + 71, lists_from=horizon)
    listed = [int(r[0]) for r in db.execute("SELECT hour FROM rollup_hour_lists ORDER BY hour").fetchall()]
    assert listed == list(range(horizon, base + 72))
    # Partial days before and after the horizon: the hours before it are read raw, the rest from their list rows.
    for start, end in ((5, 40), (31, 60), (2, 70)):
        query = _period(start * 3600 + 1800, (end - start) * 3600, "")
        for report in ("pages", "countries", "referrers", "time"):
            for listing in ("", "&summary=true", "&limit=1"):
                rolled, raw = (answer(report, db, query + listing, "a.example", r) for r in (rollups, None))
                assert rolled == raw, (report, query + listing)
    drop_hour_lists_before(db, horizon + 24)
    assert db.execute("SELECT min(hour) FROM rollup_hour_lists").fetchone() == (horizon + 24,)
    assert db.execute("SELECT count(*) FROM rollup_hour_groups WHERE hour < ?", [horizon + 24]).fetchone() == (0,)
    assert rollups.usable(db, "a.example", base + 30, base + 60, lists=True)[1] == list(range(horizon + 24, base + 61))


def test_the_grouped_labels_are_the_reports_labels() -> None:
    labels = set()
    for report in REPORTS.values():
        if report.label is not None:
            labels |= {report.label.sql, report.label.flagged} - {""}
    assert set(GROUPED_LABELS.values()) - {"v.pathname"} == labels - set(ROLLED_LABELS.values())


# --- random views, random builds, random writes after them ------------------------------------------------

# Edges of the bounce range and of both bin widths (1,024 ms per hour and label, 8,192 ms per day and label).
DURATIONS = st.one_of(
    st.none(),
    st.integers(0, 6000),
    st.integers(6000, 30000),
    st.sampled_from([0, 99, 100, 5000, 5001, 1023, 1024, 8191, 8192, 16383, 16384]),
)
VIEW = st.tuples(
    st.sampled_from(HOSTS),
    st.integers(0, 3 * 24 * 3600 - 1),  # seconds after DAY0
    st.booleans(),
    DURATIONS,
    st.sampled_from(["b1", "b2", "b3", "b4", "b5", "b6"]),
)
# Starts on the hour half the time, so hour, day and week series read the rollups too.
PERIOD = st.tuples(
    st.one_of(st.integers(-3600, 3 * 24 * 3600 + 3600), st.integers(-1, 73).map(lambda hour: hour * 3600)),
    st.one_of(st.integers(0, 3 * 24 * 3600), st.integers(0, 72).map(lambda hours: hours * 3600 - 1)),
)
PATHS = {"b1": "/a", "b2": "/b", "b3": "/a", "b4": "/c", "b5": "/b"}
DEVICES = {"b1": "mobile", "b2": "desktop", "b3": "tablet", "b4": "desktop", "b5": "", "b6": "mobile"}
# Build spans (offset from DAY0, hours); a third start at midnight, so whole days (day rows) are built too.
SPAN = st.tuples(st.one_of(st.integers(0, 71), st.sampled_from([0, 24, 48])), st.integers(1, 72))
SHAPES = st.sampled_from(["", "&interval=hour", "&interval=day", "&interval=month", "&previous=true", "&interval=week"])


def _view_row(view: tuple[str, int, bool, int | None, str]) -> tuple[object, ...]:
    hostname, second, unique, duration, bid = view
    values: dict[str, object] = dict.fromkeys(VIEWS_COLUMNS, "")
    values.update(
        bid=bid,
        hostname=hostname,
        pathname=PATHS.get(bid, "/"),
        country=PATHS.get(bid, "").strip("/"),
        is_unique_user=unique,
        is_unique_page=unique,
        duration_ms=duration,
        ua_device_type=DEVICES.get(bid, "desktop"),
        date_created=DAY0 + timedelta(seconds=second),
    )
    return tuple(values[name] for name in VIEWS_COLUMNS)


def _insert(
    conn: duckdb.DuckDBPyConnection, rollups: Rollups, views: list[tuple[str, int, bool, int | None, str]]
) -> None:
    rows = [_view_row(view) for view in views]
    if not rows:
        return
    # The writer's rows carry no duration and end with date_created, hostname second.
    rollups.note_batch([(*r[:16], r[17]) for r in rows])
    placeholders = ", ".join("?" * len(VIEWS_COLUMNS))
    conn.executemany(f"INSERT INTO views VALUES ({placeholders})", rows)  # noqa: S608 (placeholders only)


def _set_duration(conn: duckdb.DuckDBPyConnection, rollups: Rollups, bid: str, ms: int, since: datetime | None) -> None:
    """The writer's own duration update of one unload (searching the views stored since `since`, or every view)."""
    anywhere: list[Row] = [(bid, ms)] if since is None else []
    recent: list[Row] = [(bid, ms, since)] if since is not None else []
    apply_batch(conn, Appenders(conn), Batch([], [], anywhere, UmamiBatch([], [], []), recent, since), rollups)


def _period(start: int, length: int, shape: str) -> str:
    begin = DAY0 + timedelta(seconds=start)
    end = begin + timedelta(seconds=length)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return f"start={begin.strftime(stamp)}&end={end.strftime(stamp)}{shape}"


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    views=st.lists(VIEW, max_size=60),
    spans=st.lists(SPAN, max_size=4),
    later=st.lists(VIEW, max_size=6),
    # A duration with a window start (seconds after DAY0) updates only the views stored since, as an unload's does.
    durations=st.lists(
        st.tuples(st.sampled_from(["b1", "b2", "b7"]), st.integers(0, 20000), st.none() | st.integers(0, 72 * 3600)),
        max_size=3,
    ),
    rebuilds=st.lists(SPAN, max_size=2),
    periods=st.lists(st.tuples(PERIOD, SHAPES), min_size=1, max_size=4),
    listed=st.sampled_from(["", "&summary=true", "&limit=2", "&summary=true&limit=1&offset=1"]),
)
def test_random_rollups_equal_raw(
    db: duckdb.DuckDBPyConnection,
    views: list[tuple[str, int, bool, int | None, str]],
    spans: list[tuple[int, int]],
    later: list[tuple[str, int, bool, int | None, str]],
    durations: list[tuple[str, int, int | None]],
    rebuilds: list[tuple[int, int]],
    periods: list[tuple[tuple[int, int], str]],
    listed: str,
) -> None:
    db.execute("DELETE FROM views")
    create_rollup_tables(db)
    # Blocks of one and two days, so the three days hold whole blocks (DAY0 starts one) and the lists read block
    # rows too, a two-day block summed from its halves.
    rollups = Rollups(block_sizes=(1, 2))
    _insert(db, rollups, views)
    base = hour_of(DAY0)
    for hostname in HOSTS:
        for offset, length in spans:
            rollups.build(db, hostname, base + offset, base + min(offset + length, 72) - 1)
    # Writes after the builds: views into built hours, and durations of bids wherever their views are.
    _insert(db, rollups, later)
    for bid, ms, at in durations:
        _set_duration(db, rollups, bid, ms, DAY0 + timedelta(seconds=at) if at is not None else None)
    # Some hours rebuilt after the writes: a day row older than one of its hours is left out.
    for hostname in HOSTS:
        for offset, length in rebuilds:
            rollups.build(db, hostname, base + offset, base + min(offset + length, 72) - 1)
    for (start, length), shape in periods:
        query = _period(start, length, shape)
        for hostname in HOSTS:
            assert summary(db, query, hostname, rollups) == summary(db, query, hostname, None), query
            if not shape:
                for report in ("devices", "countries", "referrers", "time", "pages"):
                    rolled, raw = (answer(report, db, query + listed, hostname, r) for r in (rollups, None))
                    assert rolled == raw, (report, query + listed)


def test_a_late_view_makes_its_hour_stale(db: duckdb.DuckDBPyConnection) -> None:
    create_rollup_tables(db)
    rollups = Rollups()
    _insert(db, rollups, [("a.example", 10, True, 2000, "b1")])
    hour = hour_of(DAY0)
    rollups.build(db, "a.example", hour, hour + 1)
    assert rollups.usable_hours(db, "a.example", hour, hour + 1) == [hour, hour + 1]
    _insert(db, rollups, [("a.example", 3700, True, 10, "b2")])
    assert rollups.usable_hours(db, "a.example", hour, hour + 1) == [hour]
    assert rollups.stale_hours("a.example", hour, hour + 2) == [hour + 1]


def test_a_day_row_is_used_only_while_no_hour_of_it_was_rebuilt(db: duckdb.DuckDBPyConnection) -> None:
    create_rollup_tables(db)
    rollups = Rollups()
    _insert(db, rollups, [("a.example", 10, True, 2000, "b1"), ("a.example", 90000, True, 300, "b2")])
    day = hour_of(DAY0) // 24
    rollups.build(db, "a.example", day * 24, day * 24 + 47)
    assert rollups.usable(db, "a.example", day * 24, day * 24 + 47) == ([day, day + 1], [])
    assert rollups.stale_hours("a.example", day * 24, day * 24 + 48) == []
    # A late view in the first hour: that day is read hour by hour until the job rebuilds all of it.
    _insert(db, rollups, [("a.example", 20, True, 40, "b3")])
    assert rollups.stale_hours("a.example", day * 24, day * 24 + 48) == list(range(day * 24, day * 24 + 24))
    rollups.build(db, "a.example", day * 24, day * 24)
    days, hours = rollups.usable(db, "a.example", day * 24, day * 24 + 47)
    assert (days, hours) == ([day + 1], list(range(day * 24, day * 24 + 24)))
    query = _period(0, 2 * 24 * 3600 - 1, "&interval=day")
    assert summary(db, query, "a.example", rollups) == summary(db, query, "a.example", None)
    rollups.build(db, "a.example", day * 24, day * 24 + 23)
    assert rollups.usable(db, "a.example", day * 24, day * 24 + 47) == ([day, day + 1], [])


def test_a_block_row_is_used_only_while_none_of_its_days_was_rebuilt(db: duckdb.DuckDBPyConnection) -> None:
    create_rollup_tables(db)
    rollups = Rollups(block_sizes=(1, 2))
    _insert(db, rollups, [("a.example", 10, True, 9000, "b1"), ("a.example", 90000, True, 300, "b2")])
    day = hour_of(DAY0) // 24
    assert day % 2 == 0
    rollups.build(db, "a.example", day * 24, day * 24 + 23)
    assert rollups.usable_blocks(db, "a.example", [day]) == [(1, day)]  # the two-day block lacks its second day
    rollups.build(db, "a.example", day * 24 + 24, day * 24 + 47)
    assert rollups.usable_blocks(db, "a.example", [day, day + 1]) == [(2, day // 2)]
    assert rollups.usable_blocks(db, "a.example", [day + 1]) == [(1, day + 1)]  # only blocks of the days asked for
    query = _period(0, 2 * 24 * 3600 - 1, "")
    _insert(db, rollups, [("a.example", 20, True, 17000, "b3")])  # the first day is stale, so are its blocks
    assert rollups.usable_blocks(db, "a.example", [day + 1]) == [(1, day + 1)]
    assert answer("countries", db, query, "a.example", rollups) == answer("countries", db, query, "a.example", None)
    # Rebuilding the stale day rewrites its blocks (the other day still has its row), with the new view in them.
    rollups.build(db, "a.example", day * 24, day * 24 + 23)
    assert rollups.usable_blocks(db, "a.example", [day, day + 1]) == [(2, day // 2)]
    assert answer("countries", db, query, "a.example", rollups) == answer("countries", db, query, "a.example", None)
    counted = "SELECT sum(durations) FROM rollup_block_bins WHERE report = 'countries' AND size = 2"
    assert db.execute(counted).fetchone() == (3,)


def test_blocks_cover_the_days_largest_first() -> None:
    usable = {(4, 1), (2, 2), (2, 3), (1, 3), (1, 8), (2, 4)}
    # Days 3..9: day 3 alone, 4..7 as one four-day block, 8..9 as one two-day block.
    assert cover([3, 4, 5, 6, 7, 8, 9], usable, (1, 2, 4)) == [(1, 3), (4, 1), (2, 4)]
    assert cover([3, 4, 5, 6, 8, 9], usable, (1, 2, 4)) == [(1, 3), (2, 2), (2, 4)]  # day 7 missing: no 4-day block
    assert cover([5, 6, 7], usable, (1, 2, 4)) == [(2, 3)]  # day 5 has no usable block of its own


def test_the_job_builds_whole_days_from_midnight() -> None:
    assert _run_end([48, 49, 50, 51], span=2) == 51  # from midnight: up to a day, ended or not
    assert _run_end([5, 6, 7], span=2) == 6
    assert _run_end(list(range(24, 100)), span=4) == 47  # a whole day at least from midnight
    assert _run_end(list(range(24, 100)), span=50) == 71  # cut to whole days
    assert _run_end([5, 6, 7, 9], span=24) == 7


def test_a_duration_makes_the_hour_of_its_view_stale(db: duckdb.DuckDBPyConnection) -> None:
    create_rollup_tables(db)
    rollups = Rollups()
    _insert(db, rollups, [("a.example", 10, True, None, "b1"), ("a.example", 7300, True, None, "b2")])
    hour = hour_of(DAY0)
    rollups.build(db, "a.example", hour, hour + 2)
    _set_duration(db, rollups, "b2", 3000, None)
    assert rollups.usable_hours(db, "a.example", hour, hour + 2) == [hour, hour + 1]


def test_a_duration_marks_only_the_hours_of_the_views_it_changed(db: duckdb.DuckDBPyConnection) -> None:
    create_rollup_tables(db)
    rollups = Rollups()
    # b1 has views in two built hours; an unload whose window starts in the second changes only that one.
    _insert(db, rollups, [("a.example", 10, True, None, "b1"), ("a.example", 7300, True, None, "b1")])
    hour = hour_of(DAY0)
    rollups.build(db, "a.example", hour, hour + 2)
    _set_duration(db, rollups, "b1", 3000, DAY0 + timedelta(seconds=7000))
    assert rollups.usable_hours(db, "a.example", hour, hour + 2) == [hour, hour + 1]
    # A window after every view changes nothing, so it marks nothing; nor does a bid nobody loaded.
    rollups.build(db, "a.example", hour + 2, hour + 2)
    _set_duration(db, rollups, "b1", 4000, DAY0 + timedelta(hours=3))
    _set_duration(db, rollups, "nobody", 4000, None)
    assert rollups.usable_hours(db, "a.example", hour, hour + 2) == [hour, hour + 1, hour + 2]


def test_any_other_write_makes_everything_stale(db: duckdb.DuckDBPyConnection) -> None:
    create_rollup_tables(db)
    rollups = Rollups()
    _insert(db, rollups, [("a.example", 10, True, None, "b1")])
    hour = hour_of(DAY0)
    rollups.build(db, "a.example", hour, hour)
    rollups.note_everything()
    assert rollups.usable_hours(db, "a.example", hour, hour) == []
    rollups.build(db, "a.example", hour, hour)
    assert rollups.usable_hours(db, "a.example", hour, hour) == [hour]


def test_a_file_reopened_starts_without_rollups(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with duckdb.connect(str(path)) as conn:
        create_analytics_schema(conn)
        create_rollup_tables(conn)
        Rollups().build(conn, "a.example", 0, 3)
    with duckdb.connect(str(path)) as conn:
        create_rollup_tables(conn)
        assert conn.execute("SELECT count(*) FROM rollup_built").fetchone() == (0,)


# --- properties ----------------------------------------------------------------------------------------------


def properties(cur: duckdb.DuckDBPyConnection, query: str, hostname: str, rollups: Rollups | None) -> Any:
    return answer("properties", cur, query, hostname, rollups)


def build_props(cur: duckdb.DuckDBPyConnection, rollups: Rollups, first: int, last: int) -> None:
    """The job's three steps: the number seen (writer thread), the join (a snapshot), the install (writer thread)."""
    seen = rollups.props.begin_build(last)
    rows = rollups.props.compute(cur, first, last)
    rollups.props.install(cur, first, last, seen, rows)


@pytest.fixture(scope="module")
def rolled_props(rolled: tuple[Any, Rollups]) -> tuple[Any, Rollups]:
    conn, rollups = rolled
    row = conn.execute("SELECT min(date_created), max(date_created) FROM events").fetchone()
    assert row is not None
    first, last = hour_of(row[0]), hour_of(row[1])
    for start in range(first, last + 1, 500):
        build_props(conn, rollups, start, min(start + 499, last))
    return conn, rollups


PROPERTY_CASES = [query for endpoint, _, query in cases() + EXTRA if endpoint == "properties"] + [
    "start=2024-01-01T00:00:00Z&end=2024-12-31T23:59:59Z",
    "start=2024-03-01T00:00:00Z&end=2024-03-31T23:59:59Z&prop_name[eq]=plan",
    "start=2024-03-01T10:30:00Z&end=2024-06-30T12:00:00Z&prop_value[neq]=free",
    "start=2024-02-01T00:00:00%2B02:00&end=2024-02-29T23:59:59%2B02:00&prop_name[in]=plan,click",
]


@pytest.mark.parametrize("query", PROPERTY_CASES)
def test_every_properties_case_is_the_same_from_the_rollups(rolled_props: tuple[Any, Rollups], query: str) -> None:
    assert_rolled_is_raw("properties", rolled_props[0], query, rolled_props[1])


def test_the_property_rollups_are_read(rolled_props: tuple[Any, Rollups]) -> None:
    wrong = "UPDATE rollup_props SET events = events + 1 WHERE hostname = 'example.com'"
    assert_rollups_are_read("properties", *rolled_props, wrong)


BIDS = st.sampled_from(["b1", "b2", "b3", "b4", "b5", "b6", "", "x1"])
EVENT = st.tuples(
    BIDS, st.integers(0, 3 * 24 * 3600 - 1), st.sampled_from(["plan", "click"]), st.sampled_from(["free", "pro", ""])
)
VIEW_WITH_BID = st.tuples(st.sampled_from(HOSTS), st.integers(0, 3 * 24 * 3600 - 1), st.booleans(), DURATIONS, BIDS)
PROPERTY_FILTERS = st.sampled_from(["", "&prop_name[eq]=plan", "&prop_value[eq]=pro", "&prop_name[eq]=click"])


def _insert_events(conn: duckdb.DuckDBPyConnection, rollups: Rollups, events: list[tuple[str, int, str, str]]) -> None:
    rows = [("batch", "a.example", name, value, DAY0 + timedelta(seconds=s), bid) for bid, s, name, value in events]
    if not rows:
        return
    rollups.note_batch([], rows)
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    views=st.lists(VIEW_WITH_BID, max_size=30),
    events=st.lists(EVENT, max_size=30),
    view_spans=st.lists(st.tuples(st.integers(0, 71), st.integers(1, 72)), max_size=3),
    prop_spans=st.lists(st.tuples(st.integers(0, 71), st.integers(1, 72)), max_size=3),
    later_views=st.lists(VIEW_WITH_BID, max_size=4),
    later_events=st.lists(EVENT, max_size=4),
    periods=st.lists(st.tuples(PERIOD, PROPERTY_FILTERS), min_size=1, max_size=4),
    resolve_first=st.booleans(),
)
def test_random_property_rollups_equal_raw(
    db: duckdb.DuckDBPyConnection,
    views: list[tuple[str, int, bool, int | None, str]],
    events: list[tuple[str, int, str, str]],
    view_spans: list[tuple[int, int]],
    prop_spans: list[tuple[int, int]],
    later_views: list[tuple[str, int, bool, int | None, str]],
    later_events: list[tuple[str, int, str, str]],
    periods: list[tuple[tuple[int, int], str]],
    resolve_first: bool,
) -> None:
    db.execute("DELETE FROM views")
    db.execute("DELETE FROM events")
    create_rollup_tables(db)
    rollups = Rollups()
    _insert(db, rollups, views)
    _insert_events(db, rollups, events)
    base = hour_of(DAY0)
    for offset, length in view_spans:
        for hostname in HOSTS:
            rollups.build(db, hostname, base + offset, base + min(offset + length, 72) - 1)
    for offset, length in prop_spans:
        build_props(db, rollups, base + offset, base + min(offset + length, 72) - 1)
    # Writes after the builds: views whose bids old events carry, events in built hours.
    _insert(db, rollups, later_views)
    _insert_events(db, rollups, later_events)
    if resolve_first:
        rollups.props.resolve(db)
    for (start, length), shape in periods:
        query = _period(start, length, shape)
        for hostname in HOSTS:
            assert properties(db, query, hostname, rollups) == properties(db, query, hostname, None), query
