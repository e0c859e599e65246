"""Who may do what: every route of the app's route table × every kind of caller, against the real server.

The routes come from the application itself (`route_handler_method_map`), so a route added later without a line
in RULES below fails `test_every_route_has_an_expectation`, and every route with one is called by each caller:

* admin: the default admin;
* viewer+: a viewer granted `granted.example`;
* viewer-: a viewer granted nothing;
* share: no session, the `X-Share-Token` of a link to `granted.example`;
* none: no credentials at all.

Writes are aimed where they change nothing the other cells depend on (an existing name → 409, a missing id
→ 404, an empty patch → 200), so that each cell shows whether the caller got past authorisation.
"""

from __future__ import annotations

import re
import time
import warnings
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from medama_py.app import create_app
from medama_py.config import Config
from tests.api.helpers import assert_error
from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME, logged_in_client, running_server

pytestmark = pytest.mark.e2e  # the real `medama start`: logins, sessions and the share throttle by client

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server

ROLES = ("admin", "viewer+", "viewer-", "share", "none")
SITE = "granted.example"
OTHER_SITE = "other.example"
MISSING_ID = "user_01h455vb4pex5vsknk084sn0qq"
MISSING_SHARE = "share_01h455vb4pex5vsknk084sn0qq"
VIEWER_PASSWORD = "viewer-password"
VIEWER_NAMES = {"viewer+": "viewer-plus", "viewer-": "viewer-minus"}


@dataclass(frozen=True)
class Expect:
    """The answer of each caller: `ok` for those allowed, the class of route says who is."""

    access: str  # admin | user | user-read | website | stats | umami-site | public | hidden
    ok: int = 200
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    fresh_session: bool = False  # the call starts or ends a session: each caller gets a client of its own
    anonymous: int | None = None  # what share and none get, when it differs from the class's rule

    def status(self, role: str) -> int:
        viewer = role.startswith("viewer")
        if self.access == "public":
            return self.ok
        if self.access == "hidden":
            return 404
        if role in ("share", "none") and self.anonymous is not None:
            return self.anonymous
        if role == "share" and self.access == "stats":
            return self.ok
        if role in ("share", "none"):
            return 401
        if self.access == "admin":
            return 403 if viewer else self.ok
        if self.access in ("website", "stats", "umami-site"):
            return 404 if role == "viewer-" else self.ok
        if self.access == "user-read":  # every user, but a viewer may not write here
            return 403 if viewer else self.ok
        return self.ok  # "user": any signed-in user


ADMIN_LOGIN = {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}
UMAMI_RANGE = {"startAt": "0", "endAt": str(int(time.time() * 1000)), "unit": "day", "type": "path"}

