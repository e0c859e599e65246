"""Accounts in Chromium: an admin invites a viewer for one website and publishes another through a share link;
the viewer sees only its website; an anonymous visitor on a phone sees the shared website's numbers, the same as
the admin's; after revocation the link shows a clear "no longer available" page (docs/accounts.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.api.helpers import SeedUser, seed_data_dir
from tests.browser.conftest import context_options
from tests.browser.dashboard_fixtures import log_in, screenshot
from tests.support.rows import make_view
from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, BrowserContext, Page

    from tests.support.server import Server

ADMIN_PASSWORD = "browser-admin-password"
CLIENT_SITE = "client.example"
PUBLIC_SITE = "public.example"
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("accounts") / "data"
    admin = SeedUser("user_01h455vb4pex5vsknk084sn0ad", "admin", ADMIN_PASSWORD, websites=(CLIENT_SITE, PUBLIC_SITE))
    views = [make_view(hostname=CLIENT_SITE, date_created=NOW - timedelta(hours=2), bid="c1")]
    views += [
        make_view(hostname=PUBLIC_SITE, date_created=NOW - timedelta(hours=h), is_unique_user=h % 2 == 1, bid=f"p{h}")
        for h in range(1, 8)
    ]
    seed_data_dir(data, users=[admin], views=views, with_admin=False)
    with running_server(data) as running:
        yield running


def totals(page: Page) -> dict[str, str]:
    """The stat boxes' exact values (data-value), once loaded."""
    boxes = page.locator(".stat-box")
    expect(boxes.first).not_to_have_attribute("data-value", "")
    return {str(b.get_attribute("data-stat")): str(b.get_attribute("data-value")) for b in boxes.all()}


def new_context(browser: Browser, user_agent: str, *, phone: bool = False) -> BrowserContext:
    """A first-time visitor of its own: on a desktop, or on a phone (390 x 844 CSS pixels, touch)."""
    options = context_options(user_agent)
    if phone:
        options |= {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    return browser.new_context(**options)  # type: ignore[arg-type]


def test_viewer_and_share_link_from_the_dashboard(
    server: Server, browser: Browser, browser_user_agent: str, page: Page, page_errors: list[str]
) -> None:
    base = server.base_url
    log_in(page, base, "admin", ADMIN_PASSWORD, "/settings/users")

    # Invite a viewer for one website: the generated password is shown once.
    page.get_by_label("Username").fill("client-one")
    page.get_by_role("checkbox", name=CLIENT_SITE).check()
    page.get_by_role("button", name="Invite user").click()
    dialog = page.get_by_role("dialog", name="Password for this user")
    expect(dialog).to_be_visible()
    password = dialog.get_by_test_id("snippet").inner_text().strip()
    assert len(password) == 20
    dialog.get_by_role("button", name="Done").click()
    row = page.get_by_test_id("user-client-one")
    expect(row).to_contain_text("Viewer")
    expect(row).to_contain_text(CLIENT_SITE)
    assert password not in page.content()
    screenshot(page, "settings-users")

    # Publish the other website through a share link.
    page.goto(f"{base}/settings/websites?website={PUBLIC_SITE}")
    page.get_by_role("button", name="Create share link").click()
    link = page.get_by_test_id("share-link")
    expect(link).to_have_count(1)
    share_url = link.get_by_test_id("snippet").inner_text().strip()
    assert share_url.startswith(f"{base}/share/")
    screenshot(page, "settings-websites-share")

    page.goto(f"{base}/{PUBLIC_SITE}?period=7d")
    admin_numbers = totals(page)
    assert admin_numbers["visitors"] == "4"

    # The viewer sees only its website, and the other one is a 404 like a missing one.
    viewer_context = new_context(browser, browser_user_agent)
    viewer = viewer_context.new_page()
    log_in(viewer, base, "client-one", password)
    cards = viewer.get_by_role("list", name="Websites").get_by_role("link")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(CLIENT_SITE)
    expect(viewer.get_by_role("button", name="Add website")).to_have_count(0)
    viewer.goto(f"{base}/{PUBLIC_SITE}")
    expect(viewer.get_by_text("You have found a secret place.")).to_be_visible()
    viewer.goto(f"{base}/settings/users")
    expect(viewer.get_by_role("navigation", name="Settings").get_by_role("link")).to_have_count(1)
    viewer_context.close()

    # An anonymous visitor on a phone: the same numbers, no navigation, nothing of the dashboard around it.
    phone_context = new_context(browser, browser_user_agent, phone=True)
    phone = phone_context.new_page()
    phone_errors: list[str] = []
    phone.on("pageerror", lambda error: phone_errors.append(str(error)))
    response = phone.goto(f"{share_url}?period=7d")
    assert response is not None
    assert response.status == 200
    assert totals(phone) == admin_numbers
    expect(phone.get_by_text(PUBLIC_SITE, exact=True)).to_be_visible()
    expect(phone.get_by_role("link", name="Settings")).to_have_count(0)
    expect(phone.get_by_role("link", name="Log in")).to_have_count(0)
    expect(phone.get_by_role("combobox", name="Website")).to_have_count(0)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the shared page scrolls sideways by {overflow}px on a phone"
    screenshot(phone, "share-page-phone")

    # Revoking: the same page now says so, and answers 404.
    page.goto(f"{base}/settings/websites?website={PUBLIC_SITE}")
    page.once("dialog", lambda confirm: confirm.accept())
    page.get_by_role("button", name="Revoke link").click()
    expect(page.get_by_text("This website is not shared.")).to_be_visible()
    gone = phone.goto(f"{share_url}?period=7d")
    assert gone is not None
    assert gone.status == 404
    expect(phone.get_by_role("heading", name="This link is no longer available.")).to_be_visible()
    screenshot(phone, "share-page-revoked")
    phone_context.close()
    assert page_errors == []
    assert phone_errors == []
