"""The analytics tables only Umami-protocol hits fill (docs/umami.md, "What is stored").

Medama's `views` and `events` keep exactly their columns, so a file written by medama_py still opens in
Medama; what only Umami's clients send (title, screen, query, tag, distinct id, session and visit ids,
typed event data) lives in these extra tables, which Medama never reads. They link to Medama's rows by
`bid` and `batch_id`: a Umami page view is a `views` row whose bid is the hit's `event_id`; a custom
event is an `events` batch (`batch_id`) carrying the bid of the page view it happened on.

`site` is the registered hostname (`views.hostname`), moved on rename and deleted with the site like
Medama's rows; `hostname` is what the page reported, as Umami stores it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "UMAMI_DATA_COLUMNS",
    "UMAMI_HIT_COLUMNS",
    "UMAMI_SESSION_DATA_COLUMNS",
    "create_umami_tables",
    "delete_umami_site",
    "distinct_session_days",
    "rename_umami_site",
]

UMAMI_HIT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "bid",
    "batch_id",
    "website_id",
    "site",
    "session_id",
    "visit_id",
    "event_type",
    "event_name",
    "hostname",
    "url_path",
    "url_query",
    "page_title",
    "referrer_path",
    "referrer_query",
    "referrer_domain",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "screen",
    "language",
    "tag",
    "distinct_id",
    "ua_browser",
    "ua_os",
    "ua_device_type",
    "country",
    "is_new_visitor",
    "date_created",
)

_CREATE_HITS = """
CREATE TABLE IF NOT EXISTS umami_hits (
    event_id TEXT NOT NULL,
    bid TEXT NOT NULL,
    batch_id TEXT,
    website_id TEXT NOT NULL,
    site TEXT NOT NULL,
    session_id TEXT NOT NULL,
    visit_id TEXT NOT NULL,
    event_type UTINYINT NOT NULL,
    event_name TEXT,
    hostname TEXT,
    url_path TEXT,
    url_query TEXT,
    page_title TEXT,
    referrer_path TEXT,
    referrer_query TEXT,
    referrer_domain TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_content TEXT,
    utm_term TEXT,
    screen TEXT,
    language TEXT,
    tag TEXT,
    distinct_id TEXT,
    ua_browser TEXT,
    ua_os TEXT,
    ua_device_type TEXT,
    country TEXT,
    is_new_visitor BOOLEAN NOT NULL,
    date_created TIMESTAMPTZ NOT NULL
)"""

UMAMI_DATA_COLUMNS: tuple[str, ...] = (
    "event_id",
    "website_id",
    "site",
    "event_name",
    "data_key",
    "data_type",
    "string_value",
    "number_value",
    "date_created",
)

# data_type: 1 string, 2 number, 3 boolean, 4 date, 5 array (as JSON text), Umami's numbering.
_CREATE_DATA = """
CREATE TABLE IF NOT EXISTS umami_event_data (
    event_id TEXT NOT NULL,
    website_id TEXT NOT NULL,
    site TEXT NOT NULL,
    event_name TEXT,
    data_key TEXT NOT NULL,
    data_type UTINYINT NOT NULL,
    string_value TEXT NOT NULL,
    number_value DOUBLE,
    date_created TIMESTAMPTZ NOT NULL
)"""

UMAMI_SESSION_DATA_COLUMNS: tuple[str, ...] = (
    "website_id",
    "site",
    "session_id",
    "distinct_id",
    "data_key",
    "data_type",
    "string_value",
    "number_value",
    "date_created",
)

_CREATE_SESSION_DATA = """
CREATE TABLE IF NOT EXISTS umami_session_data (
    website_id TEXT NOT NULL,
    site TEXT NOT NULL,
    session_id TEXT NOT NULL,
    distinct_id TEXT,
    data_key TEXT NOT NULL,
    data_type UTINYINT NOT NULL,
    string_value TEXT NOT NULL,
    number_value DOUBLE,
    date_created TIMESTAMPTZ NOT NULL
)"""

_TABLES = ("umami_hits", "umami_event_data", "umami_session_data")


def create_umami_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the Umami-only tables when missing (files from Medama or older medama_py lack them)."""
    for ddl in (_CREATE_HITS, _CREATE_DATA, _CREATE_SESSION_DATA):
        conn.execute(ddl)


def rename_umami_site(cur: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Move a site's Umami rows to its new hostname (inside the caller's transaction)."""
    for table in _TABLES:
        cur.execute(f"UPDATE {table} SET site = ? WHERE site = ?", [new, old])  # noqa: S608 (fixed table names)


def delete_umami_site(cur: duckdb.DuckDBPyConnection, hostname: str) -> None:
    """Delete a site's Umami rows (inside the caller's transaction)."""
    for table in _TABLES:
        cur.execute(f"DELETE FROM {table} WHERE site = ?", [hostname])  # noqa: S608 (fixed table names)


def distinct_session_days(cur: duckdb.DuckDBPyConnection, session_id: str) -> dict[int, list[str]]:
    """The UTC days (days since 1970-01-01) on which a distinct-id session has hits, with its viewed paths."""
    rows = cur.execute(
        "SELECT CAST(epoch(date_created) // 86400 AS BIGINT),"
        " coalesce(list(DISTINCT url_path) FILTER (WHERE event_type = 1), [])"
        " FROM umami_hits WHERE session_id = ? GROUP BY ALL",
        [session_id],
    ).fetchall()
    return {int(day): [str(path) for path in paths] for day, paths in rows}
