"""-memorylimit: heavy stats under a tiny DuckDB limit answer (spilling) or fail with 503, never kill the server."""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

import duckdb
import httpx
import pytest

from tests.api.helpers import assert_error
from tests.support.hits import make_hit
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

SITE = "heavy.example"
ROWS = 400_000
# A year of views with ~all-distinct pages, referrers and bids: the reports' hash tables far exceed 32 MB.
_SEED = """
INSERT INTO views
SELECT 'bid' || i, $site, '/page/' || (i * 7919 % $rows), i % 3 = 0, i % 2 = 0,
       'ref' || (i % 50000) || '.example', 'Referrer ' || (i % 50000), 'Country ' || (i % 200),
       'English', 'British English', 'Browser ' || (i % 40), 'OS ' || (i % 20), 'Desktop',
       'source' || (i % 1000), 'medium', 'campaign' || (i % 1000), i % 600000,
       TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i * 78)
FROM range($rows) AS t(i)
"""
YEAR = {"start": "2024-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"}


def _seed(analyticsdb: Path) -> None:
    with duckdb.connect(str(analyticsdb)) as conn:
        conn.execute(_SEED, {"site": SITE, "rows": ROWS})


def test_heavy_queries_under_a_tiny_limit_answer_or_503_and_the_server_keeps_serving(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_server(data_dir) as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
    _seed(data_dir / "me_analytics.db")

    with running_server(data_dir, "-memorylimit", "32MB") as server, closing(logged_in_client(server)) as admin:
        answers = []
        for report, extra in [
            ("summary", {"previous": "true", "interval": "day"}),
            ("pages", {}),
            ("referrers", {}),
            ("sources", {}),
            ("campaigns", {}),
            ("time", {}),
            ("pages", {"limit": "5000"}),
            ("properties", {}),
        ]:
            response = admin.get(f"/api/website/{SITE}/{report}", params={**YEAR, **extra}, timeout=120)
            answers.append((report, response.status_code))
            if response.status_code != 200:
                assert_error(response, 503)
                assert response.headers["retry-after"] == "1"
                assert "memory" in response.json()["error"]["message"]
        assert {status for _, status in answers} <= {200, 503}, answers
        print("answers under -memorylimit 32MB:", answers)

        # Still serving: ingestion, the dashboard's reads, and the usage page with the limit in force.
        assert admin.get(f"/api/website/{SITE}/summary", params={"start": "2024-12-31T00:00:00Z"}).status_code == 200
        hit = httpx.post(
            f"{server.base_url}/api/event/hit",
            content=make_hit(b="after", u=f"https://{SITE}/after", r=..., q=True, t=...),
            headers={"content-type": "text/plain", "user-agent": BROWSER_UA},
        )
        assert hit.status_code == 204
        usage = admin.get("/api/user/usage").json()
        assert usage["analytics"]["memoryLimit"] == 32 * 2**20
        assert server.process.poll() is None
