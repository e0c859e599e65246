"""A slow, obviously-correct Python model of docs/stats.md, to cross-check the SQL reports."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from medama_py.stats.filters import NEGATIVE_OPERATORS
from medama_py.stats.intervals import bucket_starts, format_date
from medama_py.stats.summary import previous_period

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from medama_py.stats.filters import Condition, Filters
    from medama_py.stats.params import StatsParams
    from tests.stats.dataset import Event, View

COLUMNS = {
    "path": ("pathname",),
    "referrer": ("referrer_host", "referrer_group"),
    "utm_source": ("utm_source",),
    "utm_medium": ("utm_medium",),
    "utm_campaign": ("utm_campaign",),
    "browser": ("ua_browser",),
    "os": ("ua_os",),
    "device": ("ua_device_type",),
    "country": ("country",),
    "language": ("language_base", "language_dialect"),
    "prop_name": ("name",),
    "prop_value": ("value",),
}
FOUR_PLACES = Decimal("0.0001")
POSITIVE = {"neq": "eq", "not_contains": "contains", "not_starts_with": "starts_with", "not_ends_with": "ends_with"}


def round4(x: float) -> float:
    """DuckDB's ROUND(x, 4): the double's exact binary value, half away from zero.

    Scaling first (floor(x * 1e4 + 0.5)) is not the same: 71/160 is stored just below 0.44375, and
    x * 1e4 rounds up to 4437.5, giving 0.4438 where DuckDB answers 0.4437.
    """
    if math.isnan(x):
        return x
    return float(Decimal(x).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP))


def round_half_even(x: float) -> int:
    """Nearest integer, ties to even, as DuckDB casts a DOUBLE to an integer (5000.5 → 5000, 4999.5 → 5000)."""
    whole = math.floor(x)
    rest = x - whole
    if rest > 0.5 or (rest == 0.5 and whole % 2 == 1):
        whole += 1
    return int(whole)


def ratio(part: int, total: float) -> float:
    return math.nan if total == 0 else round4(part / total)


def quantile(values: list[int], q: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return round_half_even(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def _matches(value: str | None, op: str, needles: tuple[str, ...]) -> bool | None:
    if value is None:
        return None
    text = value.lower()
    lowered = [n.lower() for n in needles]
    if op in ("eq", "in"):
        return text in lowered
    if op == "contains":
        return any(n in text for n in lowered)
    if op == "starts_with":
        return any(text.startswith(n) for n in lowered)
    if op == "ends_with":
        return any(text.endswith(n) for n in lowered)
    raise ValueError(f"no such operator: {op}")


def holds(condition: Condition, record: object) -> bool:
    """Positive: either column matches. Negative: no column matches (and not every column is NULL)."""
    op = POSITIVE.get(condition.op, "in" if condition.op == "not_in" else condition.op)
    results = []
    for index, column in enumerate(COLUMNS[condition.field]):
        needles = condition.values
        if condition.field == "referrer" and index == 1:
            needles = tuple(n for n in needles if n)
            if not needles:
                continue
        results.append(_matches(getattr(record, column), op, needles))
    if condition.op in NEGATIVE_OPERATORS:
        return not any(r is True for r in results) and any(r is not None for r in results)
    return any(r is True for r in results)


def _in_period(moment: datetime, filters: Filters) -> bool:
    return (filters.start is None or moment >= filters.start) and (filters.end is None or moment <= filters.end)


def select(views: list[View], events_by_bid: dict[str, list[Event]], filters: Filters) -> list[View]:
    out = []
    view_conditions, event_conditions = filters.view_conditions, filters.event_conditions  # derived per access
    for view in views:
        if view.hostname != filters.hostname or not _in_period(view.date_created, filters):
            continue
        if not all(holds(c, view) for c in view_conditions):
            continue
        if event_conditions and not any(
            all(holds(c, e) for c in event_conditions) for e in events_by_bid.get(view.bid, []) if view.bid
        ):
            continue
        out.append(view)
    return out


def metrics(rows: list[View]) -> dict[str, object]:
    timed = [v for v in rows if v.is_unique_user and v.duration_ms is not None]
    bounced = [v for v in timed if 100 <= (v.duration_ms or 0) <= 5000]
    return {
        "visitors": sum(v.is_unique_user for v in rows),
        "pageviews": len(rows),
        "bounce_percentage": round4(len(bounced) / len(timed)) if len(timed) > 5 else 0,
        "duration": quantile([v.duration_ms for v in rows if v.duration_ms is not None], 0.5),
    }


def summary(views: list[View], events: dict[str, list[Event]], p: StatsParams) -> dict[str, object]:
    out: dict[str, object] = {"current": metrics(select(views, events, p.filters))}
    before = previous_period(p.filters) if p.previous else None
    if before is not None:
        out["previous"] = metrics(select(views, events, before))
    if p.interval is not None:
        f = p.filters
        assert f.start is not None and f.end is not None
        starts = bucket_starts(p.interval, f.start, f.end)
        buckets: dict[int, list[View]] = defaultdict(list)
        for view in select(views, events, f):
            index = max(i for i, s in enumerate(starts) if s <= view.date_created)
            buckets[index].append(view)
        out["interval"] = [{"date": format_date(s), **metrics(buckets[i])} for i, s in enumerate(starts)]
    return out


def dimension(rows: list[View], label: Callable[[View], str], summary_only: bool) -> list[dict[str, object]]:
    groups: dict[str, list[View]] = defaultdict(list)
    for view in rows:
        groups[label(view)].append(view)
    total = sum(v.is_unique_user for v in rows)
    items = []
    for name, members in groups.items():
        m = metrics(members)
        item: dict[str, object] = {"label": name, "visitors": m["visitors"]}
        item["visitors_percentage"] = ratio(sum(v.is_unique_user for v in members), total)
        if not summary_only:
            item |= {"bounce_percentage": m["bounce_percentage"], "duration": m["duration"]}
        items.append(item)
    items.sort(key=lambda i: (-int(str(i["visitors"])), str(i["label"]).encode()))
    return items


def pages(rows: list[View], summary_only: bool) -> list[dict[str, object]]:
    groups: dict[str, list[View]] = defaultdict(list)
    for view in rows:
        groups[view.pathname].append(view)
    unique_pages = sum(v.is_unique_page for v in rows)
    items = []
    for path, members in groups.items():
        visitors = sum(v.is_unique_page for v in members)
        if visitors == 0:
            continue
        item: dict[str, object] = {
            "path": path,
            "visitors": visitors,
            "visitors_percentage": ratio(visitors, unique_pages),
        }
        if not summary_only:
            m = metrics(members)
            item |= {
                "pageviews": len(members),
                "pageviews_percentage": ratio(len(members), len(rows)),
                "bounce_percentage": m["bounce_percentage"],
                "duration": m["duration"],
            }
        items.append(item)
    if summary_only:
        items.sort(key=lambda i: (-int(str(i["visitors"])), str(i["path"]).encode()))
    else:
        items.sort(key=lambda i: (-int(str(i["visitors"])), -int(str(i["pageviews"])), str(i["path"]).encode()))
    return items


def time(rows: list[View], summary_only: bool) -> list[dict[str, object]]:
    groups: dict[str, list[View]] = defaultdict(list)
    for view in rows:
        groups[view.pathname].append(view)
    kept = []
    for path, members in groups.items():
        durations = [v.duration_ms for v in members if v.duration_ms is not None]
        item: dict[str, object] = {
            "path": path,
            "duration": quantile(durations, 0.5),
            "duration_upper_quartile": quantile(durations, 0.75),
            "duration_lower_quartile": quantile(durations, 0.25),
            "visitors": sum(v.is_unique_page for v in members),
            "total": sum(durations),
        }
        ok = int(str(item["duration"])) > 0 and int(str(item["visitors"])) >= 3
        if ok and (summary_only or int(str(item["duration_lower_quartile"])) > 0):
            kept.append(item)
    grand = sum(int(str(i["total"])) for i in kept)
    for item in kept:
        item["duration_percentage"] = ratio(int(str(item.pop("total"))), grand)

    def n(item: dict[str, object], key: str) -> float:
        return float(str(item[key]))

    if summary_only:
        kept.sort(
            key=lambda i: (-n(i, "duration_percentage"), -n(i, "duration"), -n(i, "visitors"), str(i["path"]).encode())
        )
        return [{k: i[k] for k in ("path", "duration", "duration_percentage")} for i in kept]
    kept.sort(key=lambda i: (-n(i, "visitors"), -n(i, "duration"), str(i["path"]).encode()))
    return kept


def properties(views: list[View], events_by_bid: dict[str, list[Event]], filters: Filters) -> list[dict[str, object]]:
    by_value = any(c.has_value for c in filters.event_conditions if c.field == "prop_name")
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for view in views:
        if view.hostname != filters.hostname or not view.bid:
            continue
        if not all(holds(c, view) for c in filters.view_conditions):
            continue
        for event in events_by_bid.get(view.bid, []):
            if _in_period(event.date_created, filters) and all(holds(c, event) for c in filters.event_conditions):
                counts[(event.name, event.value if by_value else "")] += 1
    total = sum(counts.values())
    items = []
    for (name, value), events in counts.items():
        item: dict[str, object] = {}
        if name and not by_value:
            item["name"] = name
        if value:
            item["value"] = value
        items.append(item | {"events": events, "events_percentage": ratio(events, total), "_key": (name, value)})
    items.sort(key=lambda i: (-int(str(i["events"])), str(i["_key"][0]).encode(), str(i["_key"][1]).encode()))  # type: ignore[index]
    for item in items:
        del item["_key"]
    return items
