"""Shared browser fixtures: Debian's headless Chromium driven by Playwright, and a fixture web site.

Playwright never downloads a browser here: it drives /usr/bin/chromium (installed by `make
system-deps` / .ci/run with apt-get) through `executable_path`.

The site that tests browse is served from its own port on `localhost`, while the medama server
listens on `127.0.0.1`: different origins, like a customer's site and the analytics server.
"""

from __future__ import annotations

import mimetypes
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from tests.support.server import logged_in_client, register_website

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

    from tests.support.server import Server

__all__ = ["CHROMIUM_ARGS", "CHROMIUM_PATH", "SITE_HOST", "StaticSite", "context_options"]

CHROMIUM_PATH = Path("/usr/bin/chromium")
# The fixture site is served on http://localhost:<port>, so its page views belong to `localhost`.
SITE_HOST = "localhost"
# No sandbox (CI containers run as root), no GPU, and nothing that talks to Google on its own,
# so the only requests a test sees are the ones its pages make.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder needs the browser: mark it, or skip it when Chromium is missing."""
    here = Path(__file__).parent
    missing = not CHROMIUM_PATH.exists()
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
            # CI installs chromium, so a missing one there is a failure (in the `browser` fixture).
            if missing and not os.environ.get("CI"):
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM_PATH} missing: apt-get install chromium"))


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver, one per test module.

    Not session-scoped on purpose: while the sync API is open it keeps an event loop of its own in
    this thread, and pytest-asyncio tests running meanwhile (in tests/e2e, tests/unit, …) fail.
    """
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium; each launch gets a fresh temporary user-data-dir from Playwright."""
    if not CHROMIUM_PATH.exists():
        pytest.fail(f"{CHROMIUM_PATH} missing: install Debian's chromium (make system-deps)")
    launched = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=list(CHROMIUM_ARGS))
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def browser_user_agent(browser: Browser) -> str:
    """Chromium's own user agent with "HeadlessChrome" turned into "Chrome".

    The server drops hits from bots, and `HeadlessChrome` is a bot token, so a test
    browser that announced itself as headless would never be counted.
    """
    page = browser.new_page()
    try:
        agent: str = page.evaluate("navigator.userAgent")
    finally:
        page.close()
    return agent.replace("HeadlessChrome", "Chrome")


def context_options(user_agent: str) -> dict[str, object]:
    """new_context() keyword arguments of a plausible visitor: desktop Chrome, British English, London."""
    return {"user_agent": user_agent, "locale": "en-GB", "timezone_id": "Europe/London"}


@pytest.fixture
def context(browser: Browser, browser_user_agent: str) -> Iterator[BrowserContext]:
    """A fresh browser context: an empty HTTP cache and no cookies, i.e. a first-time visitor."""
    fresh = browser.new_context(**context_options(browser_user_agent))  # type: ignore[arg-type]
    yield fresh
    fresh.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught exceptions and unhandled rejections of pages opened through the `page` fixture."""
    return []


@pytest.fixture
def page(context: BrowserContext, page_errors: list[str]) -> Page:
    """A tab in `context` whose uncaught errors are collected in `page_errors`."""
    tab = context.new_page()
    tab.on("pageerror", lambda error: page_errors.append(str(error)))
    return tab


@pytest.fixture
def admin_client(server: Server) -> Iterator[httpx.Client]:
    """An httpx client logged in as the default admin on the `server` fixture's medama."""
    client = logged_in_client(server)
    yield client
    client.close()


@pytest.fixture
def admin_password(admin_client: httpx.Client) -> str:
    """The admin's password, changed from the default so that logging in shows no first-run prompt."""
    password = "browser-admin-password"
    response = admin_client.patch("/api/user", json={"password": password})
    assert response.status_code == 200, response.text
    return password


@pytest.fixture
def registered_site(admin_client: httpx.Client) -> str:
    """`localhost`, the host `static_site` is served on, registered on the server: its page views count."""
    register_website(admin_client, SITE_HOST)
    return SITE_HOST


@pytest.fixture
def admin_page(context: BrowserContext, page: Page, server: Server, admin_client: httpx.Client) -> Page:
    """`page`, with `admin_client`'s session in its context: the dashboard, logged in as the admin.

    The dashboard's own `_me_logged_in` marker cookie goes in too, as its login would set it.
    """
    session = [{"name": n, "value": v, "url": server.base_url} for n, v in admin_client.cookies.items()]
    marker = {"name": "_me_logged_in", "value": "true", "url": server.base_url}
    context.add_cookies([*session, marker])  # type: ignore[list-item]
    return page


@dataclass
class StaticSite:
    """A tiny web site on its own loopback port: `pages` maps a path to its body.

    A path that is not in `pages` gets `fallback` (the page of a single-page app) when it is set,
    otherwise 404. Query strings and fragments are ignored when looking a path up.
    """

    pages: dict[str, str | bytes] = field(default_factory=dict)
    fallback: str | None = None
    host: str = "localhost"
    cache_control: str = "no-store"
    requested: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the site is not running"
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.origin}{path}"

    def start(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                site.requested.append(self.path)
                body = site.pages.get(path)
                if body is None and site.fallback is not None:
                    body, path = site.pages.get(site.fallback), site.fallback
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode() if isinstance(body, str) else body
                content_type = mimetypes.guess_type(path)[0] or "text/html"
                self.send_response(200)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", site.cache_control)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Keep test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="static-site", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def static_site() -> Iterator[StaticSite]:
    """A running StaticSite on http://localhost:<free port>; fill `pages` before browsing."""
    site = StaticSite()
    site.start()
    yield site
    site.stop()
