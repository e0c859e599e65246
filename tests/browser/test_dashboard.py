"""The dashboard in headless Chromium against the real server, as a new user meets it.

One journey: the 401 → login redirect and return, the first-run password prompt, adding a site,
real visits through the real tracker on a fixture page, then the stats page (numbers compared with
the API's), filters, date range, interval, chart type, a "more" table with paging, settings and
logout. Full-page screenshots of the main pages go to test-artifacts/dashboard/ (gitignored).
"""

from __future__ import annotations

import gzip
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import context_options
from tests.browser.dashboard_fixtures import (
    ARTIFACTS,
    NEW_PASSWORD,
    SITE,
    api_json,
    generate_visits,
    query_of,
    screenshot,
    wait_for_pageviews,
)
from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME

if TYPE_CHECKING:
    import httpx
    from playwright.sync_api import Browser, Locator, Page, Response

    from tests.browser.conftest import StaticSite
    from tests.support.server import Server


def main_nav(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


def stat_value(page: Page, stat: str) -> str:
    value = page.locator(f'[data-stat="{stat}"]').get_attribute("data-value")
    assert value is not None
    return value


def expect_stats(page: Page, visitors: int, pageviews: int) -> None:
    expect(page.locator('[data-stat="visitors"]')).to_have_attribute("data-value", str(visitors))
    expect(page.locator('[data-stat="pageviews"]')).to_have_attribute("data-value", str(pageviews))


def assert_matches_api(page: Page, summary: Response, admin: httpx.Client) -> dict[str, Any]:
    """The stat boxes and the chart show exactly what the API answers for the page's own query."""
    api: dict[str, Any] = api_json(admin, summary.url)
    assert summary.json() == api
    current = api["current"]
    expect_stats(page, current["visitors"], current["pageviews"])
    assert int(stat_value(page, "duration")) == current["duration"]
    assert float(stat_value(page, "bounces")) == current["bounce_percentage"]
    # The visible text is the formatted number (small counts stay exact).
    expect(page.locator('[data-stat="visitors"] .stat-value')).to_have_text(str(current["visitors"]))
    expect(page.get_by_test_id("chart")).to_have_attribute("data-points", str(len(api["interval"])))
    return api


FILTER_PARAM = re.compile(r"^(?!chart\[)\w+\[\w+\]$")


def filters_in(url: str) -> set[tuple[str, str]]:
    """The filter parameters of a URL (`path[eq]=/about`), not the chart's own (`chart[type]`)."""
    return {(k, v) for k, values in query_of(url).items() if FILTER_PARAM.match(k) for v in values}


def summary_after(page: Page, action: Any) -> Response:
    """Run `action` and return the summary response it caused.

    Only a summary asked for the page's filters as they are when it arrives counts: the answer to
    an earlier action can still be on its way, and taking it would compare the wrong numbers.
    """

    def caused(r: Response) -> bool:
        return "/summary?" in r.url and r.status == 200 and filters_in(r.url) == filters_in(page.url)

    with page.expect_response(caused) as info:
        action()
    response: Response = info.value
    return response


def test_dashboard_journey(
    server: Server,
    browser: Browser,
    browser_user_agent: str,
    static_site: StaticSite,
    admin_client: httpx.Client,
) -> None:
    context = browser.new_context(**context_options(browser_user_agent), viewport={"width": 1280, "height": 900})  # type: ignore[arg-type]
    errors: list[str] = []
    foreign: list[str] = []
    context.on("request", lambda r: None if r.url.startswith(server.base_url) else foreign.append(r.url))
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    base = server.base_url

    # --- a deep link while logged out goes to the login page, and back after logging in
    page.goto(f"{base}/settings/usage")
    page.wait_for_url(f"{base}/login?redirect=%2Fsettings%2Fusage")
    expect(page).to_have_title("Login | Medama")
    screenshot(page, "login")
    page.get_by_label("Username").fill(DEFAULT_USERNAME)
    page.get_by_label("Password", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid username or password")
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/settings/usage")

    # --- first run: the prompt to replace the default password
    prompt = page.get_by_role("dialog", name="Choose your own password")
    expect(prompt).to_be_visible()
    screenshot(page, "first-run-password-prompt")
    prompt.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    prompt.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    prompt.get_by_role("button", name="Save password").click()
    expect(prompt).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="Password changed")).to_be_visible()
    assert admin_client.post("/api/auth/login", json={"username": "admin", "password": NEW_PASSWORD}).status_code == 200
    assert (
        admin_client.post("/api/auth/login", json={"username": "admin", "password": DEFAULT_PASSWORD}).status_code
        == 401
    )
    expect(page.get_by_text("Threads")).to_be_visible()
    expect(page.get_by_text("Process memory (RSS)")).to_be_visible()
    expect(page.get_by_text("Write-ahead log", exact=True)).to_be_visible()
    # The hit journal's slow flushes since start, out of all of them ("0 of 0" before the first hit).
    flushes = page.locator("dt:text-is('Slow disk flushes (over 250 ms)') + dd")
    expect(flushes).to_have_text(re.compile(r"^\d[\d,]* of \d[\d,]*( \(slowest [\d,]+ ms\))?$"))
    screenshot(page, "settings-usage")

    # --- the empty website list, then add the fixture site and get the snippet
    main_nav(page, "Websites").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_text("No websites yet.")).to_be_visible()
    screenshot(page, "websites-empty")
    page.get_by_role("button", name="Add website").first.click()
    add = page.get_by_role("dialog", name="Add a website")
    add.get_by_label("Domain name").fill("not a domain")
    add.get_by_role("button", name="Add website").click()
    expect(add.get_by_role("alert")).to_contain_text("valid domain name")
    add.get_by_label("Domain name").fill(SITE)
    add.get_by_role("button", name="Add website").click()
    ready = page.get_by_role("dialog", name=f"{SITE} is ready")
    expect(ready.get_by_test_id("snippet")).to_have_text(f'<script defer src="{base}/script.js"></script>')
    screenshot(page, "website-added-snippet")
    ready.get_by_role("button", name="Go to the dashboard").click()
    page.wait_for_url(f"{base}/{SITE}")
    expect(page).to_have_title("Dashboard | Medama")
    expect_stats(page, 0, 0)
    expect(page.get_by_text("No visits recorded in this period.")).to_be_visible()
    expect(page.get_by_test_id("card-pages").get_by_text("No records found")).to_be_visible()
    screenshot(page, "stats-empty")

    # --- real visits through the real tracker on a fixture page
    expected = generate_visits(browser, browser_user_agent, static_site, server, admin_client)
    wait_for_pageviews(admin_client, expected.pageviews)

    # --- the stats page shows the API's numbers
    summary = summary_after(page, page.reload)
    api = assert_matches_api(page, summary, admin_client)
    assert (api["current"]["visitors"], api["current"]["pageviews"]) == (expected.visitors, expected.pageviews)
    pages_api = api_json(admin_client, summary.url.replace("/summary?", "/pages?") + "&summary=true&limit=5")
    shown = page.get_by_test_id("list-pages").locator(".bar-value")
    expect(shown).to_have_count(len(pages_api))
    assert [v.get_attribute("data-value") for v in shown.all()] == [str(r["visitors"]) for r in pages_api]
    assert page.get_by_test_id("list-pages").locator(".bar-label").first.inner_text().endswith(pages_api[0]["path"])
    referrers = page.get_by_test_id("card-referrers")
    referrers.get_by_role("tab", name="Sources").click()
    expect(referrers.get_by_test_id("list-sources")).to_contain_text("newsletter")
    properties = page.get_by_test_id("card-properties")
    expect(properties.get_by_test_id("list-properties")).to_contain_text("plan")
    screenshot(page, "stats")
    summary_after(page, lambda: properties.get_by_label("Property").select_option("plan"))
    assert query_of(page.url)["prop_name[eq]"] == ["plan"]
    expect(properties.get_by_test_id("list-properties").locator(".bar-label")).to_have_text("Filter by pro")
    expect(properties.get_by_test_id("list-properties").locator(".bar-value")).to_have_attribute("data-value", "1")
    summary_after(page, lambda: page.get_by_role("button", name="Remove filter: Property Name is plan").click())

    # --- a filter from a row click, removed from its chip
    summary = summary_after(page, lambda: page.get_by_role("button", name="Filter by /about").click())
    assert query_of(page.url)["path[eq]"] == ["/about"]
    expect(page.get_by_test_id("filter-chip")).to_have_text("Path is /about")
    api = assert_matches_api(page, summary, admin_client)
    assert api["current"]["pageviews"] == expected.about_views
    screenshot(page, "stats-filtered")
    summary_after(page, lambda: page.get_by_role("button", name="Remove filter: Path is /about").click())
    assert "path[eq]" not in query_of(page.url)
    expect(page.get_by_test_id("filter-chip")).to_have_count(0)
    expect_stats(page, expected.visitors, expected.pageviews)

    # --- a filter from the dialog: every dimension and operator is offered
    page.get_by_role("button", name="Add filter").click()
    dialog = page.get_by_role("dialog", name="New filter")
    expect(dialog.get_by_label("Field").locator("option")).to_have_count(12)
    expect(dialog.get_by_label("Condition").locator("option")).to_have_count(10)
    dialog.get_by_label("Field").select_option("utm_source")
    dialog.get_by_label("Condition").select_option("contains")
    expect(dialog.get_by_role("button", name="Apply filter")).to_be_disabled()
    dialog.get_by_label("Value").fill("newslet")
    summary = summary_after(page, lambda: dialog.get_by_label("Value").press("Enter"))
    assert query_of(page.url)["utm_source[contains]"] == ["newslet"]
    assert_matches_api(page, summary, admin_client)
    expect_stats(page, 1, 1)
    summary_after(page, lambda: page.get_by_role("button", name=re.compile("^Remove filter: UTM Source")).click())

    # --- date range, interval, chart type and chart stat live in the URL
    summary = summary_after(page, lambda: page.get_by_label("Date range").select_option("7d"))
    assert query_of(page.url)["period"] == ["7d"]
    expect(page.get_by_label("Interval")).to_have_value("day")
    api = assert_matches_api(page, summary, admin_client)
    assert len(api["interval"]) == 8  # the 7 previous days and today
    summary = summary_after(page, lambda: page.get_by_label("Interval").select_option("hour"))
    assert query_of(page.url)["interval"] == ["hour"]
    api = assert_matches_api(page, summary, admin_client)
    assert len(api["interval"]) > 24 * 7
    page.get_by_role("button", name="Bar chart").click()
    assert query_of(page.url)["chart[type]"] == ["bar"]
    expect(page.get_by_role("button", name="Bar chart")).to_have_attribute("aria-pressed", "true")
    page.locator('[data-stat="pageviews"]').click()
    assert query_of(page.url)["chart[stat]"] == ["pageviews"]
    expect(page.locator('[data-stat="pageviews"]')).to_have_attribute("aria-pressed", "true")
    screenshot(page, "stats-7d-hours-bars")

    # --- the "more" table of pages, paged
    page.get_by_test_id("more-pages").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/{SITE}/pages\?"))
    assert query_of(page.url)["period"] == ["7d"]
    table = page.get_by_test_id("full-table")
    expect(table.locator("tbody tr")).to_have_count(10)
    expect(page.get_by_test_id("page-status")).to_have_text("Page 1 of 2")
    full = api_json(admin_client, summary.url.replace("/summary?", "/pages?") + "&summary=false")
    assert len(full) == expected.paths, summary.url
    first = table.locator("tbody tr").first
    expect(first.locator('[data-field="visitors"]')).to_have_attribute("data-value", str(full[0]["visitors"]))
    expect(first.locator("th")).to_have_text(f"Filter by {full[0]['path']}")
    screenshot(page, "table-pages")
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_test_id("page-status")).to_have_text("Page 2 of 2")
    expect(table.locator("tbody tr")).to_have_count(expected.paths - 10)
    page.get_by_role("button", name="25", exact=True).click()
    expect(page.get_by_test_id("page-status")).to_have_text("Page 1 of 1")
    expect(table.locator("tbody tr")).to_have_count(expected.paths)
    page.get_by_role("link", name="Referrers").click()
    page.wait_for_url(re.compile(rf"/{SITE}/referrers\?"))
    expect(page.get_by_role("heading", name="Referrers")).to_be_visible()
    page.get_by_role("link", name="Back to overview").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/{SITE}\?"))

    # --- settings: tracker variant and a blocked IP are saved through the API
    main_nav(page, "Settings").click()
    page.wait_for_url(f"{base}/settings/account")
    expect(page.get_by_label("Username")).to_have_value(DEFAULT_USERNAME)
    screenshot(page, "settings-account")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Tracker").click()
    expect(page.get_by_role("checkbox", name=re.compile("^Click events"))).to_be_checked()
    page.get_by_role("checkbox", name=re.compile("^Page view events")).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="/script.js now uses")).to_be_visible()
    script_type = admin_client.get("/api/tenant/settings").json()["script_type"]
    assert script_type == ["default", "click-events", "page-events"]
    screenshot(page, "settings-tracker")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Spam").click()
    page.get_by_label("Add an IP address").fill("203.0.113.7")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("list", name="Blocked IP addresses")).to_contain_text("203.0.113.7")
    assert admin_client.get("/api/tenant/settings").json()["blockedIPs"] == ["203.0.113.7"]
    screenshot(page, "settings-spam")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Websites").click()
    expect(page.get_by_label("Website", exact=True)).to_have_value(SITE)
    screenshot(page, "settings-websites")

    # --- the website list shows the last 24 hours
    main_nav(page, "Websites").click()
    expect(page.get_by_test_id("site-visitors")).to_contain_text(f"{expected.visitors} visitors in the last 24 hours")
    screenshot(page, "websites")

    # --- phone-sized screen: same data, menu behind a button
    phone = browser.new_context(
        **context_options(browser_user_agent),  # type: ignore[arg-type]
        viewport={"width": 390, "height": 844},
        storage_state=context.storage_state(),
    )
    small = phone.new_page()
    small.goto(f"{base}/{SITE}?period=7d")
    expect(small.locator('[data-stat="visitors"]')).to_have_attribute("data-value", str(expected.visitors))
    expect(small.get_by_role("link", name="Settings")).to_be_hidden()
    small.get_by_role("button", name="Open menu").click()
    expect(small.get_by_role("link", name="Settings")).to_be_visible()
    small.get_by_role("button", name="Close menu").click()
    screenshot(small, "phone-stats")
    phone.close()

    # --- logout, then the session is gone
    page.get_by_role("link", name="Log out").click()
    expect(page.get_by_text("You have been logged out.")).to_be_visible()
    page.goto(f"{base}/{SITE}")
    page.wait_for_url(f"{base}/login?redirect=%2F{SITE}")

    assert errors == []
    assert foreign == [], "the dashboard must not load anything from another origin"
    context.close()


