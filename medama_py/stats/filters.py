"""Filter conditions → one WHERE clause with bound values (docs/stats.md#filters).

Column names come only from the FIELDS allow-list; every value is bound. Rules that differ from the
original on purpose (docs/compatibility.md#stats):
- `eq` is case-insensitive equality: `%` and `_` are literal characters, not LIKE wildcards.
- On the paired fields (referrer host/group, language base/dialect) a positive operator keeps a row
  when either column matches and a negative one drops it when either column matches.
- `in`/`not_in` take a comma-separated list; every operator given for a field applies (AND).
- Property filters test "some event of this page view matches" (EXISTS), so they never multiply rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from medama_py.stats.query import Params

__all__ = [
    "EVENT_FIELDS",
    "FIELDS",
    "NEGATIVE_OPERATORS",
    "OPERATORS",
    "VIEW_FIELDS",
    "Condition",
    "Filters",
    "condition_sql",
]

# Query field → column(s), in the order the conditions are AND-ed.
VIEW_FIELDS: dict[str, tuple[str, ...]] = {
    "path": ("v.pathname",),
    "referrer": ("v.referrer_host", "v.referrer_group"),
    "utm_source": ("v.utm_source",),
    "utm_medium": ("v.utm_medium",),
    "utm_campaign": ("v.utm_campaign",),
    "browser": ("v.ua_browser",),
    "os": ("v.ua_os",),
    "device": ("v.ua_device_type",),
    "country": ("v.country",),
    "language": ("v.language_base", "v.language_dialect"),
}
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "prop_name": ("e.name",),
    "prop_value": ("e.value",),
}
FIELDS: dict[str, tuple[str, ...]] = VIEW_FIELDS | EVENT_FIELDS

OPERATORS: tuple[str, ...] = (
    "eq",
    "neq",
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
    "not_ends_with",
    "in",
    "not_in",
)
NEGATIVE_OPERATORS = frozenset({"neq", "not_contains", "not_starts_with", "not_ends_with", "not_in"})

# Positive form of each operator over lower-cased text; `{c}` is the column, `{v}` a bound value.
_PREDICATES: dict[str, str] = {
    "eq": "lower({c}) = lower({v})",
    "contains": "contains(lower({c}), lower({v}))",
    "starts_with": "starts_with(lower({c}), lower({v}))",
    "ends_with": "ends_with(lower({c}), lower({v}))",
}
_POSITIVE = {
    "neq": "eq",
    "not_contains": "contains",
    "not_starts_with": "starts_with",
    "not_ends_with": "ends_with",
    "not_in": "in",
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One `field[op]=value` parameter; `values` holds the split list for in/not_in, else one value."""

    field: str
    op: str
    values: tuple[str, ...]

    @property
    def has_value(self) -> bool:
        return any(self.values)


@dataclass(frozen=True, slots=True)
class Filters:
    """Everything that selects rows: hostname, field conditions and the inclusive period bounds."""

    hostname: str
    conditions: tuple[Condition, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    @property
    def view_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.field in VIEW_FIELDS)

    @property
    def event_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.field in EVENT_FIELDS)

    def where(self, params: Params, *, period_column: str = "v.date_created", events_joined: bool = False) -> str:
        """Return the WHERE body over `views AS v` (and `events AS e` when `events_joined`)."""
        parts = [f"v.hostname = {params.bind(self.hostname)}"]
        parts.extend(condition_sql(c, params) for c in self.view_conditions)
        events = [condition_sql(c, params) for c in self.event_conditions]
        if events and events_joined:
            parts.extend(events)
        elif events:
            # One matching event is enough; a view never counts once per matching event.
            match = " AND ".join(["e.bid = v.bid", "e.bid <> ''", *events])
            parts.append(f"EXISTS (SELECT 1 FROM events AS e WHERE {match})")  # noqa: S608 (values are bound)
        if self.start is not None:
            parts.append(f"{period_column} >= {params.bind(self.start)}")
        if self.end is not None:
            parts.append(f"{period_column} <= {params.bind(self.end)}")
        return " AND ".join(parts)


def condition_sql(condition: Condition, params: Params, fields: Mapping[str, tuple[str, ...]] = FIELDS) -> str:
    """SQL for one condition over its allow-listed column(s); `fields` is the allow-list (FIELDS by default)."""
    columns = fields[condition.field]
    negative = condition.op in NEGATIVE_OPERATORS
    op = _POSITIVE.get(condition.op, condition.op)
    matches = []
    for index, column in enumerate(columns):
        values = condition.values
        if condition.field == "referrer" and index == 1:
            # An empty referrer value means direct traffic: only the host is compared.
            values = tuple(v for v in values if v)
            if not values:
                continue
        matches.append(_match(column, op, values, params))
    if not negative:
        return matches[0] if len(matches) == 1 else "(" + " OR ".join(matches) + ")"
    if len(matches) == 1:
        # A NULL column makes the predicate NULL, so the row is dropped: NULL never matches.
        return f"NOT ({matches[0]})"
    # Drop the row when either column matches; a NULL column counts as "no match" unless both are NULL.
    used = columns[: len(matches)]
    all_null = " AND ".join(f"{c} IS NULL" for c in used)
    return f"NOT coalesce({' OR '.join(matches)}, {all_null})"


def _match(column: str, op: str, values: tuple[str, ...], params: Params) -> str:
    if op == "in":
        bound = ", ".join(f"lower({params.bind(v)})" for v in values)
        return f"lower({column}) IN ({bound})"
    return _PREDICATES[op].format(c=column, v=params.bind(values[0]))
