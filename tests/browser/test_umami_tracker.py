"""/umami/script.js in headless Chromium against the real server, on a fixture site of another origin.

Covers what Umami's documented tracker does (docs/umami.md): the automatic page view, SPA navigation,
data-umami-event clicks, every umami.track() form, identify, the data-* switches, the visit token
kept in memory for one page, and a dead server never throwing.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import context_options
from tests.browser.test_tracker import html, stats, wait_until
from tests.support.server import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Request, Response

    from tests.browser.conftest import StaticSite
    from tests.support.server import Server

SEND = "/umami/api/send"


@dataclass
class Sends:
    """Every POST to /umami/api/send: its body, its x-umami-cache header and the answer."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    tokens_sent: list[str | None] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    pings: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        if request.url.endswith(SEND) and request.method == "POST":
            self.bodies.append(json.loads(request.post_data or "{}"))
            self.tokens_sent.append(request.headers.get("x-umami-cache"))
        elif "/api/event/ping" in request.url:
            self.pings.append(request.url.split("/api/event/ping", 1)[1])

    def answered(self, response: Response) -> None:
        if response.url.endswith(SEND) and response.request.method == "POST":
            self.answers.append(response.json())

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [body["payload"] for body in self.bodies]


def record_sends(context: BrowserContext) -> Sends:
    sends = Sends()
    context.on("request", sends.record)
    context.on("response", sends.answered)
    return sends


def website_uuid(server: Server, hostname: str = "localhost") -> str:
    with closing(sqlite3.connect(server.appdb)) as conn:
        row = conn.execute("SELECT uuid FROM website_uuids WHERE hostname = ?", (hostname,)).fetchone()
    return str(row[0])


@pytest.fixture
def uuid(server: Server, registered_site: str) -> str:
    return website_uuid(server, registered_site)


def snippet(server: Server, uuid: str, attributes: str = "") -> str:
    return f'<script defer src="{server.base_url}/umami/script.js" data-website-id="{uuid}" {attributes}></script>'


def answered(page: Page, sends: Sends, count: int) -> None:
    wait_until(page, lambda: len(sends.answers) >= count, f"{count} answered sends")


def test_page_view_spa_navigation_and_the_token_of_one_page_load(
    static_site: StaticSite,
    context: BrowserContext,
    page: Page,
    page_errors: list[str],
    server: Server,
    admin_client: httpx.Client,
    uuid: str,
) -> None:
    static_site.pages["/app"] = html("App", snippet(server, uuid))
    static_site.fallback = "/app"
    sends = record_sends(context)
    page.goto(static_site.url("/app?x=1#top"))
    answered(page, sends, 1)
    first = sends.payloads[0]
    assert sends.bodies[0]["type"] == "event"
    assert first["website"] == uuid
    assert (first["url"], first["title"], first["hostname"]) == (static_site.url("/app?x=1#top"), "App", "localhost")
    assert (first["language"], first["tz"], first["p"], first["q"]) == ("en-GB", "Europe/London", True, True)
    assert "name" not in first
    assert sends.tokens_sent[0] is None
    assert sends.pings[:2] == ["", f"?u=localhost%3A{static_site.port}%2Fapp"]

    page.evaluate("history.pushState({}, '', '/app/settings')")
    answered(page, sends, 2)
    page.evaluate("history.replaceState({}, '', '/app/profile')")
    answered(page, sends, 3)
    page.evaluate("history.replaceState({}, '', '/app/profile')")  # same URL: nothing
    assert [p["url"] for p in sends.payloads[1:]] == [static_site.url("/app/settings"), static_site.url("/app/profile")]
    assert sends.payloads[1]["referrer"] == static_site.url("/app?x=1#top")
    assert [(p["p"], p["q"]) for p in sends.payloads[1:]] == [(False, True), (False, True)]
    # Each send carries the token the previous answer gave: one visit.
    assert sends.tokens_sent[1:] == [a["cache"] for a in sends.answers[:2]]
    assert len({a["visitId"] for a in sends.answers}) == 1

    page.reload()  # a new page load starts without a token
    answered(page, sends, 4)
    assert sends.tokens_sent[3] is None
    assert sends.answers[3]["visitId"] != sends.answers[0]["visitId"]
    assert page_errors == []
    summary = stats(admin_client, "summary")["current"]
    assert (summary["pageviews"], summary["visitors"]) == (4, 1)
    paths = {row["path"] for row in stats(admin_client, "pages")}
    assert paths == {"/app#top", "/app/settings", "/app/profile"}  # the reload was of /app/profile


