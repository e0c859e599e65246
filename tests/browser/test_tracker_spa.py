"""The tracker on single-page apps: History API navigation, the back button, and hash routing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.test_tracker import (
    html,
    record_beacons,
    script_tag,
    stats,
    stored_views,
    wait_for_duration,
    wait_for_load,
    wait_for_server,
    wait_until,
)

if TYPE_CHECKING:
    import httpx
    from playwright.sync_api import BrowserContext, Page

    from tests.browser.conftest import StaticSite
    from tests.support.server import Server


@pytest.fixture
def spa(registered_site: str, static_site: StaticSite, server: Server) -> StaticSite:
    """An app shell served for every path, with the default snippet."""
    static_site.pages["/app"] = html("App", script_tag(server), '<a id="anchor" href="#section">Jump</a>')
    static_site.fallback = "/app"
    return static_site


def test_push_state_back_button_and_replace_state(
    spa: StaticSite,
    context: BrowserContext,
    page: Page,
    page_errors: list[str],
    server: Server,
    admin_client: httpx.Client,
) -> None:
    beacons = record_beacons(context)
    page.goto(spa.url("/app"))
    wait_for_load(page, beacons, 1, "the first load")
    page.wait_for_timeout(200)  # a measurable time on the page

    # A new path: the old view ends (unload), then a page ping and a load with a new beacon id.
    page.evaluate("history.pushState({}, '', '/app/settings')")
    wait_for_load(page, beacons, 2, "the load of /app/settings")
    first, settings = beacons.loads
    (unload,) = beacons.hits("unload")
    assert unload["b"] == first["b"]
    assert unload["m"] >= 200
    assert settings["b"] != first["b"]
    assert (settings["u"], settings["p"], settings["q"]) == (spa.url("/app/settings"), False, True)
    assert settings["r"] == spa.url("/app")  # the previous page, as a multi-page site would send
    assert beacons.pings[-1] == f"/api/event/ping?u=localhost%3A{spa.port}%2Fapp%2Fsettings"

    # Same path with another query or fragment, or an in-page anchor: still the same page view. A page view for
    # them would have sent its load before the back button's (its ping goes out first), so the loads in order
    # show there was none.
    page.evaluate("history.pushState({}, '', '/app/settings?tab=2')")
    page.evaluate("history.replaceState({}, '', '/app/settings?tab=2#top')")

    # The back button (popstate) to the first page: a page view, not a new page for this visitor.
    page.go_back()
    page.go_back()
    wait_for_load(page, beacons, 3, "the load after the back button")
    assert [load["u"] for load in beacons.loads] == [spa.url("/app"), spa.url("/app/settings"), spa.url("/app")]
    back = beacons.loads[2]
    assert (back["u"], back["p"], back["q"]) == (spa.url("/app"), False, False)
    assert [unload["b"] for unload in beacons.hits("unload")] == [first["b"], settings["b"]]

    page.click("#anchor")  # popstate for a fragment: no new page view in history mode
    page.evaluate("history.replaceState({}, '', '/app/profile')")  # replaceState to a new path: one
    wait_for_load(page, beacons, 4, "the load of /app/profile")
    assert (beacons.loads[3]["u"], beacons.loads[3]["q"]) == (spa.url("/app/profile"), True)
    # Only the first page view asks the visitor ping.
    assert beacons.pings.count("/api/event/ping") == 1
    assert page_errors == []

    wait_for_server(page, beacons)
    pages = {row["path"]: (row["visitors"], row["pageviews"]) for row in stats(admin_client, "pages")}
    assert pages == {"/app": (1, 2), "/app/settings": (1, 1), "/app/profile": (1, 1)}
    summary = stats(admin_client, "summary")["current"]
    assert (summary["visitors"], summary["pageviews"]) == (1, 4)

    context.close()  # the last page view's unload goes out as the page goes away
    wait_for_duration(admin_client, "/app/profile")
    views = stored_views(server)
    assert [view.pathname for view in views] == ["/app", "/app/settings", "/app", "/app/profile"]
    assert all(view.duration_ms for view in views), views


def test_history_mode_leaves_fragments_out(
    spa: StaticSite, context: BrowserContext, page: Page, admin_client: httpx.Client
) -> None:
    """Arriving on /app/docs#install records /app/docs: a fragment is not a page without data-hash."""
    beacons = record_beacons(context)
    page.goto(spa.url("/app/docs#install"))
    wait_until(page, lambda: beacons.loads, "the load beacon")
    assert beacons.loads[0]["u"] == spa.url("/app/docs")
    wait_for_server(page, beacons)
    assert [row["path"] for row in stats(admin_client, "pages")] == ["/app/docs"]