@pytest.mark.parametrize("period", ["bogus", "custom"])
def test_bad_period_in_url_shows_the_400_page(
    server: Server, registered_site: str, admin_page: Page, period: str
) -> None:
    page = admin_page
    page.goto(f"{server.base_url}/{SITE}?period={period}")
    expect(page.get_by_role("heading", name="Your request is invalid.")).to_be_visible()
    page.goto(f"{server.base_url}/{SITE}/nonsense")
    expect(page.get_by_role("heading", name="You have found a secret place.")).to_be_visible()
    page.goto(f"{server.base_url}/unknown.example")
    expect(page.get_by_role("heading", name="You have found a secret place.")).to_be_visible()


def test_custom_range_from_the_dialog(server: Server, registered_site: str, admin_page: Page) -> None:
    page = admin_page
    page.goto(f"{server.base_url}/{SITE}")
    expect(page.locator('[data-stat="visitors"]')).to_have_attribute("data-value", "0")
    page.get_by_label("Date range").select_option("custom")
    dialog = page.get_by_role("dialog", name="Choose a date range")
    dialog.get_by_label("From").fill("2025-03-01")
    dialog.get_by_label("To").fill("2025-03-31")
    with page.expect_response(lambda r: "/summary?" in r.url) as info:
        dialog.get_by_role("button", name="Apply").click()
    query = query_of(page.url)
    assert (query["period"], query["start"], query["end"]) == (["custom"], ["2025-03-01"], ["2025-03-31"])
    sent = parse_qs(urlsplit(info.value.url).query)
    assert sent["start"][0].startswith("2025-03-01T00:00:00")
    assert sent["end"][0].startswith("2025-03-31T23:59:59")  # the last day is included
    assert sent["interval"] == ["day"]
    # en-GB browser: day before month.
    expect(page.get_by_label("Date range").locator("option:checked")).to_have_text("1 Mar 2025 – 31 Mar 2025")


