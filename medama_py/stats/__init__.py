"""Stats reports: Filters → SQL on a DuckDB cursor → msgspec Structs. Never imports the web framework."""

from __future__ import annotations

from medama_py.stats.filters import Condition, Filters
from medama_py.stats.params import StatsParams, parse_params
from medama_py.stats.query import Page

__all__ = ["Condition", "Filters", "Page", "StatsParams", "parse_params"]
