"""What DuckDB would refuse in a hit, found before the hit is journaled and answered.

A hit is acknowledged once journaled, before DuckDB sees it (storage/journal.py), so a row DuckDB refuses at
apply time could no longer be reported to its request. The refusals a well-formed row can still meet are a NULL
in a NOT NULL column and a duration outside UINTEGER: both are checked here, per hit, against the columns the
open database declares NOT NULL, and such a hit is answered with an error instead (500: ingestion never builds
one, so it is a bug, not bad input).
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

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
        positions = {table: _not_null(cur, table, names) for table, names in columns.items()}
        self._required = {table: _values(found) for table, found in positions.items()}
        self._view_names = tuple(columns["views"][i] for i in positions["views"])
        # The view's required values in one C call: checked per page view, named only when one is missing.
        self._view_values = _named_values(self._view_names)

    def problem(self, item: WriteItem) -> RowRefused | None:
        """Why DuckDB would refuse this hit's rows, or None."""
        if item.view is not None and None in self._view_values(item.view):
            missing = [name for name in self._view_names if getattr(item.view, name) is None]
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
        values = self._required[table]
        return any(None in values(row) for row in rows)


# Per hit, a generator over the required positions of each row cost ~12% of a Umami send's handling; these read
# the required values with one operator.itemgetter/attrgetter call and `None in` checks them in C.
def _values(positions: tuple[int, ...]) -> Callable[[tuple[object, ...]], tuple[object, ...]]:
    """The values at `positions` of a row, always as a tuple."""
    if not positions:
        return lambda _row: ()
    if len(positions) == 1:
        index = positions[0]
        return lambda row: (row[index],)
    return operator.itemgetter(*positions)


def _named_values(names: tuple[str, ...]) -> Callable[[object], tuple[object, ...]]:
    """The attributes `names` of an object, always as a tuple."""
    if not names:
        return lambda _obj: ()
    if len(names) == 1:
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return operator.attrgetter(*names)