def test_first_load_is_within_the_150_kb_gzip_budget(server: Server, admin_client: httpx.Client) -> None:
    index = admin_client.get("/login")
    assert index.status_code == 200
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', index.text)
    assert any(a.endswith(".js") for a in assets)
    assert any(a.endswith(".css") for a in assets)
    total = 0
    for asset in assets:
        response = admin_client.get(asset)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        total += len(gzip.compress(response.content, 9))
    assert total <= 150 * 1024, f"{total} bytes gzip"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "bundle-size.txt").write_text(f"first load JS + CSS: {total} bytes gzip\n")


def test_website_settings_rename_delete_and_account(
    server: Server, admin_client: httpx.Client, admin_page: Page
) -> None:
    for host in ("old.example.com", "other.example.com"):
        assert admin_client.post("/api/websites", json={"hostname": host}).status_code == 201
    page = admin_page
    page.goto(f"{server.base_url}/settings/websites?website=old.example.com")
    expect(page).to_have_title("Website Settings | Medama")

    rename = page.get_by_role("region", name="Rename website")
    rename.get_by_label("Domain name").fill("new.example.com")
    rename.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="is now new.example.com")).to_be_visible()
    assert query_of(page.url)["website"] == ["new.example.com"]
    hosts = {site["hostname"] for site in admin_client.get("/api/websites").json()}
    assert hosts == {"new.example.com", "other.example.com"}

    page.get_by_role("button", name="Delete website…").click()
    dialog = page.get_by_role("dialog", name="Delete new.example.com?")
    dialog.get_by_label("Type new.example.com to confirm").fill("other.example.com")
    dialog.get_by_role("button", name="Delete website").click()
    expect(dialog.get_by_role("alert")).to_have_text("The domain name does not match.")
    dialog.get_by_label("Type new.example.com to confirm").fill("new.example.com")
    dialog.get_by_role("button", name="Delete website").click()
    expect(page.get_by_role("status").filter(has_text="are deleted")).to_be_visible()
    assert [site["hostname"] for site in admin_client.get("/api/websites").json()] == ["other.example.com"]
    expect(page.get_by_label("Website", exact=True)).to_have_value("other.example.com")

    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Account").click()
    expect(page).to_have_title("Account Settings | Medama")
    page.get_by_label("Username").fill("owner")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="account details are updated")).to_be_visible()
    assert admin_client.get("/api/user").json()["username"] == "owner"


def test_keyboard_only_stat_choice_and_tabs(server: Server, registered_site: str, admin_page: Page) -> None:
    page = admin_page
    page.goto(f"{server.base_url}/{SITE}")
    # The skip link comes first, then the page can be driven from the keyboard.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    box = page.locator('[data-stat="duration"]')
    box.focus()
    page.keyboard.press("Enter")
    assert query_of(page.url)["chart[stat]"] == ["duration"]
    expect(box).to_have_attribute("aria-label", re.compile(r"^Time Spent: N/A\. "))
    tab = page.get_by_test_id("card-referrers").get_by_role("tab", name="Referrers")
    tab.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("card-referrers").get_by_role("tab", name="Sources")).to_be_focused()
    expect(page.get_by_test_id("card-referrers").get_by_role("tab", name="Sources")).to_have_attribute(
        "aria-selected", "true"
    )
    page.get_by_role("button", name="Add filter").press("Enter")
    dialog = page.get_by_role("dialog", name="New filter")
    expect(dialog.get_by_label("Value")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Add filter")).to_be_focused()