def test_clicks_and_every_track_form(
    static_site: StaticSite,
    context: BrowserContext,
    page: Page,
    page_errors: list[str],
    server: Server,
    admin_client: httpx.Client,
    uuid: str,
) -> None:
    button = (
        '<button id="buy" data-umami-event="buy" data-umami-event-plan="pro" data-umami-event-seats="3">'
        "<b>Buy</b></button>"
    )
    static_site.pages["/"] = html("Shop", snippet(server, uuid, 'data-tag="spring"'), button)
    sends = record_sends(context)
    page.goto(static_site.url("/"))
    answered(page, sends, 1)
    page.click("#buy b")  # a click inside the tagged element counts
    answered(page, sends, 2)
    page.evaluate("umami.track()")
    page.evaluate("umami.track('signup')")
    page.evaluate("umami.track('signup', {plan: 'team', n: 2})")
    page.evaluate("umami.track({url: '/virtual', title: 'Virtual'})")
    page.evaluate("umami.track(props => ({...props, name: 'fn', data: {from: props.url}}))")
    answered(page, sends, 7)
    click, view, bare, with_data, obj, fn = sends.payloads[1:7]
    assert (click["name"], click["data"], click["tag"]) == ("buy", {"plan": "pro", "seats": "3"}, "spring")
    assert "name" not in view
    assert view["p"] is False
    assert (bare["name"], bare.get("data")) == ("signup", None)
    assert with_data["data"] == {"plan": "team", "n": 2}
    assert (obj["url"], obj["title"], obj["website"]) == ("/virtual", "Virtual", uuid)
    assert (fn["name"], fn["data"]) == ("fn", {"from": static_site.url("/")})
    assert len({a["visitId"] for a in sends.answers}) == 1
    assert page_errors == []
    properties = {row["name"]: row["events"] for row in stats(admin_client, "properties")}
    assert properties["event"] == 4
    assert properties["plan"] == 2


def test_identify_names_the_session_for_later_hits(
    static_site: StaticSite, context: BrowserContext, page: Page, server: Server, uuid: str
) -> None:
    static_site.pages["/"] = html("Home", snippet(server, uuid))
    sends = record_sends(context)
    page.goto(static_site.url("/"))
    answered(page, sends, 1)
    page.evaluate("umami.identify('user-42', {plan: 'pro'})")
    page.evaluate("umami.track('after')")
    answered(page, sends, 3)
    assert sends.bodies[1]["type"] == "identify"
    assert (sends.payloads[1]["id"], sends.payloads[1]["data"]) == ("user-42", {"plan": "pro"})
    assert sends.tokens_sent[1] is None  # identify starts afresh, as Umami's tracker does
    assert sends.payloads[2]["id"] == "user-42"
    assert sends.answers[1]["sessionId"] == sends.answers[2]["sessionId"] != sends.answers[0]["sessionId"]


@pytest.mark.parametrize(
    ("attributes", "url", "expected"),
    [
        ('data-exclude-search="true"', "/p?secret=1#frag", "/p#frag"),
        ('data-exclude-hash="true"', "/p?q=1#frag", "/p?q=1"),
        ('data-exclude-search="true" data-exclude-hash="true"', "/p?q=1#frag", "/p"),
    ],
)
def test_exclude_search_and_hash(
    static_site: StaticSite, context: BrowserContext, page: Page, server: Server, uuid: str,
    attributes: str, url: str, expected: str,
) -> None:  # fmt: skip
    static_site.pages["/p"] = html("P", snippet(server, uuid, attributes))
    sends = record_sends(context)
    page.goto(static_site.url(url))
    answered(page, sends, 1)
    assert sends.payloads[0]["url"] == static_site.url(expected)


