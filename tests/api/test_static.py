"""Tracker scripts, dashboard files and the SPA fallback (docs/tracker.md#variants), with CRC32 ETags."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

import medama_py
from tests.api.helpers import assert_error

if TYPE_CHECKING:
    import httpx

STATIC = Path(medama_py.__file__).parent / "static"
SCRIPT_CACHE = "public, max-age=21600, stale-while-revalidate=86400"
ASSET_CACHE = "public, max-age=31536000, immutable"
VARIANTS = ["default.js", "click-events.js", "page-events.js", "click-events.page-events.js"]


def etag_of(content: bytes) -> str:
    return format(zlib.crc32(content), "x")


def index_html() -> bytes:
    return (STATIC / "dashboard" / "index.html").read_bytes()


def dashboard_files() -> list[tuple[str, Path]]:
    root = STATIC / "dashboard"
    return [
        ("/" + path.relative_to(root).as_posix(), path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "index.html"
    ]


@pytest.mark.parametrize("name", VARIANTS)
def test_scripts_are_served_with_etag_and_cache(anonymous: httpx.Client, name: str) -> None:
    content = (STATIC / "scripts" / name).read_bytes()
    response = anonymous.get(f"/scripts/{name}")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["etag"] == etag_of(content)
    assert not response.headers["etag"].startswith(('"', "W/"))
    assert response.headers["cache-control"] == SCRIPT_CACHE
    assert response.headers["content-type"].startswith("text/javascript")
    assert "last-modified" not in response.headers


def test_script_js_is_the_configured_variant(anonymous: httpx.Client) -> None:
    content = (STATIC / "scripts" / "default.js").read_bytes()
    response = anonymous.get("/script.js")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["etag"] == etag_of(content)
    assert response.headers["cache-control"] == SCRIPT_CACHE


@pytest.mark.parametrize("path", ["/script.js", "/scripts/default.js", "/scripts/page-events.js"])
def test_if_none_match_gives_304(anonymous: httpx.Client, path: str) -> None:
    etag = anonymous.get(path).headers["etag"]
    cached = anonymous.get(path, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    assert cached.headers["cache-control"] == SCRIPT_CACHE
    # Byte-for-byte comparison only: quoted, weak or stale tags get the full file.
    for other in (f'"{etag}"', f"W/{etag}", "0", f"{etag}, x", ""):
        assert anonymous.get(path, headers={"If-None-Match": other}).status_code == 200, other


@pytest.mark.parametrize(
    "path", ["/scripts/x.js", "/scripts/default.min.js", "/scripts/.js", "/scripts/sub/default.js"]
)
def test_unknown_script_is_plain_404(anonymous: httpx.Client, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "404 page not found\n"


@pytest.mark.parametrize(
    "path", ["/", "/index.html", "/login", "/example.com", "/settings/account", "/event/hit", "/a/b/c?x=1"]
)
def test_spa_fallback_serves_index_html(anonymous: httpx.Client, path: str) -> None:
    content = index_html()
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"] == etag_of(content)
    cached = anonymous.get(path, headers={"If-None-Match": etag_of(content)})
    assert cached.status_code == 304
    assert cached.content == b""


def test_spa_fallback_ignores_the_method(anonymous: httpx.Client) -> None:
    response = anonymous.post("/anything", content=b"x")
    assert response.status_code == 200
    assert response.content == index_html()


def test_dashboard_files_are_served_with_their_cache_policy(anonymous: httpx.Client) -> None:
    files = dashboard_files()
    assert any(path.startswith("/assets/") for path, _ in files), "the dashboard build has assets"
    for path, file in files:
        content = file.read_bytes()
        response = anonymous.get(path)
        assert response.status_code == 200, path
        assert response.content == content, path
        assert response.headers["etag"] == etag_of(content), path
        expected = ASSET_CACHE if path.startswith("/assets/") else SCRIPT_CACHE
        assert response.headers["cache-control"] == expected, path


@pytest.mark.parametrize(
    ("path", "kind"), [(".js", "text/javascript"), (".css", "text/css"), (".svg", "image/svg+xml")]
)
def test_content_types_by_extension(anonymous: httpx.Client, path: str, kind: str) -> None:
    matches = [p for p, _ in dashboard_files() if p.endswith(path)]
    assert matches, f"no {path} file in the dashboard build"
    assert anonymous.get(matches[0]).headers["content-type"].startswith(kind)


def test_openapi_yaml(anonymous: httpx.Client) -> None:
    response = anonymous.get("/openapi.yaml")
    assert response.status_code == 200
    assert "yaml" in response.headers["content-type"]
    document = yaml.load(response.text, Loader=yaml.CSafeLoader)  # libyaml: ~6x faster on this 300 kB file
    assert document["openapi"].startswith("3.")
    assert "/api/user" in document["paths"]
    assert "cache-control" not in response.headers
    assert response.text == (Path(medama_py.__file__).parents[1] / "openapi.yaml").read_text()


@pytest.mark.parametrize("path", ["/api/unknown", "/api/user/", "/api/scripts/default.js", "/api/script.js"])
def test_api_paths_never_fall_back_to_the_spa(anonymous: httpx.Client, path: str) -> None:
    assert_error(anonymous.get(path), 404, "api path not found")
