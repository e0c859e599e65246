"""`medama import`: our own export files back in, and Umami's raw `website_event` + `session` (+ `event_data`) CSVs.

Each import is one DuckDB transaction (a crash leaves nothing half-imported) and skips rows already
present (importing the same file twice adds nothing). Rows DuckDB cannot parse are reported with
their line numbers and skipped. The Umami mapping is written down in docs/data.md#import.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from medama_py.ingest.locale import LanguageError, parse_accept_language
from medama_py.storage.analytics import VIEWS_COLUMNS
from medama_py.storage.export import EVENTS_COLUMNS
from medama_py.umami.countries import country_for_code

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

__all__ = ["ImportError_", "ImportResult", "import_export_file", "import_umami"]

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
UNKNOWN = "Unknown"
_EVENT_REQUIRED = ("event_id", "website_id", "session_id", "created_at", "url_path", "event_type")
_SESSION_REQUIRED = ("session_id", "browser", "os", "device", "language", "country")
# Umami's event_data columns but created_at: a value takes its event's time, as the event's other rows do.
_DATA_REQUIRED = (
    "event_data_id", "website_id", "website_event_id", "data_key", "string_value", "number_value", "date_value",
    "data_type",
)  # fmt: skip
# The Medama property that holds a custom event's name (as /umami/api/send stores it): no data key may take it.
_EVENT_NAME_KEY = "event"
MAX_LINE_BYTES = 64 * 1024
_REPORTED_REJECTS = 50


class ImportError_(Exception):  # noqa: N801  (the builtin ImportError means something else)
    """A file that cannot be imported at all (missing columns, unreadable); one line, nothing stored."""


@dataclass
class ImportResult:
    inserted: dict[str, int] = field(default_factory=dict)
    skipped_existing: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, why)


def _reader(path: Path) -> tuple[str, list[object]]:
    """A DuckDB table function reading `path` by its extension; CSV rows that do not parse are set aside."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "read_parquet(?)", [str(path)]
    if suffix in (".ndjson", ".jsonl", ".json"):
        return "read_json(?, format = 'newline_delimited')", [str(path)]
    return (
        "read_csv(?, header = true, all_varchar = true, store_rejects = true, max_line_size = ?, encoding = 'utf-8')",
        [str(path), MAX_LINE_BYTES],
    )


def _stage(cur: duckdb.DuckDBPyConnection, name: str, path: Path, required: tuple[str, ...]) -> None:
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    source, params = _reader(path)
    try:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {source}", params)  # noqa: S608
    except Exception as exc:  # duckdb raises a dozen kinds for unreadable files; all mean the same here
        raise ImportError_(f"{path}: cannot be read: {_reason(str(exc))}") from exc
    columns = {row[0] for row in cur.execute(f"DESCRIBE {name}").fetchall()}
    missing = [column for column in required if column not in columns]
    if missing:
        raise ImportError_(f"{path}: missing column(s) {', '.join(missing)}")


def _reason(message: str) -> str:
    """DuckDB's explanation without the echoed line (which may be huge) and its sniffer settings."""
    lines = [line for line in message.splitlines() if line.strip()]
    if any("Maximum line size" in line for line in lines):
        return f"a line is longer than {MAX_LINE_BYTES} bytes (DuckDB: {lines[0]})"
    return lines[0] if lines else "unknown error"


def _rejects(cur: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, int, str]]:
    """Lines of a CSV file that DuckDB set aside, with why (Parquet and JSON files have none)."""
    if _reader(path)[0].startswith(("read_parquet", "read_json")):
        return []
    rows = cur.execute(
        "SELECT e.line, min(e.error_message) FROM reject_errors AS e"
        " JOIN reject_scans AS s ON s.scan_id = e.scan_id AND s.file_id = e.file_id"
        " WHERE s.file_path = ? GROUP BY e.line ORDER BY e.line LIMIT ?",
        [str(path), _REPORTED_REJECTS],
    ).fetchall()
    return [(path.name, int(line), str(message).splitlines()[0]) for line, message in rows]


def import_export_file(cur: duckdb.DuckDBPyConnection, path: Path, table: str) -> ImportResult:
    """Insert the rows of a `medama export` file of `table` that are not in the database yet."""
    columns = {"views": VIEWS_COLUMNS, "events": EVENTS_COLUMNS}[table]
    result = ImportResult()
    cur.begin()
    try:
        _stage(cur, "incoming", path, columns)
        casts = ", ".join(f"CAST(i.{c} AS {_type_of(cur, table, c)}) AS {c}" for c in columns)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE typed AS SELECT DISTINCT {casts} FROM incoming AS i")  # noqa: S608
        same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM n.{c}" for c in columns)
        total = cur.execute("SELECT count(*) FROM typed").fetchone()
        row = cur.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM typed AS n"  # noqa: S608
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {same})"
        ).fetchone()
        result.inserted[table] = int(row[0]) if row else 0
        result.skipped_existing = (int(total[0]) if total else 0) - result.inserted[table]
        result.rejected = _rejects(cur, path)
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    return result