@pytest.mark.parametrize(
    ("attributes", "init"),
    [
        ('data-domains="example.com, shop.example"', ""),
        ('data-do-not-track="true"', "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"),
        ('data-auto-track="false"', ""),
    ],
    ids=["other-domains", "do-not-track", "auto-track-off"],
)
def test_switches_that_send_nothing_on_load(
    static_site: StaticSite, context: BrowserContext, page: Page, page_errors: list[str], server: Server,
    uuid: str, attributes: str, init: str,
) -> None:  # fmt: skip
    static_site.pages["/"] = html("Home", snippet(server, uuid, attributes), '<button data-umami-event="x">X</button>')
    sends = record_sends(context)
    if init:
        page.add_init_script(init)
    page.goto(static_site.url("/"))
    page.click("button")
    page.wait_for_timeout(500)
    assert sends.bodies == []
    page.evaluate("umami.track('manual')")
    page.wait_for_timeout(300)
    # Only auto-track off still sends what the page asks for explicitly.
    assert [p.get("name") for p in sends.payloads] == (["manual"] if "auto-track" in attributes else [])
    assert page_errors == []


def test_before_send_changes_or_cancels(
    static_site: StaticSite, context: BrowserContext, page: Page, server: Server, uuid: str
) -> None:
    hook = "<script>function gate(type, p) { return p.name === 'secret' ? false : {...p, tag: 'hooked'}; }</script>"
    static_site.pages["/"] = hook + html("Home", snippet(server, uuid, 'data-before-send="gate"'))
    sends = record_sends(context)
    page.goto(static_site.url("/"))
    answered(page, sends, 1)
    page.evaluate("umami.track('secret')")
    page.evaluate("umami.track('open')")
    answered(page, sends, 2)
    page.wait_for_timeout(200)
    assert [(p.get("name"), p["tag"]) for p in sends.payloads] == [(None, "hooked"), ("open", "hooked")]


def test_unreachable_server_never_throws(
    static_site: StaticSite, context: BrowserContext, page: Page, page_errors: list[str], server: Server
) -> None:
    """The site serves its own copy; data-host-url points at a port nothing listens on."""
    static_site.pages["/js/u.js"] = (server_script(server)).encode()
    dead = f"http://127.0.0.1:{free_port()}/umami"
    website = "00000000-0000-4000-8000-000000000000"
    tag = f'<script defer src="/js/u.js" data-website-id="{website}" data-host-url="{dead}"></script>'
    static_site.pages["/"] = html("Home", tag, '<button data-umami-event="x">X</button>')
    page.goto(static_site.url("/"))
    page.click("button")
    results = page.evaluate(
        "Promise.all([umami.track(), umami.track('e', {a: 1}), umami.identify('u')]).then(() => 'settled')"
    )
    page.evaluate("history.pushState({}, '', '/next')")
    page.wait_for_timeout(300)
    assert results == "settled"
    assert page_errors == []


def server_script(server: Server) -> str:
    response = httpx.get(f"{server.base_url}/umami/script.js")
    assert response.status_code == 200
    return response.text


def test_website_settings_show_both_snippets_and_the_umami_one_counts(
    server: Server,
    browser: Browser,
    browser_user_agent: str,
    admin_client: httpx.Client,
    admin_page: Page,
    static_site: StaticSite,
    uuid: str,
) -> None:
    """Settings → Websites shows Medama's and the Umami-style snippet; pasted into a page, the latter counts."""
    page = admin_page
    page.goto(f"{server.base_url}/settings/websites?website=localhost")
    snippets = page.get_by_role("region", name="Tracking snippets")
    expect(snippets).to_contain_text(f'<script defer src="{server.base_url}/script.js"></script>')
    umami = f'<script defer src="{server.base_url}/umami/script.js" data-website-id="{uuid}"></script>'
    expect(snippets).to_contain_text(umami)
    expect(snippets).to_contain_text(uuid)
    page.close()

    static_site.pages["/"] = html("Pasted", umami)
    visitor = browser.new_context(**context_options(browser_user_agent))  # type: ignore[arg-type]
    sends = record_sends(visitor)
    visit = visitor.new_page()
    visit.goto(static_site.url("/"))
    answered(visit, sends, 1)
    visitor.close()
    assert stats(admin_client, "summary")["current"]["pageviews"] == 1
