"""`medama import`: our own exports round-trip to identical stats; Umami's CSV files map onto Medama's columns."""

from __future__ import annotations

import shutil
import subprocess
from contextlib import closing
from pathlib import Path

import duckdb
import httpx
import pytest

from medama_py.stats.reports import REPORTS
from tests.support.hits import make_custom, make_hit, make_unload
from tests.support.server import BROWSER_UA, logged_in_client, medama_command, register_website, running_server

pytestmark = pytest.mark.e2e

UMAMI = Path(__file__).parent.parent / "data" / "umami"
HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB,en;q=0.9", "Content-Type": "text/plain"}
SITE = "shop.example"
MAY = {"start": "2024-05-01T00:00:00Z", "end": "2024-05-31T23:59:59Z"}


def _medama(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*medama_command(), *args], capture_output=True, text=True, timeout=120, check=False)


def _every_report(client: httpx.Client, params: dict[str, str] | None = None) -> dict[str, object]:
    return {name: client.get(f"/api/website/{SITE}/{name}", params=params).json() for name in sorted(REPORTS)}


def test_export_then_import_gives_identical_stats_for_every_endpoint(tmp_path: Path) -> None:
    live = tmp_path / "live"
    with running_server(live) as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
        for i in range(40):
            url = f"https://{SITE}/p{i % 5}?utm_source=s{i % 3}"
            load = make_hit(b=f"b{i}", u=url, r="", p=i % 4 == 0, q=i % 2 == 0, t="Europe/Paris")
            assert httpx.post(f"{server.base_url}/api/event/hit", content=load, headers=HEADERS).status_code == 204
            if i % 3:
                unload = make_unload(f"b{i}", 1000 + 37 * i)
                httpx.post(f"{server.base_url}/api/event/hit", content=unload, headers=HEADERS)
            if i % 4 == 1:
                custom = make_custom(SITE, {"plan": f"p{i % 2}"}, bid=f"b{i}")
                httpx.post(f"{server.base_url}/api/event/hit", content=custom, headers=HEADERS)
        before = _every_report(admin)

    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(server.appdb, copy / "me_meta.db")
    for table, fmt in (("views", "parquet"), ("events", "csv")):
        out = tmp_path / f"{table}.{fmt}"
        exported = _medama("export", "-analyticsdb", str(server.analyticsdb), "-hostname", SITE,
                           "-table", table, "-format", fmt, "-out", str(out))  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        for attempt in range(2):  # the second import finds every row present
            imported = _medama("import", "-analyticsdb", str(copy / "me_analytics.db"), "-table", table, str(out))
            assert imported.returncode == 0, imported.stderr
            assert ("; 0 already present" if attempt == 0 else f"imported 0 {table}") in imported.stderr

    with running_server(copy) as server, closing(logged_in_client(server)) as admin:
        assert _every_report(admin) == before


def test_umami_csv_files_map_onto_medama_columns(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data) as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
    args = ["import", "-analyticsdb", str(data / "me_analytics.db"), "-umami", "-sessions", str(UMAMI / "session.csv"),
            "-hostname", SITE, "-website", "site-a", str(UMAMI / "website_event.csv")]  # fmt: skip
    result = _medama(*args)
    assert result.returncode == 0, result.stderr
    assert "imported 6 views, 1 events" in result.stderr
    assert "skipped website_event.csv line 11:" in result.stderr  # the two-field row
    assert "skipped website_event.csv line 9: no valid created_at or url_path" in result.stderr
    again = _medama(*args)
    assert "imported 0 views, 0 events" in again.stderr

    with duckdb.connect(str(data / "me_analytics.db"), read_only=True) as conn:
        rows = conn.execute(
            "SELECT bid, pathname, is_unique_user, is_unique_page, referrer_host, country, language_dialect,"
            " ua_browser, ua_os, ua_device_type, utm_source, duration_ms FROM views ORDER BY date_created, bid"
        ).fetchall()
    assert rows == [
        ("0b9d7c3e-0001", "/", True, True, "google.com", "United Kingdom", "British English", "Chrome", "Windows",
         "Desktop", "news", 5000),
        ("0b9d7c3e-0002", "/pricing", False, True, None, "United Kingdom", "British English", "Chrome", "Windows",
         "Desktop", None, 15000),
        ("0b9d7c3e-0004", "/pricing", False, False, None, "United Kingdom", "British English", "Chrome", "Windows",
         "Desktop", None, None),
        ("0b9d7c3e-0005", "/pricing", True, True, None, "France", "French (France)", "Safari", "iOS", "Mobile", None,
         60000),
        # A spreadsheet formula in a value is stored as plain text, never evaluated.
        ("0b9d7c3e-0006", '=HYPERLINK("http://evil.example")', False, True, None, "France", "French (France)",
         "Safari", "iOS", "Mobile", None, None),
        ("0b9d7c3e-0009", "/", True, True, None, "Unknown", "Unknown", "Unknown", "Unknown", "Unknown", None, None),
    ]  # fmt: skip

    with running_server(data) as server, closing(logged_in_client(server)) as admin:
        summary = admin.get(f"/api/website/{SITE}/summary", params=MAY).json()["current"]
        assert (summary["pageviews"], summary["visitors"]) == (6, 3)
        browsers = admin.get(f"/api/website/{SITE}/browsers", params=MAY).json()
        assert {b["browser"]: b["visitors"] for b in browsers} == {"Chrome": 1, "Safari": 1, "Unknown": 1}


