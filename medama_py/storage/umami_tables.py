"""The analytics tables only Umami-protocol hits fill (docs/umami.md, "What is stored").

Medama's `views` and `events` keep exactly their columns, so a file written by medama_py still opens in
Medama; what only Umami's clients send (title, screen, query, tag, distinct id, session and visit ids,
typed event data) lives in these extra tables, which Medama never reads. They link to Medama's rows by
`bid` and `batch_id`: a Umami page view is a `views` row and a `umami_hits` row with the same bid; a
custom event is an `events` batch (`batch_id`) carrying the bid of the page view it happened on, and a
`umami_hits` row with that batch id and bid. Event data rows name their hit by `event_id`: a page view's
bid, a custom event's batch id.

`site` is the registered hostname (`views.hostname`), moved on rename and deleted with the site like
Medama's rows; `hostname` is what the page reported (NULL when it is the site's), as Umami stores it.
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

# One row per accepted page view or custom event, holding only what Umami's clients send and Medama's rows
# do not hold (measured, docs/umami.md: the 31-column first version cost the writer ~11 us of CPU and ~160
# bytes of WAL per hit more than this one). What a page view's `views` row holds (browser, OS, device, country,
# utm_source/medium/campaign) is read from `views` by `bid`; a custom event reads it from the page view it
# is linked to (its `bid`, '' when it has none). The referrer domain (Umami's form) and the new-visitor flag
# stay: a custom event has them of its own, and the read side counts event-only sessions by the flag.
UMAMI_HIT_COLUMNS: tuple[str, ...] = (
    "bid",
    "batch_id",
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
    "utm_content",
    "utm_term",
    "screen",
    "language",
    "tag",
    "distinct_id",
    "is_new_visitor",
    "date_created",
)

# bid: a page view's own views.bid; a custom event's page view ('' for none). batch_id: a custom event's
# `events` batch (its id; NULL for page views). hostname: as reported, NULL when it is the site's hostname.
_CREATE_HITS = """
CREATE TABLE IF NOT EXISTS umami_hits (
    bid TEXT NOT NULL,
    batch_id TEXT,
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
    utm_content TEXT,
    utm_term TEXT,
    screen TEXT,
    language TEXT,
    tag TEXT,
    distinct_id TEXT,
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
    """Create the Umami-only tables when missing (files from Medama or older medama_py lack them).

    A file written with the first, 31-column `umami_hits` is moved to the current shape first.
    """
    if _has_first_hits_shape(conn):
        _migrate_first_hits_shape(conn)
    for ddl in (_CREATE_HITS, _CREATE_DATA, _CREATE_SESSION_DATA):
        conn.execute(ddl)
    # A file made by the 20-column shape that briefly preceded this one lacks these two (its rows: NULL, false).
    conn.execute("ALTER TABLE umami_hits ADD COLUMN IF NOT EXISTS referrer_domain TEXT")
    conn.execute("ALTER TABLE umami_hits ADD COLUMN IF NOT EXISTS is_new_visitor BOOLEAN DEFAULT false")


def _has_first_hits_shape(conn: duckdb.DuckDBPyConnection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'umami_hits' AND column_name = 'website_id'"
    ).fetchone()
    return bool(row and row[0])


# The first shape's columns that the current one keeps, in UMAMI_HIT_COLUMNS order; the hostname is NULL where
# it is the site's. The dropped ones are in `views` (page views) or derivable (website_id from the site, a page
# view's event_id = bid). A custom event's event_id becomes its batch_id in umami_event_data.
_COPY_FIRST_SHAPE = """
INSERT INTO umami_hits
SELECT bid, batch_id, site, session_id, visit_id, event_type, event_name, nullif(hostname, site), url_path,
    url_query, page_title, referrer_path, referrer_query, referrer_domain, utm_content, utm_term, screen,
    language, tag, distinct_id, is_new_visitor, date_created
FROM umami_hits_first"""

_REKEY_EVENT_DATA = """
UPDATE umami_event_data SET event_id = h.batch_id
FROM umami_hits_first AS h
WHERE h.event_type = 2 AND h.batch_id IS NOT NULL AND umami_event_data.event_id = h.event_id"""


def _migrate_first_hits_shape(conn: duckdb.DuckDBPyConnection) -> None:
    """Rewrite a first-shape `umami_hits` (31 columns) into the current one, in one transaction."""
    conn.begin()
    try:
        conn.execute("ALTER TABLE umami_hits RENAME TO umami_hits_first")
        conn.execute(_CREATE_HITS)
        conn.execute(_COPY_FIRST_SHAPE)
        conn.execute(_CREATE_DATA)  # a file may hold the hits table alone
        conn.execute(_REKEY_EVENT_DATA)
        conn.execute("DROP TABLE umami_hits_first")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


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
