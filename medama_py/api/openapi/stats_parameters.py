"""The stats query parameters in openapi.yaml, which Litestar cannot see: the handlers decode them themselves.

Each report's list comes from the report table (stats/reports.py), so the document and the handlers cannot drift.
"""

from __future__ import annotations

import copy
from typing import Any

from medama_py.stats import reports

__all__ = ["document_stats_parameters"]

_FILTER_DESCRIPTIONS = {
    "path": "Path of the page.",
    "referrer": "Referrer host or referrer group (either matches).",
    "utm_source": "UTM source of the page hit.",
    "utm_medium": "UTM medium of the page hit.",
    "utm_campaign": "UTM campaign of the page hit.",
    "browser": "Browser name.",
    "os": "Operating system name.",
    "device": "Device type.",
    "country": "Country name.",
    "language": "Language name or dialect (either matches).",
    "prop_name": "Name of a custom property of the page view's events.",
    "prop_value": "Value of a custom property of the page view's events.",
}
_OPERATOR_DESCRIPTIONS = {
    "eq": "Equal to (case-insensitive; % and _ are literal).",
    "neq": "Not equal to.",
    "contains": "Contains.",
    "not_contains": "Does not contain.",
    "starts_with": "Starts with.",
    "not_starts_with": "Does not start with.",
    "ends_with": "Ends with.",
    "not_ends_with": "Does not end with.",
    "in": "Equal to one of a comma-separated list.",
    "not_in": "Equal to none of a comma-separated list.",
}
_PERIOD = "Period {} (inclusive), an RFC 3339 date-time such as 2024-06-01T00:00:00Z; fractions are truncated."
_SCALARS: dict[str, dict[str, Any]] = {
    "start": {"description": _PERIOD.format("start"), "schema": {"type": "string", "format": "date-time"}},
    "end": {"description": _PERIOD.format("end"), "schema": {"type": "string", "format": "date-time"}},
    "previous": {
        "description": "Also return the previous period of the same length (needs start and end).",
        "schema": {"type": "boolean", "default": False},
    },
    "interval": {
        "description": "Return a zero-filled series of buckets of this size (needs start and end).",
        "schema": {"type": "string", "enum": ["minute", "hour", "day", "week", "month"]},
    },
    "summary": {"description": "Return the short item shape.", "schema": {"type": "boolean", "default": False}},
    "grouped": {
        "description": "Group referrer hosts by referrer group.",
        "schema": {"type": "boolean", "default": True},
    },
    "locale": {
        "description": "Return language dialects instead of base languages.",
        "schema": {"type": "boolean", "default": False},
    },
    "limit": {
        "description": "Return at most this many items.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 5000},
    },
    "offset": {"description": "Skip this many items.", "schema": {"type": "integer", "minimum": 0, "maximum": 5000}},
}


def _stats_parameters(report: str) -> list[dict[str, Any]]:
    accepts = reports.REPORTS[report].accepts
    names = ["start", "end", *(n for n in _SCALARS if n in accepts)]
    # Deep copies: shared dicts would come out of the YAML dump as anchors and aliases.
    params = [{"name": n, "in": "query", "required": False, **copy.deepcopy(_SCALARS[n])} for n in names]
    params.extend(
        {
            "name": field,
            "in": "query",
            "required": False,
            "description": text,
            "style": "deepObject",
            "explode": True,
            "allowReserved": True,
            "schema": {"$ref": "#/components/schemas/FilterString"},
        }
        for field, text in _FILTER_DESCRIPTIONS.items()
    )
    return params


def document_stats_parameters(document: dict[str, Any]) -> None:
    """openapi.yaml hook: add the stats query parameters (deepObject filters) the handlers decode themselves."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["FilterString"] = {
        "type": "object",
        "additionalProperties": False,  # an unknown operator is a 400, never silently ignored
        "properties": {op: {"type": "string", "description": text} for op, text in _OPERATOR_DESCRIPTIONS.items()},
    }
    # A dimension share is 0/0 = NaN, written as null, when the group's rows are all repeat visits and so
    # are all other rows (docs/stats.md#metrics); the other shares always have a positive denominator.
    for name, schema in schemas.items():
        share = schema.get("properties", {}).get("visitors_percentage")
        if share is not None and name.startswith("Stats") and name != "StatsPagesItem":
            share["type"] = ["number", "null"]
    prefix = "/api/website/{hostname}/"
    for path, item in document.get("paths", {}).items():
        report = path.removeprefix(prefix)
        if not path.startswith(prefix) or report not in reports.REPORTS or "get" not in item:
            continue
        operation = item["get"]
        kept = [p for p in operation.get("parameters", []) if p.get("in") != "query"]
        operation["parameters"] = kept + _stats_parameters(report)
