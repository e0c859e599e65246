"""What DuckDB would refuse in a hit, found before the hit is journaled and answered.

A hit is acknowledged once journaled, before DuckDB sees it (storage/journal.py), so a row DuckDB refuses at
apply time could no longer be reported to its request. The refusals a well-formed row can still meet are a NULL
in a NOT NULL column and a duration outside UINTEGER: both are checked here, per hit, against the columns the
open database declares NOT NULL, and such a hit is answered with an error instead (500: ingestion never builds
one, so it is a bug, not bad input).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb

    from medama_py.storage.hit_batches import WriteItem

__all__ = ["RowCheck", "RowRefused"]

_UINTEGER_MAX = 2**32 - 1


class RowRefused(ValueError):
    """A hit with a value its table cannot hold."""


def _not_null(cur: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> tuple[int, ...]:
    rows = cur.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = $1 AND NOT is_nullable", [table]
    ).fetchall()
    required = {row[0] for row in rows}
    return tuple(i for i, name in enumerate(columns) if name in required)


class RowCheck:
    """The NOT NULL columns of each target, as positions in the writer's row tuples (read from the database)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, columns: dict[str, tuple[str, ...]]) -> None:
        self._required = {table: _not_null(cur, table, names) for table, names in columns.items()}
        self._view_names = tuple(columns["views"][i] for i in self._required["views"])

    def problem(self, item: WriteItem) -> RowRefused | None:
        """Why DuckDB would refuse this hit's rows, or None."""
        if item.view is not None:
            missing = [name for name in self._view_names if getattr(item.view, name) is None]
            if missing:
                return RowRefused(f"a page view without {', '.join(missing)}")
        if item.events is not None and self._null_in("events", item.events.rows()):
            return RowRefused("a custom event with an empty required value")
        if item.duration is not None and not 0 <= item.duration[1] <= _UINTEGER_MAX:
            return RowRefused(f"a duration of {item.duration[1]} ms")
        if (u := item.umami) is not None and (
            (u.hit is not None and self._null_in("umami_hits", [u.hit]))
            or self._null_in("umami_event_data", u.data)
            or self._null_in("umami_session_data", u.session_data)
        ):
            return RowRefused("a Umami hit with an empty required value")
        return None

    def _null_in(self, table: str, rows: Sequence[tuple[object, ...]]) -> bool:
        required = self._required[table]
        return any(row[i] is None for row in rows for i in required)
