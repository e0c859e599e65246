"""Custom properties: data-m:load on page views (page-events) and data-m:click clicks (click-events)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.browser.conftest import SITE_HOST
from tests.browser.test_tracker import (
    html,
    record_beacons,
    script_tag,
    stats,
    stored_events,
    wait_for_server,
    wait_until,
)

if TYPE_CHECKING:
    import httpx
    from playwright.sync_api import BrowserContext, Page

    from tests.browser.conftest import StaticSite
    from tests.support.server import Server

LOAD_TAGS = """
<main data-m:load="author=jane;section=blog">
  <div data-m:load=" section = news ; empty= ; =orphan; a=b=c ">later tags win; empty parts are dropped</div>
</main>
"""

CLICK_TAGS = """
<button id="signup" data-m:click="action=signup;plan=pro"><span id="inner">Sign <b id="deep">up</b></span></button>
<div onclick="event.stopPropagation()"><span id="guarded" data-m:click="action=guarded">Guarded</span></div>
<div id="menu" data-m:click="menu=open">Menu</div>
<p id="plain">Not tagged</p>
<button id="empty" data-m:click=";=;">Nothing valid</button>
"""


def test_load_properties_travel_with_the_page_view(
    registered_site: str,
    static_site: StaticSite,
    server: Server,
    admin_client: httpx.Client,
    context: BrowserContext,
    page: Page,
    page_errors: list[str],
) -> None:
    static_site.pages["/post"] = html("Post", script_tag(server, "/scripts/page-events.js"), LOAD_TAGS)
    static_site.pages["/plain"] = html("Plain", script_tag(server, "/scripts/page-events.js"))
    beacons = record_beacons(context)
    page.goto(static_site.url("/post"))
    wait_until(page, lambda: beacons.loads, "the load of /post")
    page.goto(static_site.url("/plain"))
    wait_until(page, lambda: len(beacons.loads) == 2, "both loads")

    post, plain = beacons.loads
    assert post["d"] == {"author": "jane", "section": "news", "a": "b"}
    assert plain["d"] == {}  # always present in page-events builds
    assert page_errors == []

    wait_for_server(page, beacons)
    names = {row["name"]: row["events"] for row in stats(admin_client, "properties")}
    assert names == {"author": 1, "section": 1, "a": 1}
    context.close()
    assert stored_events(server) == [
        (post["b"], SITE_HOST, "a", "b"),
        (post["b"], SITE_HOST, "author", "jane"),
        (post["b"], SITE_HOST, "section", "news"),
    ]


def test_click_events_count_children_late_elements_and_middle_clicks(
    registered_site: str,
    static_site: StaticSite,
    server: Server,
    admin_client: httpx.Client,
    context: BrowserContext,
    page: Page,
    page_errors: list[str],
) -> None:
    # The dashboard's tracker setting picks the combined build for /script.js.
    response = admin_client.patch(
        "/api/tenant/settings", json={"script_type": ["default", "click-events", "page-events"]}
    )
    assert response.status_code == 200, response.text
    static_site.pages["/"] = html("Home", script_tag(server), CLICK_TAGS)
    beacons = record_beacons(context)
    page.goto(static_site.url("/"))
    wait_until(page, lambda: beacons.loads, "the load")
    assert beacons.loads[0]["d"] == {}  # the combined build was served

    page.click("#deep")  # a child of a tagged element counts as a click on it
    page.click("#guarded")  # the page stopping propagation does not hide the click
    page.click("#menu", button="middle")
    page.click("#menu", button="right")  # ignored: opens a context menu, not a page
    page.click("#plain")  # not tagged
    page.click("#empty")  # tagged without a valid pair
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<a id=\"late\" data-m:click=\"late=yes\">Late</a>')")
    page.click("#late")  # added after the tracker started
    wait_until(page, lambda: len(beacons.hits("custom")) >= 4, "four custom events")
    page.wait_for_timeout(200)

    customs = beacons.hits("custom")
    load_bid = beacons.loads[0]["b"]
    assert [(custom["b"], custom["g"]) for custom in customs] == [(load_bid, SITE_HOST)] * 4
    assert [custom["d"] for custom in customs] == [
        {"action": "signup", "plan": "pro"},
        {"action": "guarded"},
        {"menu": "open"},
        {"late": "yes"},
    ]
    assert page_errors == []

    wait_for_server(page, beacons)
    actions = {row["value"]: row["events"] for row in stats(admin_client, "properties", **{"prop_name[eq]": "action"})}
    assert actions == {"signup": 1, "guarded": 1}
    context.close()
    assert sorted((name, value) for _, _, name, value in stored_events(server)) == [
        ("action", "guarded"),
        ("action", "signup"),
        ("late", "yes"),
        ("menu", "open"),
        ("plan", "pro"),
    ]


def test_click_on_a_link_that_leaves_the_page_is_kept(
    registered_site: str,
    static_site: StaticSite,
    server: Server,
    admin_client: httpx.Client,
    context: BrowserContext,
    page: Page,
) -> None:
    """Clicks go out by sendBeacon, which outlives the page (Medama's fetch could be cancelled)."""
    tag = script_tag(server, "/scripts/click-events.js")
    static_site.pages["/"] = html("Home", tag, '<a id="out" href="/next" data-m:click="cta=next">Next</a>')
    static_site.pages["/next"] = html("Next", tag)
    beacons = record_beacons(context)
    page.goto(static_site.url("/"))
    wait_until(page, lambda: beacons.loads, "the load")
    page.click("#out")
    wait_until(page, lambda: len(beacons.loads) == 2, "the load of /next")
    wait_for_server(page, beacons)
    context.close()
    assert stored_events(server) == [(beacons.loads[0]["b"], SITE_HOST, "cta", "next")]
