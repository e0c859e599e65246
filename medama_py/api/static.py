"""Tracker scripts, dashboard assets and the SPA fallback, from memory with CRC32 ETags (docs/tracker.md#variants)."""

from __future__ import annotations

import mimetypes
import zlib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from litestar import HttpMethod, Response, route

from medama_py import sharing
from medama_py.api.deps import AnyRequest, services_of
from medama_py.errors import NotFound

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["StaticFiles", "load_static_files", "route_handlers"]

UMAMI_SCRIPT = "/scripts/umami.js"
SHARE_PREFIX = "/share/"
SCRIPT_CACHE = "public, max-age=21600, stale-while-revalidate=86400"
ASSET_CACHE = "public, max-age=31536000, immutable"
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".html": "text/html",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
_PLACEHOLDER = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Medama</title></head>
<body><main><h1>Medama</h1><p>The dashboard has not been built. Run <code>make dashboard</code>,
or use the API under <code>/api</code> (see <a href="/openapi.yaml">/openapi.yaml</a>).</p></main></body></html>
"""


@dataclass(frozen=True)
class StaticFile:
    content: bytes
    etag: str
    content_type: str
    cache_control: str


def _static_file(name: str, content: bytes, cache_control: str) -> StaticFile:
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    content_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    # Medama's ETag: CRC32-IEEE in lowercase hex without leading zeros, unquoted.
    return StaticFile(content, format(zlib.crc32(content), "x"), content_type, cache_control)


def _walk(root: Traversable, prefix: str = "") -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if not root.is_dir():
        return files
    for entry in root.iterdir():
        path = f"{prefix}/{entry.name}"
        if entry.is_dir():
            files.update(_walk(entry, path))
        elif entry.is_file():
            files[path] = entry.read_bytes()
    return files


@dataclass(frozen=True)
class StaticFiles:
    """Every servable file by request path, plus index.html for the SPA fallback."""

    files: dict[str, StaticFile]
    index: StaticFile


def load_static_files() -> StaticFiles:
    """Read the built tracker variants and dashboard from the package into memory (a few hundred KB)."""
    static = resources.files("medama_py").joinpath("static")
    files: dict[str, StaticFile] = {}
    for path, content in _walk(static.joinpath("scripts"), "/scripts").items():
        files[path] = _static_file(path, content, SCRIPT_CACHE)
    dashboard = _walk(static.joinpath("dashboard"))
    index_html = dashboard.pop("/index.html", _PLACEHOLDER)
    for path, content in dashboard.items():
        cache = ASSET_CACHE if path.startswith("/assets/") else SCRIPT_CACHE
        files[path] = _static_file(path, content, cache)
    index = StaticFile(index_html, format(zlib.crc32(index_html), "x"), "text/html", "no-cache")
    return StaticFiles(files, index)


def _serve(request: AnyRequest, file: StaticFile) -> Response[bytes]:
    headers = {"ETag": file.etag, "Cache-Control": file.cache_control}
    if request.headers.get("if-none-match") == file.etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(file.content, status_code=200, headers=headers, media_type=file.content_type)


@route(
    ["/", "/{path:path}"],
    http_method=[HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST],
    include_in_schema=False,
    name="spa",
)
async def serve_static(request: AnyRequest) -> Response[bytes]:
    """`/script.js` → the configured variant; `/scripts/*` and assets by name; anything else → index.html."""
    # Read from the route match: "/" has no path parameter, and a handler argument would become a query one.
    path: str = request.path_params.get("path", "/")
    if path == "/api" or path.startswith("/api/"):
        raise NotFound("api path not found")
    if path.startswith("/umami/"):
        raise NotFound  # the Umami-compatible API answers unknown paths with its own 404 envelope
    services = services_of(request)
    statics: StaticFiles = request.app.state.static_files
    if path == "/script.js":
        path = f"/scripts/{services.script_file}"
    file = statics.files.get(path)
    if file is not None:
        return _serve(request, file)
    if path.startswith("/scripts/"):
        return Response(b"404 page not found\n", status_code=404, media_type="text/plain")
    if path.startswith(SHARE_PREFIX) or path == SHARE_PREFIX.rstrip("/"):
        # /share/<slug>/<dataset> is the same link's full-table view.
        slug = path.removeprefix(SHARE_PREFIX).split("/", 1)[0]
        return await _serve_share_page(request, slug, statics.index)
    return _serve(request, statics.index)


async def _serve_share_page(request: AnyRequest, slug: str, index: StaticFile) -> Response[bytes]:
    """A share link's page: the dashboard, answering 404 once the link is revoked or expired.

    The page renders "link no longer available" by itself when opening the link fails. The slug must not leak
    through the Referer of anything the page loads, nor reach search engines.
    """
    services = services_of(request)
    active = await sharing.is_active(services.meta, slug, int(services.clock().timestamp()))
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
    return Response(index.content, status_code=200 if active else 404, headers=headers, media_type=index.content_type)


@route("/umami/script.js", http_method=[HttpMethod.GET, HttpMethod.HEAD], include_in_schema=False)
async def serve_umami_script(request: AnyRequest) -> Response[bytes]:
    """Our tracker for Umami-style snippets (docs/umami.md), cached like Medama's scripts.

    Its own route: the /umami routers own that path prefix, so the catch-all above never sees it.
    """
    statics: StaticFiles = request.app.state.static_files
    return _serve(request, statics.files[UMAMI_SCRIPT])


route_handlers = [serve_static, serve_umami_script]
