"""The built tracker in headless Chromium against the real server: multi-page visits.

The site is served by `static_site` (http://localhost:<port>), the tracker and the API by a real
`medama start` on 127.0.0.1:<other port>, so every request the tracker makes is cross-origin, as on a
customer's site. The helpers here are shared by the other test_tracker_* modules.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from tests.browser.conftest import CHROMIUM_ARGS, CHROMIUM_PATH, SITE_HOST, context_options
from tests.support.server import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import httpx
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request

    from tests.browser.conftest import StaticSite
    from tests.support.server import Server

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "medama_py" / "static" / "scripts"


# --- helpers shared by the tracker tests ----------------------------------------------------------


@dataclass
class Beacons:
    """Every /api/event/* request the browser context made, in order.

    Beacons sent while a document unloads (its unload event) never reach Playwright, so those are
    checked in the database instead.
    """

    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    pending: set[Request] = field(default_factory=set)

    def record(self, request: Request) -> None:
        if "/event/" in request.url:
            self.requests.append((request.method, request.url, request.post_data))
            self.pending.add(request)

    def settle(self, request: Request) -> None:
        self.pending.discard(request)

    def hits(self, event: str) -> list[dict[str, Any]]:
        """The decoded POST bodies whose `e` is `event`."""
        bodies = [json.loads(body) for method, _, body in self.requests if method == "POST" and body]
        return [body for body in bodies if body.get("e") == event]

    @property
    def loads(self) -> list[dict[str, Any]]:
        return self.hits("load")

    @property
    def pings(self) -> list[str]:
        """The ping URLs, without scheme and host."""
        return [re.sub(r"^https?://[^/]+", "", url) for method, url, _ in self.requests if method == "GET"]


def record_beacons(context: BrowserContext) -> Beacons:
    beacons = Beacons()
    context.on("request", beacons.record)
    context.on("requestfinished", beacons.settle)
    context.on("requestfailed", beacons.settle)
    return beacons


def wait_for_server(page: Page, beacons: Beacons) -> None:
    """Wait until the server has answered every beacon; it answers a hit once the hit is stored."""
    wait_until(page, lambda: not beacons.pending, "the server to answer every beacon")


def wait_for_load(page: Page, beacons: Beacons, count: int, what: str) -> None:
    """Wait until the `count`-th load is sent and the server has answered every beacon so far.

    Before the next navigation: the server stamps a page view's time when it handles the hit, so only once the
    previous load is answered is the next one sure to be stored after it, however slow the machine.
    """
    wait_until(page, lambda: len(beacons.loads) == count and not beacons.pending, what)


def wait_for_duration(admin: httpx.Client, path: str, timeout: float = 10) -> None:
    """Wait until the server has stored a duration for `path`'s page views.

    For the unload a page sends as it goes away (a closed tab, a navigation), which Playwright never sees: the
    full pages report shows a path's duration as 0 until one is stored.
    """
    deadline = time.monotonic() + timeout
    while not any(row["path"] == path and row["duration"] > 0 for row in stats(admin, "pages", summary="false")):
        if time.monotonic() > deadline:
            raise AssertionError(f"no duration stored for {path} within {timeout} s")
        time.sleep(0.05)


def wait_until(page: Page, condition: Callable[[], object], what: str, timeout: float = 10) -> None:
    """Let the browser run (Playwright delivers events only then) until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(25)


def script_tag(server: Server, path: str = "/script.js", attributes: str = "") -> str:
    return f'<script defer src="{server.base_url}{path}" {attributes}></script>'


def html(title: str, tag: str, body: str = "") -> str:
    return f"<!doctype html><html><head><title>{title}</title>{tag}</head><body>{body}</body></html>"


@dataclass(frozen=True)
class View:
    bid: str
    pathname: str
    is_unique_user: bool
    is_unique_page: bool
    referrer_host: str
    duration_ms: int | None
    ua_browser: str
    country: str


def stored_views(server: Server) -> list[View]:
    """The `views` rows in insert order; stops the server first so DuckDB can be opened."""
    assert server.stop() == 0, server.log()
    with duckdb.connect(str(server.analyticsdb), read_only=True) as db:
        rows = db.execute(
            "SELECT bid, pathname, is_unique_user, is_unique_page, referrer_host, duration_ms, ua_browser, country"
            " FROM views WHERE hostname = ? ORDER BY date_created, bid",
            [SITE_HOST],
        ).fetchall()
    return [View(*row) for row in rows]


def stored_events(server: Server) -> list[tuple[str, str, str, str]]:
    """(bid, group_name, name, value) of every `events` row, sorted; stops the server first."""
    assert server.stop() == 0, server.log()
    with duckdb.connect(str(server.analyticsdb), read_only=True) as db:
        rows = db.execute("SELECT bid, group_name, name, value FROM events ORDER BY bid, name").fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def stats(admin: httpx.Client, report: str, **params: str) -> Any:
    response = admin.get(f"/api/website/{SITE_HOST}/{report}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- multi-page visits ----------------------------------------------------------------------------


@pytest.fixture
def site(registered_site: str, static_site: StaticSite, server: Server) -> StaticSite:
    """Two linked pages carrying the default snippet; `localhost` registered on the server."""
    tag = script_tag(server)
    static_site.pages["/"] = html("Home", tag, '<a id="about" href="/about">About</a>')
    static_site.pages["/about"] = html("About", tag, '<a id="home" href="/">Home</a>')
    return static_site


def test_first_visit_pings_twice_then_sends_load_with_p_and_q_true(
    site: StaticSite, context: BrowserContext, page: Page, page_errors: list[str], server: Server
) -> None:
    beacons = record_beacons(context)
    page.goto(site.url("/"))
    wait_until(page, lambda: beacons.loads, "the load beacon")

    assert beacons.pings == ["/api/event/ping", f"/api/event/ping?u=localhost%3A{site.port}%2F"]
    (load,) = beacons.loads
    assert load["u"] == site.url("/")
    # p and q are true only if the cross-origin pings could be read: the event endpoints send CORS headers.
    assert (load["p"], load["q"], load["r"], load["t"]) == (True, True, "", "Europe/London")
    assert re.fullmatch(r"[0-9a-z]{12,24}", load["b"])
    assert "d" not in load  # only page-events builds send properties
    assert list(load) == ["b", "e", "u", "r", "p", "q", "t"]
    assert [method for method, _, _ in beacons.requests] == ["GET", "GET", "POST"]
    assert page_errors == []
    # No cookies, no storage: the only state is the browser's HTTP cache of the pings.
    assert context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0


def test_same_day_views_new_page_and_durations(
    site: StaticSite,
    context: BrowserContext,
    page: Page,
    page_errors: list[str],
    server: Server,
    admin_client: httpx.Client,
) -> None:
    beacons = record_beacons(context)
    page.goto(site.url("/"))
    wait_for_load(page, beacons, 1, "the first load")
    page.wait_for_timeout(300)  # a measurable time on page
    page.reload()
    wait_for_load(page, beacons, 2, "the load after reload")
    page.click("#about")
    wait_for_load(page, beacons, 3, "the load of /about")
    page.click("#home")
    wait_for_load(page, beacons, 4, "the load back on /")
    page.go_back()
    wait_for_load(page, beacons, 5, "the load after the back button")

    flags = [(load["u"].removeprefix(site.origin), load["p"], load["q"]) for load in beacons.loads]
    assert flags == [
        ("/", True, True),  # first visit today
        ("/", False, False),  # same page again: neither a new visitor nor a new page
        ("/about", False, True),  # a new page for this visitor
        ("/", False, False),
        ("/about", False, False),
    ]
    assert beacons.loads[2]["r"] == site.url("/")
    assert len({load["b"] for load in beacons.loads}) == 5
    assert page_errors == []

    # The stats API shows exactly these page views.
    wait_for_server(page, beacons)
    summary = stats(admin_client, "summary")["current"]
    assert (summary["visitors"], summary["pageviews"]) == (1, 5)
    pages = {row["path"]: (row["visitors"], row["pageviews"]) for row in stats(admin_client, "pages")}
    assert pages == {"/": (1, 3), "/about": (1, 2)}

    # Leaving a page sent its unload: every view but the one still open has a duration.
    context.close()  # closes the last page too, which sends its unload
    views = stored_views(server)
    assert [view.bid for view in views] == [load["b"] for load in beacons.loads]
    assert all(view.duration_ms for view in views[:4]), views
    assert views[0].duration_ms is not None and views[0].duration_ms >= 300
    assert {(view.ua_browser, view.country, view.referrer_host) for view in views} == {
        ("Chrome", "United Kingdom", "")  # internal referrers are not stored
    }


def test_readme_snippet_counts_a_visit(
    registered_site: str,
    static_site: StaticSite,
    context: BrowserContext,
    page: Page,
    server: Server,
    admin_client: httpx.Client,
) -> None:
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r'<script[^>]*src="https://stats\.example\.com/script\.js"[^>]*></script>', readme)
    assert snippet, "the README's tracker snippet"
    static_site.pages["/pricing"] = html("Pricing", snippet[0].replace("https://stats.example.com", server.base_url))

    beacons = record_beacons(context)
    page.goto(static_site.url("/pricing?utm_source=newsletter"))
    wait_until(page, lambda: beacons.loads, "the load beacon")

    wait_for_server(page, beacons)
    summary = stats(admin_client, "summary")["current"]
    assert (summary["visitors"], summary["pageviews"]) == (1, 1)
    assert [row["path"] for row in stats(admin_client, "pages")] == ["/pricing"]
    assert [(row["source"], row["visitors"]) for row in stats(admin_client, "sources")] == [("newsletter", 1)]


def test_data_api_sends_to_another_host(
    registered_site: str,
    static_site: StaticSite,
    context: BrowserContext,
    page: Page,
    server: Server,
    admin_client: httpx.Client,
) -> None:
    """The site serves its own copy of the script; data-api points the beacons at the server."""
    static_site.pages["/js/analytics.js"] = (SCRIPTS / "default.js").read_bytes()
    api = f"127.0.0.1:{server.port}/api"
    tag = f'<script defer src="/js/analytics.js" data-api="{api}"></script>'
    static_site.pages["/"] = html("Home", tag)

    beacons = record_beacons(context)
    page.goto(static_site.url("/"))
    wait_until(page, lambda: beacons.loads, "the load beacon")

    assert {url.split("/api/")[0] for _, url, _ in beacons.requests} == {server.base_url}
    assert not [path for path in static_site.requested if "/event/" in path]
    wait_for_server(page, beacons)
    assert stats(admin_client, "summary")["current"]["pageviews"] == 1


def test_unreachable_api_throws_nothing(
    static_site: StaticSite, context: BrowserContext, page: Page, page_errors: list[str]
) -> None:
    """Nothing listens on the API port: the page keeps working and no error escapes the tracker."""
    tag = f'<script defer src="/js/analytics.js" data-api="127.0.0.1:{free_port()}/api"></script>'
    static_site.pages["/js/analytics.js"] = (SCRIPTS / "click-events.page-events.js").read_bytes()
    static_site.pages["/"] = html("Home", tag, '<button data-m:click="a=b">Go</button>')
    static_site.fallback = "/"

    beacons = record_beacons(context)
    page.goto(static_site.url("/"))
    wait_until(page, lambda: len(beacons.requests) >= 3, "the pings to fail and the load to be sent anyway")
    page.click("button")
    page.evaluate("history.pushState(null, '', '/next')")
    page.evaluate("history.back()")
    page.wait_for_timeout(300)
    page.goto("about:blank")

    assert page_errors == []
    # A failed ping does not stop the page view: it is sent anyway, as not unique.
    assert [(load["p"], load["q"]) for load in beacons.loads][:1] == [(False, False)]


@pytest.fixture(scope="module")
def bfcache_browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with the back/forward cache on (Playwright turns it off by default)."""
    launched = playwright.chromium.launch(
        executable_path=CHROMIUM_PATH,
        args=list(CHROMIUM_ARGS),
        ignore_default_args=["--disable-back-forward-cache"],
    )
    yield launched
    launched.close()


def test_page_restored_from_back_forward_cache_is_a_page_view(
    site: StaticSite, bfcache_browser: Browser, browser_user_agent: str, server: Server, admin_client: httpx.Client
) -> None:
    """Medama missed these: the restored page runs no script, only a pageshow event."""
    site.cache_control = "no-cache"  # no-store would keep pages out of the cache
    context = bfcache_browser.new_context(**context_options(browser_user_agent))  # type: ignore[arg-type]
    beacons = record_beacons(context)
    page = context.new_page()
    page.goto(site.url("/"))
    wait_for_load(page, beacons, 1, "the first load")
    page.evaluate("window.notReloaded = true")
    page.click("#about")
    wait_for_load(page, beacons, 2, "the load of /about")
    page.evaluate("history.back()")  # go_back() would wait for a load event that never comes
    wait_for_load(page, beacons, 3, "the load of the restored page")

    if page.evaluate("window.notReloaded") is not True:  # e.g. evicted under memory pressure
        pytest.skip("Chromium reloaded the page instead of restoring it from the back/forward cache")
    restored = beacons.loads[2]
    assert (restored["u"], restored["p"], restored["q"]) == (site.url("/"), False, False)
    assert restored["b"] not in {load["b"] for load in beacons.loads[:2]}
    assert beacons.pings.count("/api/event/ping") == 2  # the restored page asked only the page ping
    wait_for_server(page, beacons)
    context.close()
    views = stored_views(server)
    assert [(view.pathname, bool(view.duration_ms)) for view in views] == [("/", True), ("/about", True), ("/", True)]


def test_old_browsers_and_module_scripts_are_left_alone(
    site: StaticSite, server: Server, context: BrowserContext, page: Page, page_errors: list[str]
) -> None:
    """Without sendBeacon (browsers before 2018), or as a module (no currentScript), it does nothing."""
    beacons = record_beacons(context)
    page.add_init_script("delete Navigator.prototype.sendBeacon")
    page.goto(site.url("/"))
    page.evaluate("history.pushState({}, '', '/elsewhere')")
    page.wait_for_timeout(300)
    site.pages["/module"] = html("Module", f'<script type="module" src="{server.base_url}/script.js"></script>')
    module_page = context.new_page()
    module_page.on("pageerror", lambda error: page_errors.append(str(error)))
    module_page.goto(site.url("/module"))
    module_page.wait_for_function("document.readyState == 'complete'")
    module_page.wait_for_timeout(300)
    assert beacons.requests == []
    assert page_errors == []