def test_umami_event_data_becomes_the_events_properties(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data) as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
    args = ["import", "-analyticsdb", str(data / "me_analytics.db"), "-umami", "-sessions", str(UMAMI / "session.csv"),
            "-eventdata", str(UMAMI / "event_data.csv"), "-hostname", SITE, "-website", "site-a",
            str(UMAMI / "website_event.csv")]  # fmt: skip
    result = _medama(*args)
    assert result.returncode == 0, result.stderr
    assert "imported 6 views, 1 events, 8 event data; 0 already present" in result.stderr
    # Lines as DuckDB counts them: the header is line 1, the quoted two-line value of ed-08 one line.
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped event_data.csv")]
    assert skipped == [
        "skipped event_data.csv line 10: data_type is not 1 to 5",
        "skipped event_data.csv line 11: its website_event_id is not a page view or named event of the import",
        "skipped event_data.csv line 12: no data_key",
        "skipped event_data.csv line 14: data_key 'event' holds the event name in Medama",
        "skipped event_data.csv line 15: no value for its data_type",
        "skipped event_data.csv line 16: Expected Number of Columns: 9 Found: 2",
    ]  # line 13 is site-b's, left out by -website
    assert "imported 0 views, 0 events, 0 event data" in _medama(*args).stderr

    with duckdb.connect(str(data / "me_analytics.db"), read_only=True) as conn:
        rows = conn.execute("SELECT batch_id, bid, name, value FROM events ORDER BY batch_id, name").fetchall()
    signup = ("0b9d7c3e-0003", "0b9d7c3e-0002")  # tied to the visit's page view just before it
    assert rows == [
        ("0b9d7c3e-0001", "0b9d7c3e-0001", "section", "=cmd|' /C calc'!A0"),  # a page view's value; plain text
        (*signup, "event", "signup"),
        (*signup, "note", "two\nlines"),
        (*signup, "plan", "pro"),
        (*signup, "price", "42.5"),  # number_value 42.5000 without string_value
        (*signup, "renews", "2024-06-01 00:00:00+00"),  # date_value without string_value
        (*signup, "seats", "5"),
        (*signup, "tags", '["a","b"]'),
        (*signup, "trial", "true"),
    ]

    with running_server(data) as server, closing(logged_in_client(server)) as admin:
        properties = admin.get(f"/api/website/{SITE}/properties", params=MAY).json()
        assert {row["name"]: row["events"] for row in properties} == {
            "event": 1, "note": 1, "plan": 1, "price": 1, "renews": 1, "seats": 1, "tags": 1, "trial": 1, "section": 1,
        }  # fmt: skip
        plans = admin.get(f"/api/website/{SITE}/properties", params={**MAY, "prop_name[eq]": "plan"}).json()
        assert [(row.get("value"), row["events"]) for row in plans] == [("pro", 1)]


def test_a_hostile_event_data_file_stores_nothing_at_all(tmp_path: Path) -> None:
    target = tmp_path / "a.db"
    for content, needle in (
        ("event_data_id,website_event_id,data_key\ned-1,x,k\n", "missing column(s) website_id, string_value"),
        (b"event_data_id,website_id\n\xff\xfe\x00\xc3\x28\n", "event_data.csv"),
    ):
        path = tmp_path / "event_data.csv"
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        result = _medama("import", "-analyticsdb", str(target), "-umami", "-sessions", str(UMAMI / "session.csv"),
                         "-eventdata", str(path), "-hostname", SITE, str(UMAMI / "website_event.csv"))  # fmt: skip
        assert result.returncode == 1
        assert result.stderr.startswith("ERROR: ") and needle in result.stderr, result.stderr
        with duckdb.connect(str(target), read_only=True) as conn:  # not even the page views: one transaction
            stored = conn.execute("SELECT (SELECT count(*) FROM views) + (SELECT count(*) FROM events)").fetchone()
        assert stored == (0,)


@pytest.mark.parametrize(
    ("events", "needle"),
    [
        ("event_id,created_at\nx,2024-01-01\n", "missing column(s) website_id, session_id, url_path, event_type"),
        (b"\xff\xfe\x00garbage\xc3\x28", "website_event.csv"),
    ],
)
def test_unusable_files_are_refused_with_one_line_and_nothing_stored(
    tmp_path: Path, events: str | bytes, needle: str
) -> None:
    path = tmp_path / "website_event.csv"
    path.write_bytes(events.encode() if isinstance(events, str) else events)
    target = tmp_path / "a.db"
    result = _medama("import", "-analyticsdb", str(target), "-umami", "-sessions", str(UMAMI / "session.csv"),
                     "-hostname", SITE, str(path))  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("ERROR: ") and needle in result.stderr
    assert "nothing was imported" in result.stderr
    with duckdb.connect(str(target), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM views").fetchone() == (0,)


def test_a_huge_line_is_refused_clearly_and_nothing_is_stored(tmp_path: Path) -> None:
    lines = (UMAMI / "website_event.csv").read_text().splitlines()[:3]
    huge = (
        "0b9d7c3e-0099,site-a,sess-1,visit-1,2024-05-01 11:00:00+00,/" + "a" * 100_000 + ",,,,,,,,,,T,1,,,shop.example"
    )
    path = tmp_path / "website_event.csv"
    path.write_text("\n".join([*lines, huge]) + "\n")
    target = tmp_path / "a.db"
    result = _medama("import", "-analyticsdb", str(target), "-umami", "-sessions", str(UMAMI / "session.csv"),
                     "-hostname", SITE, str(path))  # fmt: skip
    assert result.returncode == 1
    assert "a line is longer than 65536 bytes" in result.stderr
    assert "aaaa" not in result.stderr  # the line itself is not echoed
    with duckdb.connect(str(target), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM views").fetchone() == (0,)
