"""Own your data in Chromium: set retention in Settings -> Data and see it persist after a reload, see the oldest
page view kept in Settings -> Usage, and download an export of the period on screen whose rows are the API's."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import httpx
from playwright.sync_api import expect

from tests.browser.dashboard_fixtures import log_in, query_of, screenshot
from tests.support.hits import make_hit
from tests.support.server import BROWSER_UA, DEFAULT_USERNAME, register_website

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.support.server import Server

SITE = "data.example"
HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB,en;q=0.9", "Content-Type": "text/plain"}


def _hit(server: Server, bid: str, path: str) -> None:
    body = make_hit(b=bid, u=f"https://{SITE}{path}", r="", p=True, q=True, t=...)
    assert httpx.post(f"{server.base_url}/api/event/hit", content=body, headers=HEADERS, timeout=10).status_code == 204


def test_retention_persists_and_export_downloads_the_period_on_screen(
    server: Server, admin_client: httpx.Client, admin_password: str, page: Page, page_errors: list[str]
) -> None:
    register_website(admin_client, SITE)
    for i in range(7):
        _hit(server, f"visitor{i}", f"/page-{i % 3}")
    base = server.base_url

    log_in(page, base, DEFAULT_USERNAME, admin_password, "/settings/data")
    card = page.locator("form")
    expect(page.get_by_role("radio", name="Keep forever")).to_be_checked()
    expect(page.get_by_text("deletes rows older than the limit")).to_be_visible()
    page.get_by_role("radio", name="Keep for a number of months").check()
    page.get_by_label("Months to keep").fill("0")
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a whole number of months from 1 to 1200.")).to_be_visible()
    page.get_by_label("Months to keep").fill("6")
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("retention-current")).to_contain_text("older than 6 months are deleted once a day")
    assert admin_client.get("/api/data/retention").json() == {"months": 6}
    page.reload()
    expect(page.get_by_role("radio", name="Keep for a number of months")).to_be_checked()
    expect(page.get_by_label("Months to keep")).to_have_value("6")
    screenshot(page, "settings-data-retention")

    page.goto(f"{base}/settings/usage")
    expect(page.get_by_text("Oldest page view kept")).to_be_visible()
    assert admin_client.get("/api/user/usage").json()["analytics"]["oldestPageView"] is not None
    expect(page.get_by_text("None yet")).to_have_count(0)

    with page.expect_request(lambda r: "/summary?" in r.url) as summary_request:
        page.goto(f"{base}/{SITE}?period=today")
    summary_query = query_of(summary_request.value.url)
    page.get_by_label("Export", exact=True).select_option("csv")
    page.get_by_label("Export rows").select_option("views")
    link = page.get_by_role("link", name="Download")
    export_query = query_of(link.get_attribute("href") or "")
    assert export_query["start"] == summary_query["start"]
    assert export_query["end"] == summary_query["end"]
    screenshot(page, "stats-export")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"{SITE}-views.csv"
    downloaded = list(csv.DictReader(download.path().read_text(encoding="utf-8").splitlines()))
    answer = admin_client.get(f"/api/website/{SITE}/export", params={k: v[0] for k, v in export_query.items()})
    assert answer.status_code == 200
    assert downloaded == list(csv.DictReader(answer.text.splitlines()))
    assert len(downloaded) == 7
    assert sorted({row["pathname"] for row in downloaded}) == ["/page-0", "/page-1", "/page-2"]
    assert page_errors == []