# (method, path regex on the untyped template, expectation), first match wins.
RULES: list[tuple[str, str, Expect]] = [
    ("POST", r"/api/auth/login", Expect("public", body=ADMIN_LOGIN, fresh_session=True)),
    # Medama: logout without a cookie is a 400 (no cookie parameter), with any cookie a 204.
    ("POST", r"/api/auth/logout", Expect("user", ok=204, fresh_session=True, anonymous=400)),
    ("GET", r"/api/event/ping", Expect("public", query={"u": f"https://{SITE}/"})),
    ("POST", r"/api/event/hit", Expect("public", ok=400, body={})),
    # Neither a send body nor a batch (an array, or an object keyed "0", "1", ... as @umami/api-client sends).
    ("POST", r"/umami/api/(send|batch)", Expect("public", ok=400, body={"bad": 1})),
    ("GET", r"/api/user", Expect("user")),
    ("PATCH", r"/api/user", Expect("user", body={})),
    ("DELETE", r"/api/user", Expect("user-read", ok=409)),  # the admin owns websites
    ("GET", r"/api/user/usage", Expect("admin")),
    ("GET", r"/api/users", Expect("admin")),
    (
        "POST",
        r"/api/users",
        Expect("admin", ok=409, body={"username": "viewer-minus", "password": "x" * 8, "role": "viewer"}),
    ),
    ("GET", r"/api/users/\{account_id\}", Expect("admin", ok=404, params={"account_id": MISSING_ID})),
    ("PATCH", r"/api/users/\{account_id\}", Expect("admin", ok=404, body={}, params={"account_id": MISSING_ID})),
    ("DELETE", r"/api/users/\{account_id\}", Expect("admin", ok=404, params={"account_id": MISSING_ID})),
    ("GET", r"/api/tenant/settings", Expect("admin")),
    ("PATCH", r"/api/tenant/settings", Expect("admin", body={})),
    ("GET", r"/api/websites", Expect("user")),
    ("POST", r"/api/websites", Expect("admin", ok=409, body={"hostname": SITE})),
    ("GET", r"/api/websites/\{hostname\}", Expect("website")),
    ("PATCH", r"/api/websites/\{hostname\}", Expect("admin", body={})),
    ("DELETE", r"/api/websites/\{hostname\}", Expect("admin", ok=404, params={"hostname": "missing.example"})),
    ("GET", r"/api/websites/\{hostname\}/shares", Expect("admin")),
    ("POST", r"/api/websites/\{hostname\}/shares", Expect("admin", ok=201, body={})),
    (
        "DELETE",
        r"/api/websites/\{hostname\}/shares/\{share_id\}",
        Expect("admin", ok=404, params={"share_id": MISSING_SHARE}),
    ),
    ("POST", r"/api/share/\{slug\}", Expect("public", body={})),
    # Raw data and whole-database copies are the admin's (docs/data.md); a viewer reads only statistics.
    ("GET", r"/api/website/\{hostname\}/export", Expect("admin")),
    ("POST", r"/api/backup", Expect("admin")),
    ("GET", r"/api/data/retention", Expect("admin")),
    ("PATCH", r"/api/data/retention", Expect("admin", body={"months": 0})),
    ("GET", r"/api/website/\{hostname\}/\w+", Expect("stats")),
    ("GET", r"/api/user/api-keys", Expect("user")),
    ("POST", r"/api/user/api-keys", Expect("user", ok=201, body={"name": "matrix"})),
    ("DELETE", r"/api/user/api-keys/\{key_id\}", Expect("user", ok=404, params={"key_id": "nope"})),
    (
        "POST",
        r"/umami/(api|v1)/auth/login",
        Expect("public", body=ADMIN_LOGIN, fresh_session=True),
    ),
    ("POST", r"/umami/(api|v1)/auth/verify", Expect("user")),
    # Umami's logout ends a bearer token; a cookie session is not one (400).
    ("POST", r"/umami/(api|v1)/auth/logout", Expect("user", ok=400, fresh_session=True)),
    ("GET", r"/umami/(api|v1)/me", Expect("user")),
    ("GET", r"/umami/(api|v1)/me/api-keys", Expect("user")),
    ("POST", r"/umami/(api|v1)/me/api-keys", Expect("user", body={"name": "matrix"})),
    ("DELETE", r"/umami/(api|v1)/me/api-keys/\{key_id\}", Expect("user", ok=404, params={"key_id": "nope"})),
    ("GET", r"/umami/(api|v1)/websites", Expect("user")),
    (
        "GET",
        r"/umami/(api|v1)/websites/\{website_id\}/sessions/\{session_id\}",
        Expect("umami-site", ok=404, query=UMAMI_RANGE),
    ),
    (
        "GET",
        r"/umami/(api|v1)/websites/\{website_id\}/sessions/\{session_id\}/activity",
        Expect("umami-site", query=UMAMI_RANGE),  # an unknown session has no activity: []
    ),
    (
        "GET",
        r"/umami/(api|v1)/websites/\{website_id\}/event-data/values",
        # One property of one event: both are required (400 without them).
        Expect("umami-site", query={**UMAMI_RANGE, "event": "signup", "propertyName": "plan"}),
    ),
    (
        "GET",
        r"/umami/(api|v1)/websites/\{website_id\}/event-data/\{report\}",
        Expect("umami-site", query=UMAMI_RANGE, params={"report": "events"}),
    ),
    ("GET", r"/umami/(api|v1)/(websites|realtime)/\{website_id\}(/[\w/-]+)?", Expect("umami-site", query=UMAMI_RANGE)),
    ("GET", r"/openapi.yaml", Expect("public")),
    ("GET", r"/umami/script.js", Expect("public")),
    ("GET", r"/|/\{path\}", Expect("public")),
    ("POST", r"/|/\{path\}", Expect("public")),
    ("GET", r"/api/_openapi(/.*)?", Expect("hidden")),
]