def _type_of(cur: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    row = cur.execute(
        "SELECT data_type FROM duckdb_columns()"
        " WHERE table_name = ? AND column_name = ? AND database_name = current_database()",
        [table, column],
    ).fetchone()
    if row is None:
        raise ImportError_(f"the analytics database has no column {table}.{column}")
    return str(row[0])


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


_UMAMI_VIEWS = """
INSERT INTO views
SELECT e.event_id, $hostname, e.url_path,
    -- Medama's unique flags: the visitor's first page view of the UTC day, and its first of this page that day
    row_number() OVER (PARTITION BY e.session_id, CAST(e.created AS DATE) ORDER BY e.created, e.event_id) = 1,
    row_number() OVER (
        PARTITION BY e.session_id, CAST(e.created AS DATE), e.url_path ORDER BY e.created, e.event_id
    ) = 1,
    nullif(e.referrer_domain, ''), NULL,
    coalesce(c.v, $unknown), coalesce(l.base, $unknown), coalesce(l.dialect, $unknown),
    coalesce(b.v, $unknown), coalesce(o.v, $unknown), coalesce(d.v, $unknown),
    nullif(e.utm_source, ''), nullif(e.utm_medium, ''), nullif(e.utm_campaign, ''),
    -- time until the visit's next page view; the last page of a visit has no known duration (NULL)
    CASE WHEN e.next_at IS NOT NULL
        THEN CAST(least(epoch_ms(e.next_at) - epoch_ms(e.created), 4294967295) AS UINTEGER) END,
    e.created
FROM (
    SELECT *, lead(created) OVER (PARTITION BY coalesce(visit_id, session_id) ORDER BY created, event_id) AS next_at
    FROM umami_rows WHERE event_type = '1'
) AS e
LEFT JOIN sessions AS s ON s.session_id = e.session_id
LEFT JOIN map_browser AS b ON b.k = lower(s.browser)
LEFT JOIN map_os AS o ON o.k = lower(s.os)
LEFT JOIN map_device AS d ON d.k = lower(s.device)
LEFT JOIN map_country AS c ON c.k = upper(s.country)
LEFT JOIN map_language AS l ON l.k = s.language
WHERE NOT EXISTS (SELECT 1 FROM views AS v WHERE v.bid = e.event_id AND v.hostname = $hostname)
"""

# A named custom event, tied (bid) to the page view it happened on: its visit's latest page view at or before
# it, as Medama's tracker ties an event to its page load (and Medama's property report counts only those).
_UMAMI_EVENTS = """
CREATE OR REPLACE TEMP TABLE umami_named AS
SELECT e.event_id, e.event_name, e.created, v.event_id AS bid
FROM (SELECT *, coalesce(visit_id, session_id) AS visit FROM umami_rows
      WHERE event_type = '2' AND coalesce(event_name, '') <> '') AS e
ASOF LEFT JOIN (SELECT event_id, created, coalesce(visit_id, session_id) AS visit FROM umami_rows
                WHERE event_type = '1') AS v
    ON v.visit = e.visit AND e.created >= v.created;
INSERT INTO events (batch_id, group_name, name, value, date_created, bid)
SELECT e.event_id, $hostname, $event_key, e.event_name, e.created, e.bid
FROM umami_named AS e
WHERE NOT EXISTS (SELECT 1 FROM events AS x WHERE x.batch_id = e.event_id AND x.group_name = $hostname)
"""


# One row per event_data row of the website, with Medama's text of its value and why it cannot be used, if so.
# Umami writes every value's text to string_value; a file without it still has the typed column to fall back on
# (a number's NUMERIC(19,4) text loses its trailing zeros: 42.5000 -> 42.5). Types: 1 string, 2 number,
# 3 boolean, 4 date, 5 array (JSON text).
_UMAMI_DATA = """
CREATE OR REPLACE TEMP TABLE umami_data AS
WITH typed AS (
    SELECT d.event_data_id, d.website_event_id, d.data_key, d.data_type,
        coalesce(nullif(d.string_value, ''), CASE
            WHEN d.data_type = '2' AND contains(d.number_value, '.')
                THEN rtrim(rtrim(d.number_value, '0'), '.')
            WHEN d.data_type = '2' THEN nullif(d.number_value, '')
            WHEN d.data_type = '4' THEN nullif(d.date_value, '')
        END) AS value,
        count(*) OVER (PARTITION BY d.website_event_id, d.data_key) AS same_key
    FROM umami_data_raw AS d
    WHERE $website IS NULL OR d.website_id = $website
)
SELECT t.*, e.event_type, e.created, e.bid,
    CASE
        WHEN coalesce(t.data_key, '') = '' THEN 'no data_key'
        WHEN t.data_type NOT IN ('1', '2', '3', '4', '5') OR t.data_type IS NULL THEN 'data_type is not 1 to 5'
        WHEN t.value IS NULL THEN 'no value for its data_type'
        WHEN t.same_key > 1 THEN 'its event has this data_key more than once'
        WHEN e.event_id IS NULL THEN 'its website_event_id is not a page view or named event of the import'
        WHEN e.event_type = '2' AND t.data_key = $event_key THEN 'data_key ''event'' holds the event name in Medama'
    END AS problem
FROM typed AS t
LEFT JOIN (
    SELECT event_id, '1' AS event_type, min(created) AS created, any_value(event_id) AS bid FROM umami_rows
    WHERE event_type = '1' GROUP BY event_id
    UNION ALL
    SELECT event_id, '2', min(created), any_value(bid) FROM umami_named GROUP BY event_id
) AS e ON e.event_id = t.website_event_id
"""

# A custom event's values join its `event` row (batch_id = event_id, the same page view); a page view's form a
# batch of their own tied to the view, as /umami/api/send stores them. Present = the same batch, site and key.
_UMAMI_EVENT_DATA = """
INSERT INTO events (batch_id, group_name, name, value, date_created, bid)
SELECT d.website_event_id, $hostname, d.data_key, d.value, d.created, d.bid
FROM umami_data AS d
WHERE d.problem IS NULL AND NOT EXISTS (
    SELECT 1 FROM events AS x WHERE x.batch_id = d.website_event_id AND x.group_name = $hostname AND x.name = d.data_key
)
"""


def _import_event_data(
    cur: duckdb.DuckDBPyConnection, path: Path, hostname: str, website_id: str | None, result: ImportResult
) -> None:
    """Add Umami's event_data values as properties of the events and page views being imported."""
    _stage(cur, "umami_data_raw", path, _DATA_REQUIRED)
    cur.execute(_UMAMI_DATA, {"website": website_id, "event_key": _EVENT_NAME_KEY})
    problems = dict(cur.execute("SELECT event_data_id, problem FROM umami_data WHERE problem IS NOT NULL").fetchall())
    bad = _rejects(cur, path) + _located(path, "event_data_id", problems)
    result.rejected += sorted(bad, key=lambda row: row[1])[:_REPORTED_REJECTS]
    row = cur.execute(_UMAMI_EVENT_DATA, {"hostname": hostname}).fetchone()
    result.inserted["event data"] = int(row[0]) if row else 0


def _located(path: Path, column: str, problems: dict[str, str]) -> list[tuple[str, int, str]]:
    """Rows DuckDB read but the import cannot use, by their id, as (file, line, why) in line order."""
    lines = _lines_of(path, column, set(problems))
    located = sorted(((path.name, lines.get(key, 0), why) for key, why in problems.items()), key=lambda bad: bad[1])
    return located[:_REPORTED_REJECTS]


def _lines_of(path: Path, column: str, wanted: set[str]) -> dict[str, int]:
    """The line of each record with `column` in `wanted`, counted as DuckDB counts the lines it rejects.

    The header is line 1 and each record one line: the file's own line numbers unless a quoted value spans lines.

    Only runs when some rows are bad, on a file DuckDB has already read as UTF-8 with bounded lines.
    """
    found: dict[str, int] = {}
    if not wanted:
        return found
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if column not in header:
            return found
        index = header.index(column)
        for line, record in enumerate(reader, start=2):
            if index < len(record) and record[index] in wanted:
                found[record[index]] = line
    return found


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
        _stage(cur, "umami_events_raw", events_csv, _EVENT_REQUIRED)
        event_rejects = _rejects(cur, events_csv)
        _stage(cur, "sessions", sessions_csv, _SESSION_REQUIRED)
        session_rejects = _rejects(cur, sessions_csv)
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
            event_rejects += _located(events_csv, "event_id", {str(row[0]): why for row in bad})
            cur.execute("DELETE FROM umami_rows WHERE created IS NULL OR url_path IS NULL")
        result.rejected = sorted(event_rejects, key=lambda row: row[1])[:_REPORTED_REJECTS] + session_rejects
        _mapping_tables(cur)
        params = {"hostname": hostname, "unknown": UNKNOWN}
        views = cur.execute(_UMAMI_VIEWS, params).fetchone()
        events = cur.execute(_UMAMI_EVENTS, {"hostname": hostname, "event_key": _EVENT_NAME_KEY}).fetchone()
        result.inserted = {"views": int(views[0]) if views else 0, "events": int(events[0]) if events else 0}
        if event_data_csv is not None:
            _import_event_data(cur, event_data_csv, hostname, website_id, result)
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    return result
