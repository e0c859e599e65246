"""A year of views too varied for a tiny DuckDB memory limit: the reports' hash tables far exceed 32 MB.

Used where heavy reports must run DuckDB out of memory (tests/e2e/test_memory_limit.py, bench/recovery.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["HEAVY_ROWS", "HEAVY_YEAR", "add_heavy_year"]

HEAVY_ROWS = 400_000
HEAVY_YEAR = {"start": "2024-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"}
# ~All-distinct pages, referrers and bids, one view every 78 s through 2024.
_VIEWS = """
INSERT INTO views
SELECT 'bid' || i, $site, '/page/' || (i * 7919 % $rows), i % 3 = 0, i % 2 = 0,
       'ref' || (i % 50000) || '.example', 'Referrer ' || (i % 50000), 'Country ' || (i % 200),
       'English', 'British English', 'Browser ' || (i % 40), 'OS ' || (i % 20), 'Desktop',
       'source' || (i % 1000), 'medium', 'campaign' || (i % 1000), i % 600000,
       TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i * 78)
FROM range($rows) AS t(i)
"""


def add_heavy_year(analyticsdb: Path, site: str) -> None:
    """Append the year's HEAVY_ROWS views of `site` to an analytics file that has Medama's tables."""
    with duckdb.connect(str(analyticsdb)) as conn:
        conn.execute(_VIEWS, {"site": site, "rows": HEAVY_ROWS})
