"""-memorylimit: heavy stats under a tiny DuckDB limit answer (spilling) or fail with 503, never kill the server."""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.helpers import assert_error
from tests.support.heavy import HEAVY_YEAR, add_heavy_year
from tests.support.hits import make_hit
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

SITE = "heavy.example"
YEAR = HEAVY_YEAR


def test_heavy_queries_under_a_tiny_limit_answer_or_503_and_the_server_keeps_serving(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_server(data_dir) as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
    add_heavy_year(data_dir / "me_analytics.db", SITE)

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


def test_reports_under_a_small_limits_lower_read_limit_answer_as_under_a_large_one(tmp_path: Path) -> None:
    # At -memorylimit 128MB every read runs under 32 MB (storage/limits.read_bytes_for): DuckDB evicts as it reads,
    # and a report needing more runs again under the full 128 MB. The answers are those of a large limit.
    data_dir = tmp_path / "data"
    with running_server(data_dir) as server, closing(logged_in_client(server)) as admin:
        register_website(admin, SITE)
    add_heavy_year(data_dir / "me_analytics.db", SITE)
    reports = [
        ("summary", {"previous": "true", "interval": "day"}),
        ("pages", {}),
        ("referrers", {}),
        ("time", {}),
        ("browsers", {}),
        ("properties", {}),
    ]

    def answers(*args: str) -> list[object]:
        with running_server(data_dir, *args) as server, closing(logged_in_client(server)) as admin:
            got = []
            for report, extra in reports:
                response = admin.get(f"/api/website/{SITE}/{report}", params={**YEAR, **extra}, timeout=120)
                assert response.status_code == 200, (report, response.text)
                got.append(response.json())
            return got

    assert answers("-memorylimit", "128MB") == answers("-memorylimit", "512MB")
