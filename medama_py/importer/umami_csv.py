"""`medama import` of Umami's raw `website_event` + `session` (+ `event_data`) CSVs as one website's rows.

The mapping of Umami's columns and vocabularies to Medama's is written down in docs/data.md#import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.importer.staging import REPORTED_REJECTS, ImportResult, located_lines, rejected_lines, stage
from medama_py.importer.umami_sql import UMAMI_DATA, UMAMI_EVENT_DATA, UMAMI_EVENTS, UMAMI_VIEWS
from medama_py.ingest.locale import LanguageError, parse_accept_language
from medama_py.model import UNKNOWN
from medama_py.umami.countries import country_for_code

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

__all__ = ["import_umami"]

# Umami's browser and OS names (its detection library's keys) → Medama's stored vocabulary.
_BROWSERS = {
    "chrome": "Chrome", "crios": "Chrome", "chromium-webview": "Chrome", "edge-chromium": "Edge", "edge": "Edge",
    "edge-ios": "Edge", "firefox": "Firefox", "fxios": "Firefox", "safari": "Safari", "ios": "Safari",
    "ios-webview": "Safari", "opera": "Opera", "opera-mini": "Opera Mini", "samsung": "Samsung Browser",
    "yandexbrowser": "Yandex Browser", "android": "Android Browser", "ie": "IE", "vivaldi": "Vivaldi",
}  # fmt: skip
_OSES = {
    "windows 10": "Windows", "windows 7": "Windows", "windows 8": "Windows", "windows 8.1": "Windows",
    "windows xp": "Windows", "windows vista": "Windows", "windows": "Windows", "mac os": "MacOS", "macos": "MacOS",
    "ios": "iOS", "android os": "Android", "android": "Android", "chrome os": "ChromeOS", "linux": "Linux",
    "openbsd": "OpenBSD",
}  # fmt: skip
_DEVICES = {"desktop": "Desktop", "laptop": "Desktop", "mobile": "Mobile", "tablet": "Tablet", "tv": "TV"}
_EVENT_REQUIRED = ("event_id", "website_id", "session_id", "created_at", "url_path", "event_type")
_SESSION_REQUIRED = ("session_id", "browser", "os", "device", "language", "country")
# Umami's event_data columns but created_at: a value takes its event's time, as the event's other rows do.
_DATA_REQUIRED = (
    "event_data_id", "website_id", "website_event_id", "data_key", "string_value", "number_value", "date_value",
    "data_type",
)  # fmt: skip
# The Medama property that holds a custom event's name (as /umami/api/send stores it): no data key may take it.
_EVENT_NAME_KEY = "event"


def _mapping_tables(cur: duckdb.DuckDBPyConnection) -> None:
    """Small lookup tables for Umami's vocabularies; languages and countries from the values present."""
    for name, mapping in (("map_browser", _BROWSERS), ("map_os", _OSES), ("map_device", _DEVICES)):
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {name} (k TEXT, v TEXT)")
        cur.executemany(f"INSERT INTO {name} VALUES (?, ?)", list(mapping.items()))  # noqa: S608
    cur.execute("CREATE OR REPLACE TEMP TABLE map_language (k TEXT, base TEXT, dialect TEXT)")
    languages = [
        row[0] for row in cur.execute("SELECT DISTINCT language FROM sessions WHERE language IS NOT NULL").fetchall()
    ]
    rows = []
    for tag in languages:
        try:
            names = parse_accept_language(str(tag))
        except LanguageError:
            continue
        if names.base:
            rows.append((tag, names.base, names.dialect))
    if rows:
        cur.executemany("INSERT INTO map_language VALUES (?, ?, ?)", rows)
    cur.execute("CREATE OR REPLACE TEMP TABLE map_country (k TEXT, v TEXT)")
    codes = [
        row[0] for row in cur.execute("SELECT DISTINCT country FROM sessions WHERE country IS NOT NULL").fetchall()
    ]
    pairs = [(code, country_for_code(str(code))) for code in codes]
    if pairs:
        cur.executemany("INSERT INTO map_country VALUES (?, ?)", [(k, v) for k, v in pairs if v != k])


def _import_event_data(
    cur: duckdb.DuckDBPyConnection, path: Path, hostname: str, website_id: str | None, result: ImportResult
) -> None:
    """Add Umami's event_data values as properties of the events and page views being imported."""
    stage(cur, "umami_data_raw", path, _DATA_REQUIRED)
    cur.execute(UMAMI_DATA, {"website": website_id, "event_key": _EVENT_NAME_KEY})
    problems = dict(cur.execute("SELECT event_data_id, problem FROM umami_data WHERE problem IS NOT NULL").fetchall())
    bad = rejected_lines(cur, path) + located_lines(path, "event_data_id", problems)
    result.rejected += sorted(bad, key=lambda row: row[1])[:REPORTED_REJECTS]
    row = cur.execute(UMAMI_EVENT_DATA, {"hostname": hostname}).fetchone()
    result.inserted["event data"] = int(row[0]) if row else 0


def import_umami(
    cur: duckdb.DuckDBPyConnection,
    events_csv: Path,
    sessions_csv: Path,
    hostname: str,
    website_id: str | None,
    event_data_csv: Path | None = None,
) -> ImportResult:
    """Import Umami's page views (event_type 1) and named custom events (2) of one website as `hostname`'s.

    With `event_data_csv`, their event_data values become the events' (and page views') properties.
    """
    result = ImportResult()
    cur.begin()
    try:
        stage(cur, "umami_events_raw", events_csv, _EVENT_REQUIRED)
        event_rejects = rejected_lines(cur, events_csv)
        stage(cur, "sessions", sessions_csv, _SESSION_REQUIRED)
        session_rejects = rejected_lines(cur, sessions_csv)
        columns = {row[0] for row in cur.execute("DESCRIBE umami_events_raw").fetchall()}
        optional = ["visit_id", "referrer_domain", "utm_source", "utm_medium", "utm_campaign", "event_name"]
        extra = ", ".join(c if c in columns else f"NULL AS {c}" for c in optional)
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE umami_rows AS SELECT event_id, session_id, url_path, event_type,"  # noqa: S608
            f" {extra}, try_cast(created_at AS TIMESTAMPTZ) AS created FROM umami_events_raw"
            " WHERE ($website IS NULL OR website_id = $website)",
            {"website": website_id},
        )
        bad = cur.execute("SELECT event_id FROM umami_rows WHERE created IS NULL OR url_path IS NULL").fetchall()
        if bad:
            why = "no valid created_at or url_path"
            event_rejects += located_lines(events_csv, "event_id", {str(row[0]): why for row in bad})
            cur.execute("DELETE FROM umami_rows WHERE created IS NULL OR url_path IS NULL")
        result.rejected = sorted(event_rejects, key=lambda row: row[1])[:REPORTED_REJECTS] + session_rejects
        _mapping_tables(cur)
        params = {"hostname": hostname, "unknown": UNKNOWN}
        views = cur.execute(UMAMI_VIEWS, params).fetchone()
        events = cur.execute(UMAMI_EVENTS, {"hostname": hostname, "event_key": _EVENT_NAME_KEY}).fetchone()
        result.inserted = {"views": int(views[0]) if views else 0, "events": int(events[0]) if events else 0}
        if event_data_csv is not None:
            _import_event_data(cur, event_data_csv, hostname, website_id, result)
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    return result
