"""SQL pieces the Umami reports share: the row selections and the time buckets (docs/umami.md).

Conditions come from the stats layer's filter builder (bound values, allow-listed columns); the Umami-only
fields use their own allow-list, UMAMI_COLUMNS.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from medama_py.stats.filters import Filters, condition_sql
from medama_py.umami.params import UMAMI_COLUMNS

if TYPE_CHECKING:
    from medama_py.stats.query import Params
    from medama_py.umami.params import UmamiParams

__all__ = ["bucket_sql", "event_where", "iso", "view_where"]


def view_where(q: UmamiParams, params: Params, filters: Filters | None = None) -> str:
    """The WHERE body over `views AS v`: the website, the range, Medama's filters and the Umami-only ones."""
    parts = [(filters or q.filters).where(params)]
    parts.extend(condition_sql(c, params, UMAMI_COLUMNS) for c in q.extra)
    return " AND ".join(parts)


def event_where(q: UmamiParams, params: Params, filters: Filters | None = None) -> str:
    """The WHERE body over `events AS e`: the website's custom-event rows in the range.

    The range applies to the event's own time, as on Medama's /properties. Page-view filters keep the events
    whose page view matches them.
    """
    chosen = filters or q.filters
    parts = [f"e.group_name = {params.bind(chosen.hostname)}"]
    parts.extend(condition_sql(c, params) for c in chosen.event_conditions)
    if chosen.start is not None:
        parts.append(f"e.date_created >= {params.bind(chosen.start)}")
    if chosen.end is not None:
        parts.append(f"e.date_created <= {params.bind(chosen.end)}")
    if chosen.view_conditions or q.extra:
        unbounded = Filters(hostname=chosen.hostname, conditions=chosen.view_conditions)
        page = replace(q, filters=unbounded)
        parts.append(f"EXISTS (SELECT 1 FROM views AS v WHERE v.bid = e.bid AND {view_where(page, params)})")  # noqa: S608
    return " AND ".join(parts)


def bucket_sql(unit: str, timezone: str, params: Params, column: str = "v.date_created") -> str:
    """The row's bucket label, `YYYY-MM-DD HH:MM:SS` in `timezone`, truncated to `unit` (an allow-listed name)."""
    if timezone == "UTC":
        # Through the epoch to a plain TIMESTAMP: ICU time-zone arithmetic is far slower and not needed for UTC.
        local = f"make_timestamp(epoch_us({column}))"
    else:
        local = f"timezone({params.bind(timezone)}, {column})"
    return f"strftime(date_trunc('{unit}', {local}), '%Y-%m-%d %H:%M:%S')"


def iso(moment: object) -> str | None:
    """An instant as Umami writes it: `2024-06-01T08:00:00.000Z`."""
    if not isinstance(moment, datetime):
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
