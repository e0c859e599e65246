"""Settings → API keys in Chromium: create a key (secret shown once, copy button, curl example), use it on both
APIs, see it listed with its last use, revoke it, and see it refused at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from playwright.sync_api import expect

from tests.browser.dashboard_fixtures import log_in, screenshot
from tests.support.server import DEFAULT_USERNAME, register_website

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.support.server import Server


def test_create_use_and_revoke_an_api_key(
    server: Server, admin_client: httpx.Client, admin_password: str, page: Page, page_errors: list[str]
) -> None:
    register_website(admin_client, "keys.example")
    base = server.base_url
    log_in(page, base, DEFAULT_USERNAME, admin_password, "/settings/api-keys")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    page.get_by_label("Name").fill("warehouse sync")
    page.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog", name="Your new API key")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Copy api-key", exact=True)).to_be_visible()
    codes = dialog.get_by_test_id("snippet")
    secret = codes.nth(0).inner_text().strip()
    assert secret.startswith("mdk_")
    expect(codes.nth(1)).to_contain_text(f'curl -H "x-umami-api-key: {secret}" {base}/umami/api/websites')
    screenshot(page, "settings-api-keys-created")
    dialog.get_by_role("button", name="Done").click()

    headers = {"x-umami-api-key": secret}
    assert httpx.get(f"{base}/umami/api/websites", headers=headers).json()["data"][0]["domain"] == "keys.example"
    assert httpx.get(f"{base}/api/website/keys.example/summary", headers=headers).status_code == 200
    page.reload()
    row = page.get_by_role("row").filter(has_text="warehouse sync")
    expect(row).to_be_visible()
    expect(row).not_to_contain_text("Never")
    assert secret not in page.content()

    page.once("dialog", lambda confirm: confirm.accept())
    row.get_by_role("button", name="Revoke warehouse sync").click()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    assert httpx.get(f"{base}/umami/api/websites", headers=headers).status_code == 401
    assert page_errors == []
