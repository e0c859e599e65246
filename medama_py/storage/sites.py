"""Analytics-side work on whole websites: recent visitors, rename and delete (docs/compatibility.md#websites)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medama_py.storage.umami_tables import delete_umami_site, rename_umami_site

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb

__all__ = ["count_recent_visitors", "delete_site_rows", "rename_site_rows"]


def count_recent_visitors(cur: duckdb.DuckDBPyConnection, hostnames: list[str], since: datetime) -> dict[str, int]:
    """Unique visitors per hostname since `since` (Medama's rolling 24 hours on the websites list)."""
    if not hostnames:
        return {}
    rows = cur.execute(
        "SELECT hostname, COUNT(*) FILTER (WHERE is_unique_user) FROM views"
        " WHERE hostname IN (SELECT unnest(?::TEXT[])) AND date_created > ? GROUP BY hostname",
        [hostnames, since],
    ).fetchall()
    counts = {str(hostname): int(count) for hostname, count in rows}
    return {hostname: counts.get(hostname, 0) for hostname in hostnames}


def rename_site_rows(cur: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Move a site's page views and events to its new hostname, in one transaction."""
    cur.execute("BEGIN TRANSACTION")
    try:
        cur.execute("UPDATE views SET hostname = ? WHERE hostname = ?", [new, old])
        cur.execute("UPDATE events SET group_name = ? WHERE group_name = ?", [new, old])
        rename_umami_site(cur, old, new)
        cur.execute("COMMIT")
    except Exception:
        cur.execute("ROLLBACK")
        raise


def delete_site_rows(cur: duckdb.DuckDBPyConnection, hostname: str) -> None:
    """Delete a site's page views and its events, in one transaction."""
    cur.execute("BEGIN TRANSACTION")
    try:
        cur.execute("DELETE FROM views WHERE hostname = ?", [hostname])
        cur.execute("DELETE FROM events WHERE group_name = ?", [hostname])
        delete_umami_site(cur, hostname)
        cur.execute("COMMIT")
    except Exception:
        cur.execute("ROLLBACK")
        raise
