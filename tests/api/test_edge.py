"""The outer layer: X-Api-Commit on GETs, CORS policies and preflights, compression, exact API paths."""

from __future__ import annotations

import gzip
import json
from contextlib import closing
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.helpers import assert_error, get_request, raw_request
from tests.support.server import logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # -corsorigins servers and compression as uvicorn sends it

APP = "https://app.example"
IPV6_ORIGIN = "http://[::1]:5173"  # '[' and ']' are literal text, not a pattern
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


def vary(response: httpx.Response) -> set[str]:
    return {part.strip().lower() for value in response.headers.get_list("vary") for part in value.split(",")}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/user", 200),
        ("/api/websites", 200),
        ("/api/tenant/settings", 200),
        ("/api/websites/missing.example", 404),
        ("/api/unknown", 404),
        ("/api/user/", 404),
        ("/", 200),
        ("/login", 200),
        ("/openapi.yaml", 200),
        ("/script.js", 200),
        ("/scripts/missing.js", 404),
    ],
)
def test_x_api_commit_on_gets(client: httpx.Client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["x-api-commit"] == "development"


def test_x_api_commit_on_unauthorised_get(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/user")
    assert response.status_code == 401
    assert response.headers["x-api-commit"] == "development"


def test_no_x_api_commit_on_event_paths_and_mutations(client: httpx.Client) -> None:
    assert "x-api-commit" not in client.get("/api/event/ping").headers
    assert "x-api-commit" not in client.patch("/api/user", json={}).headers
    assert "x-api-commit" not in client.patch("/api/tenant/settings", json={}).headers
    assert "x-api-commit" not in client.post("/api/websites", json={"hostname": "bad host"}).headers
    assert "x-api-commit" not in client.delete("/api/websites/nothing.example").headers


def test_default_cors_policy(client: httpx.Client) -> None:
    origin = {"Origin": "https://anywhere.example"}
    for path in ("/api/user", "/", "/script.js", "/api/event/ping"):
        response = client.get(path, headers=origin)
        assert response.headers["access-control-allow-origin"] == "*", path
        assert "access-control-allow-credentials" not in response.headers
        assert "origin" in vary(response), path
    no_origin = client.get("/api/user")
    assert "access-control-allow-origin" not in no_origin.headers
    assert "origin" in vary(no_origin)
    # PATCH is not in the default policy's methods.
    assert "access-control-allow-origin" not in client.patch("/api/user", json={}, headers=origin).headers


@pytest.mark.parametrize(
    ("method", "request_headers", "allowed"),
    [
        ("GET", None, True),
        ("POST", "content-type", True),
        ("HEAD", None, True),
        ("POST", "Content-Type, X-Requested-With, Accept", True),
        ("PATCH", None, False),
        ("DELETE", None, False),
        ("POST", "authorization", False),
    ],
)
def test_default_preflight(anonymous: httpx.Client, method: str, request_headers: str | None, allowed: bool) -> None:
    headers = {"Origin": "https://anywhere.example", "Access-Control-Request-Method": method}
    if request_headers:
        headers["Access-Control-Request-Headers"] = request_headers
    response = anonymous.options("/api/auth/login", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    assert vary(response) >= {"origin", "access-control-request-method", "access-control-request-headers"}
    if allowed:
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["access-control-allow-methods"] == method
        if request_headers:
            echoed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
            assert echoed == {h.strip().lower() for h in request_headers.split(",")}
    else:
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-methods" not in response.headers


def test_preflight_never_reaches_the_api(anonymous: httpx.Client) -> None:
    headers = {"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
    for path in ("/api/user", "/api/unknown", "/api/websites/x.example", "/"):
        response = anonymous.options(path, headers=headers)
        assert response.status_code == 204
        assert response.content == b""


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/user", "DELETE,GET,PATCH"),
        ("/api/tenant/settings", "GET,PATCH"),
        ("/api/websites", "GET,POST"),
        ("/api/websites/a.example", "DELETE,GET,PATCH"),
        ("/api/auth/login", "POST"),
    ],
)
def test_options_without_preflight_lists_every_method(anonymous: httpx.Client, path: str, methods: str) -> None:
    response = anonymous.options(path)
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == methods
    assert {m.strip() for m in response.headers["allow"].split(",")} == {*methods.split(","), "OPTIONS"}


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("cors") / "data"
    origins = f"{APP},https://*.trusted.example,{IPV6_ORIGIN}"
    with running_server(data, "-corsorigins", origins) as running:
        yield running


@pytest.fixture(scope="module")
def cors_client(cors_server: Server) -> Iterator[httpx.Client]:
    with closing(logged_in_client(cors_server)) as logged_in:
        yield logged_in


@pytest.mark.parametrize("origin", [APP, "HTTPS://APP.EXAMPLE", "https://eu.trusted.example", IPV6_ORIGIN])
def test_custom_cors_allows_listed_origins_with_credentials(cors_client: httpx.Client, origin: str) -> None:
    for method, path in [("GET", "/api/user"), ("PATCH", "/api/tenant/settings"), ("GET", "/api/websites/x.example")]:
        kwargs: dict[str, object] = {"json": {}} if method == "PATCH" else {}
        response = cors_client.request(method, path, headers={"Origin": origin}, **kwargs)  # type: ignore[arg-type]
        assert response.headers["access-control-allow-origin"] == origin, (method, path)
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "x-api-commit" in response.headers["access-control-expose-headers"].lower().replace(" ", "").split(",")
        assert "origin" in vary(response)


@pytest.mark.parametrize("origin", ["https://evil.example", "http://app.example", "https://app.example.evil", "null"])
def test_custom_cors_refuses_other_origins(cors_client: httpx.Client, origin: str) -> None:
    response = cors_client.get("/api/user", headers={"Origin": origin})
    assert response.status_code == 200  # CORS only withholds the headers; the browser enforces
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


def test_custom_cors_leaves_events_and_pages_on_the_default_policy(cors_client: httpx.Client) -> None:
    for path in ("/api/event/ping", "/", "/script.js", "/openapi.yaml"):
        response = cors_client.get(path, headers={"Origin": "https://evil.example"})
        assert response.headers["access-control-allow-origin"] == "*", path
        assert "access-control-allow-credentials" not in response.headers


def test_custom_preflight(cors_server: Server) -> None:
    with httpx.Client(base_url=cors_server.base_url) as client:
        allowed = client.options(
            "/api/websites/x.example",
            headers={
                "Origin": APP,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == APP
        assert allowed.headers["access-control-allow-methods"] == "PATCH"
        assert allowed.headers["access-control-allow-headers"].lower() == "content-type"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        refused = client.options(
            "/api/user", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"}
        )
        assert refused.status_code == 204
        assert "access-control-allow-origin" not in refused.headers
        head = client.options("/api/user", headers={"Origin": APP, "Access-Control-Request-Method": "HEAD"})
        assert "access-control-allow-origin" not in head.headers  # HEAD is not in the custom policy


def test_large_responses_are_gzipped_with_vary(client: httpx.Client) -> None:
    response = client.get("/openapi.yaml", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in vary(response)
    assert response.text.startswith(("openapi", "info"))  # httpx decoded it
    raw = client.get("/openapi.yaml", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert raw.text == response.text


def test_gzip_on_api_json(client: httpx.Client) -> None:
    names = [f"compressible-{i}-{'x' * 20}.example" for i in range(8)]
    for name in names:
        assert client.post("/api/websites", json={"hostname": name}).status_code == 201
    try:
        port = client.base_url.port
        assert port is not None
        cookie = b"Cookie: _me_sess=" + client.cookies["_me_sess"].encode()
        response = raw_request(port, get_request(b"/api/websites", b"Accept-Encoding: gzip", cookie))
        assert response.status == 200
        assert response.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in response.headers["vary"].lower()
        assert response.headers["content-type"].startswith("application/json")
        sites = json.loads(gzip.decompress(response.body))
        assert [site["hostname"] for site in sites if site["hostname"] in names] == names
    finally:
        for name in names:
            client.delete(f"/api/websites/{name}")


def test_small_bodies_are_not_compressed(client: httpx.Client) -> None:
    response = client.get("/api/tenant/settings", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers


def test_api_paths_are_exact(client: httpx.Client) -> None:
    assert_error(client.get("/api/unknown"), 404, "api path not found")
    assert_error(client.get("/api/user/"), 404, "api path not found")
    assert_error(client.get("/api/websites/"), 404, "api path not found")
    assert_error(client.get("/api/"), 404, "api path not found")
    assert_error(client.post("/api/nothing", json={}), 404, "api path not found")
    assert_error(client.get("/api/User"), 404, "api path not found")
    redirect = client.get("/api", follow_redirects=False)
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "/api/"


@pytest.mark.parametrize(("method", "path"), [("PUT", "/api/user"), ("POST", "/api/user"), ("PUT", "/api/websites")])
def test_wrong_method_is_405_with_allow(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert "allow" in response.headers
    assert_error(response, 405)


def test_head_on_api_is_405(client: httpx.Client) -> None:
    assert client.head("/api/user").status_code == 405
