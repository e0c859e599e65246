"""Run a report the way the API does: a query string → StatsParams → report → compact JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import msgspec

from medama_py.stats.params import StatsParams, parse_params
from medama_py.stats.reports import REPORTS

if TYPE_CHECKING:
    import duckdb

ENDPOINTS = tuple(REPORTS)


def params(endpoint: str, query: str, hostname: str = "example.com") -> StatsParams:
    return parse_params(parse_qsl(query, keep_blank_values=True), hostname, accepts=REPORTS[endpoint].accepts)


def run(cur: duckdb.DuckDBPyConnection, endpoint: str, query: str = "", hostname: str = "example.com") -> Any:
    """The report's result decoded back into plain JSON values (dicts, lists, numbers, None for NaN)."""
    result = REPORTS[endpoint].run(cur, params(endpoint, query, hostname))
    return msgspec.json.decode(msgspec.json.encode(result))


def readable(cur: duckdb.DuckDBPyConnection, endpoint: str, query: str = "", hostname: str = "example.com") -> str:
    """The response JSON with one list item per line, for snapshot files a person can review."""
    result = REPORTS[endpoint].run(cur, params(endpoint, query, hostname))
    encode = msgspec.json.encode
    if not isinstance(result, msgspec.Struct):
        return "[\n" + ",\n".join(encode(item).decode() for item in result) + "\n]"
    lines = []
    for name in result.__struct_fields__:
        value = getattr(result, name)
        if value is msgspec.UNSET:
            continue
        if isinstance(value, list):
            items = ",\n".join("  " + encode(item).decode() for item in value)
            lines.append(f'"{name}": [\n{items}\n]')
        else:
            lines.append(f'"{name}": {encode(value).decode()}')
    return "{\n" + ",\n".join(lines) + "\n}"
