"""Storage: the SQLite meta database and the DuckDB analytics database."""

from __future__ import annotations
