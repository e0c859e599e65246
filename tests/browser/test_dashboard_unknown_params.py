"""The dashboard renders with another dashboard's state in its URL (docs/compatibility.md, unknown parameters).

Medama's own dashboard puts `chart[stat]=pageviews&chart[type]=bar` in the page URL and forwards such
parameters to every stats request; neither the page nor the API may turn them into a 400.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import expect

from tests.browser.dashboard_fixtures import SITE

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

    from tests.support.server import Server

STATE = "chart%5Bstat%5D=pageviews&chart%5Btype%5D=bar&x=1"


def test_stats_page_renders_with_unknown_parameters(server: Server, registered_site: str, admin_page: Page) -> None:
    page = admin_page
    stats: list[Response] = []
    page.on("response", lambda r: stats.append(r) if "/api/website/" in r.url else None)
    page.goto(f"{server.base_url}/{SITE}?{STATE}&period=7d")
    expect(page.locator('[data-stat="visitors"]')).to_have_attribute("data-value", "0")
    expect(page.get_by_role("heading", name="Your request is invalid.")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert stats, "the stats page made no stats requests"
    assert all(r.status == 200 for r in stats), [(r.url, r.status) for r in stats if r.status != 200]
    # As Medama's dashboard would send them: the same parameters forwarded to a stats endpoint.
    forwarded = page.request.get(f"{server.base_url}/api/website/{SITE}/pages?summary=true&{STATE}")
    assert forwarded.status == 200, forwarded.text()
