"""Helpers of the dashboard browser tests: real visits through the tracker, API look-ups, screenshots."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from tests.browser.conftest import SITE_HOST, context_options

if TYPE_CHECKING:
    import httpx
    from playwright.sync_api import Browser, Page, Request

    from tests.browser.conftest import StaticSite
    from tests.support.server import Server

__all__ = [
    "ARTIFACTS",
    "NEW_PASSWORD",
    "SITE",
    "Visits",
    "api_json",
    "generate_visits",
    "log_in",
    "query_of",
    "screenshot",
    "wait_for_pageviews",
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
NEW_PASSWORD = "a-better-secret-42"
SITE = SITE_HOST  # the dashboard tests' website: the fixture site's host


def log_in(page: Page, base_url: str, username: str, password: str, then: str = "/") -> None:
    """Log in through the dashboard's login form and wait until it has gone on to `then`."""
    page.goto(f"{base_url}/login?redirect={quote(then, safe='')}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}{then}")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/dashboard/ (not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=True)
    return path


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def api_json(admin: httpx.Client, url: str) -> Any:
    """GET the same API URL (path and query) as the page did, with the test's own session."""
    parts = urlsplit(url)
    response = admin.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, response.text
    return response.json()


@dataclass(frozen=True)
class Visits:
    visitors: int
    pageviews: int
    about_views: int
    paths: int


def _is_load(request: Request) -> bool:
    return request.method == "POST" and "/api/event/hit" in request.url and '"load"' in (request.post_data or "")


def _is_custom(request: Request) -> bool:
    return request.method == "POST" and "/api/event/hit" in request.url and '"custom"' in (request.post_data or "")


def generate_visits(browser: Browser, user_agent: str, site: StaticSite, server: Server, admin: httpx.Client) -> Visits:
    """Three visitors (three fresh browser contexts) browse the fixture site with the real tracker.

    A reads 12 different pages, B arrives from a newsletter link and reads /about, C reads /about only
    and clicks the tagged button there (a custom property `plan=pro`, so the click-events variant is on).
    """
    response = admin.patch("/api/tenant/settings", json={"script_type": ["default", "click-events"]})
    assert response.status_code == 200, response.text
    tag = f'<script defer src="{server.base_url}/script.js"></script>'
    body = '<h1>Hello</h1><button id="buy" data-m:click="plan=pro">Buy</button>'
    site.pages["/"] = f"<!doctype html><html><head><title>Fixture</title>{tag}</head><body>{body}</body></html>"
    site.fallback = "/"
    journeys = [
        ["/", "/about", *[f"/page-{n}" for n in range(1, 11)]],
        ["/?utm_source=newsletter", "/about"],
        ["/about"],
    ]
    for paths in journeys:
        context = browser.new_context(**context_options(user_agent))  # type: ignore[arg-type]
        page = context.new_page()
        for path in paths:
            # Wait for the load hit's answer, not just its start: navigating on at once cancels a beacon
            # Chromium has not sent yet, and on a busy machine that lost most of visitor A's page views.
            with page.expect_response(lambda response: _is_load(response.request)):
                page.goto(site.url(path))
        if len(paths) == 1:
            with page.expect_request(_is_custom):
                page.click("#buy")
        context.close()
    views = sum(len(p) for p in journeys)
    distinct = {urlsplit(p).path for paths in journeys for p in paths}
    return Visits(
        visitors=len(journeys),
        pageviews=views,
        about_views=sum(p == "/about" for paths in journeys for p in paths),
        paths=len(distinct),
    )


def wait_for_pageviews(admin: httpx.Client, pageviews: int, timeout: float = 15) -> None:
    """Poll the summary until every page view is stored (ingestion commits in small groups)."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        response = admin.get(f"/api/website/{SITE}/summary")
        assert response.status_code == 200, response.text
        seen = response.json()["current"]["pageviews"]
        if seen >= pageviews:
            return
        time.sleep(0.1)
    raise AssertionError(f"only {seen} of {pageviews} page views arrived")
