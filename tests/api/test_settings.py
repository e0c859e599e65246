"""GET/PATCH /tenant/settings; changes apply at once (docs/compatibility.md#tenant-settings, #ip-blocking)."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import medama_py
from tests.api.helpers import assert_error

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

SCRIPTS = Path(medama_py.__file__).parent / "static" / "scripts"
DEFAULTS = {"script_type": ["default"], "blockAbusiveIPs": True, "blockTorExitNodes": True, "blockedIPs": []}


@pytest.fixture
def settings(client: httpx.Client) -> Iterator[httpx.Client]:
    """The logged-in client; the settings go back to the defaults afterwards."""
    yield client
    restored = client.patch("/api/tenant/settings", json=DEFAULTS)
    assert restored.status_code == 200, restored.text


def test_defaults(settings: httpx.Client) -> None:
    response = settings.get("/api/tenant/settings")
    assert response.status_code == 200
    assert response.json() == DEFAULTS
    assert list(response.json()) == ["script_type", "blockAbusiveIPs", "blockTorExitNodes", "blockedIPs"]


def test_patch_every_field(settings: httpx.Client) -> None:
    body = {
        "script_type": ["page-events", "default", "click-events"],
        "blockAbusiveIPs": False,
        "blockTorExitNodes": False,
        "blockedIPs": ["10.0.0.1", "192.0.2.4"],
    }
    response = settings.patch("/api/tenant/settings", json=body)
    assert response.status_code == 200
    assert response.json() == body  # stored order is kept
    assert settings.get("/api/tenant/settings").json() == body


def test_patch_is_partial(settings: httpx.Client) -> None:
    settings.patch("/api/tenant/settings", json={"blockedIPs": ["203.0.113.5"]})
    response = settings.patch("/api/tenant/settings", json={"blockTorExitNodes": False})
    assert response.json() == {**DEFAULTS, "blockTorExitNodes": False, "blockedIPs": ["203.0.113.5"]}
    assert settings.patch("/api/tenant/settings", json={}).json() == response.json()


def test_clearing_blocked_ips(settings: httpx.Client) -> None:
    settings.patch("/api/tenant/settings", json={"blockedIPs": ["203.0.113.5"]})
    assert settings.patch("/api/tenant/settings", json={"blockedIPs": []}).json()["blockedIPs"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"script_type": []}, None),
        ({"script_type": ["default", "default"]}, None),
        ({"script_type": ["click-events", "click-events"]}, None),
        ({"script_type": ["everything"]}, None),
        ({"script_type": "default"}, None),
        ({"script_type": [1]}, None),
        ({"blockAbusiveIPs": "true"}, None),
        ({"blockTorExitNodes": 1}, None),
        ({"blockedIPs": ["::1"]}, "wrong ip version"),
        ({"blockedIPs": ["2001:db8::1"]}, "wrong ip version"),
        ({"blockedIPs": ["1.2.3"]}, "bad ip format"),
        ({"blockedIPs": ["256.1.1.1"]}, "bad ip format"),
        ({"blockedIPs": ["10.0.0.0/8"]}, "bad ip format"),
        ({"blockedIPs": ["example.com"]}, "bad ip format"),
        ({"blockedIPs": [""]}, "bad ip format"),
        ({"blockedIPs": ["1.2.3.4", "1.2.3.4"]}, None),
        ({"blockedIPs": "1.2.3.4"}, None),
        ({"blockedIPs": [None]}, None),
    ],
)
def test_invalid_patches_are_400_and_change_nothing(
    settings: httpx.Client, body: dict[str, object], message: str | None
) -> None:
    response = settings.patch("/api/tenant/settings", json=body)
    assert_error(response, 400)
    if message is not None:
        assert response.json()["error"]["message"].startswith(message)
    assert settings.get("/api/tenant/settings").json() == DEFAULTS


def test_a_valid_field_next_to_an_invalid_one_is_not_stored(settings: httpx.Client) -> None:
    response = settings.patch("/api/tenant/settings", json={"blockAbusiveIPs": False, "blockedIPs": ["::1"]})
    assert_error(response, 400)
    assert settings.get("/api/tenant/settings").json() == DEFAULTS


def test_patch_needs_json(settings: httpx.Client) -> None:
    body = b'{"blockAbusiveIPs": false}'
    assert_error(settings.patch("/api/tenant/settings", content=body, headers={"Content-Type": "text/plain"}), 415)
    assert_error(settings.patch("/api/tenant/settings", content=b"", headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize(
    ("script_type", "file"),
    [
        (["default"], "default.js"),
        (["default", "click-events"], "click-events.js"),
        (["page-events"], "page-events.js"),
        (["page-events", "click-events"], "click-events.page-events.js"),
        (["default", "page-events", "click-events"], "click-events.page-events.js"),
    ],
)
def test_script_js_follows_the_setting_immediately(settings: httpx.Client, script_type: list[str], file: str) -> None:
    assert settings.patch("/api/tenant/settings", json={"script_type": script_type}).status_code == 200
    response = settings.get("/script.js")
    content = (SCRIPTS / file).read_bytes()
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["etag"] == format(zlib.crc32(content), "x")