def test_hash_mode_counts_hash_routes_as_pages(
    registered_site: str,
    static_site: StaticSite,
    server: Server,
    admin_client: httpx.Client,
    context: BrowserContext,
    page: Page,
    page_errors: list[str],
) -> None:
    # A bare data-hash is enough (Medama needed a non-empty value).
    static_site.pages["/"] = html("Hash app", script_tag(server, attributes="data-hash"))
    beacons = record_beacons(context)
    page.goto(static_site.url("/"))
    wait_for_load(page, beacons, 1, "the first load")

    page.evaluate("location.hash = '#/about'")
    wait_for_load(page, beacons, 2, "the load of #/about")
    page.evaluate("location.hash = '#/contact'")
    wait_for_load(page, beacons, 3, "the load of #/contact")
    page.go_back()
    # Each route change sends the old view's unload before its own ping and load, so with the fourth load
    # answered every unload before it has been seen too.
    wait_for_load(page, beacons, 4, "the load after the back button")

    loads = beacons.loads
    assert [(load["u"].removeprefix(static_site.origin), load["p"], load["q"]) for load in loads] == [
        ("/", True, True),
        ("/#/about", False, True),
        ("/#/contact", False, True),
        ("/#/about", False, False),  # seen today: the page ping includes the hash route
    ]
    assert len({load["b"] for load in loads}) == 4  # each route is its own page view
    assert [unload["b"] for unload in beacons.hits("unload")] == [load["b"] for load in loads[:3]]
    assert f"/api/event/ping?u=localhost%3A{static_site.port}%2F%23%2Fabout" in beacons.pings
    assert page_errors == []

    wait_for_server(page, beacons)
    pages = {row["path"]: (row["visitors"], row["pageviews"]) for row in stats(admin_client, "pages")}
    assert pages == {"/": (1, 1), "/#/about": (1, 2), "/#/contact": (1, 1)}


def test_hidden_tab_ends_the_page_view_once(
    spa: StaticSite, context: BrowserContext, page: Page, page_errors: list[str], server: Server
) -> None:
    """Hiding the tab sends the unload; a later navigation sends no second one for that view.

    Headless Chromium never hides a page, so the test plays the browser's part: `hidden` turns true
    and `visibilitychange` is fired at the document, bubbling as the real one does.
    """
    beacons = record_beacons(context)
    page.goto(spa.url("/app"))
    wait_for_load(page, beacons, 1, "the load")
    page.wait_for_timeout(250)  # a measurable time on the page
    hide = "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
    page.evaluate(hide + "document.dispatchEvent(new Event('visibilitychange', {bubbles: true}))")
    wait_until(page, lambda: beacons.hits("unload"), "the unload")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange', {bubbles: true}))")
    page.evaluate("history.pushState({}, '', '/app/next')")
    # A second unload would go out before the new view's ping and load: with that load answered, it would be here.
    wait_for_load(page, beacons, 2, "the load of /app/next")

    (unload,) = beacons.hits("unload")
    assert unload["b"] == beacons.loads[0]["b"]
    assert unload["m"] >= 250
    assert page_errors == []
    wait_for_server(page, beacons)
    views = stored_views(server)
    assert [(view.pathname, view.duration_ms is not None) for view in views] == [("/app", True), ("/app/next", False)]