def route_table() -> list[tuple[str, str]]:
    """(method, path template without parameter types) for every route the application serves."""
    with warnings.catch_warnings():  # building the app may warn about other modules' parameter styles
        warnings.simplefilter("ignore")
        app = create_app(Config())
    routes = []
    for path, handlers in app.route_handler_method_map.items():
        template = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)
        routes += [(m, template) for m in handlers if m not in ("OPTIONS", "HEAD", "asgi", "websocket")]
    return sorted(routes)


def expectation(method: str, template: str) -> Expect | None:
    for rule_method, pattern, expect in RULES:
        if rule_method == method and re.fullmatch(pattern, template):
            return expect
    return None


ROUTES = route_table()


def test_every_route_has_an_expectation() -> None:
    missing = [f"{m} {t}" for m, t in ROUTES if expectation(m, t) is None]
    assert not missing, f"routes without a line in RULES: {missing}"
    assert len(ROUTES) > 80


@dataclass
class World:
    server: Server
    clients: dict[str, httpx.Client]
    website_uuid: str
    slug: str


def _new_session(server: Server, role: str, world: World) -> httpx.Client:
    if role == "admin":
        return logged_in_client(server)
    if role.startswith("viewer"):
        return logged_in_client(server, VIEWER_NAMES[role], VIEWER_PASSWORD)
    client = httpx.Client(base_url=server.base_url, timeout=10)
    if role == "share":
        opened = client.post(f"/api/share/{world.slug}", json={})
        client.headers["X-Share-Token"] = opened.json()["token"]
    return client


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        running_server(tmp_path_factory.mktemp("matrix") / "data") as server,
        closing(logged_in_client(server)) as admin,
    ):
        for host in (SITE, OTHER_SITE):
            assert admin.post("/api/websites", json={"hostname": host}).status_code == 201
        for name, sites in (("viewer-plus", [SITE]), ("viewer-minus", [])):
            body = {"username": name, "password": VIEWER_PASSWORD, "role": "viewer", "websites": sites}
            assert admin.post("/api/users", json=body).status_code == 201
        slug = admin.post(f"/api/websites/{SITE}/shares", json={}).json()["slug"]
        uuid = next(w["id"] for w in admin.get("/umami/api/websites").json()["data"] if w["domain"] == SITE)
        partial = World(server, {}, uuid, slug)
        partial.clients = {role: _new_session(server, role, partial) for role in ROLES}
        try:
            yield partial
        finally:
            for client in partial.clients.values():
                client.close()


def _url(template: str, expect: Expect, world: World) -> str:
    values = {
        "hostname": SITE,
        "website_id": world.website_uuid,
        "slug": world.slug,
        "session_id": "nope",
        "path": "somewhere",
    }
    values.update(expect.params)
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {t}" for m, t in ROUTES])
def test_each_caller_gets_its_answer(world: World, method: str, template: str) -> None:
    expect = expectation(method, template)
    assert expect is not None
    url = _url(template, expect, world)
    got = {}
    for role in ROLES:
        client = _new_session(world.server, role, world) if expect.fresh_session else world.clients[role]
        kwargs: dict[str, Any] = {"params": expect.query}
        if method in ("POST", "PATCH", "PUT"):
            kwargs["json"] = expect.body
        try:
            response = client.request(method, url, **kwargs)
        finally:
            if expect.fresh_session:
                client.close()
        got[role] = response.status_code
        assert response.status_code < 500, f"{role}: {response.status_code} {response.text[:300]}"
        if response.status_code in (401, 403) and url.startswith("/api/"):
            assert_error(response, response.status_code)
    assert got == {role: expect.status(role) for role in ROLES}
