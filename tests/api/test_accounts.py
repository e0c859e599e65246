"""/api/users against the real server: an admin manages users, roles and grants; viewers read only their sites."""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.helpers import assert_error
from tests.support.examples import examples
from tests.support.server import logged_in_client

pytestmark = pytest.mark.e2e  # the real `medama start`: logins, sessions and the share throttle by client

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from tests.support.server import Server


def create_viewer(
    client: httpx.Client,
    name: str,
    websites: list[str],
    password: str = "viewer-pass",  # noqa: S107 (a test account)
) -> dict[str, object]:
    response = client.post(
        "/api/users", json={"username": name, "password": password, "role": "viewer", "websites": websites}
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_create_list_get_patch_delete(client: httpx.Client, unique_host: Callable[[str], str]) -> None:
    site = unique_host("granted")
    client.post("/api/websites", json={"hostname": site})
    created = create_viewer(client, "crud-viewer", [site, site])
    assert created["role"] == "viewer"
    assert created["websites"] == [site]  # a repeated grant is one grant
    assert set(created) == {"id", "username", "role", "websites", "dateCreated", "dateUpdated"}
    assert "password" not in str(client.get("/api/users").json())
    assert created in client.get("/api/users").json()
    assert client.get(f"/api/users/{created['id']}").json() == created
    patched = client.patch(f"/api/users/{created['id']}", json={"role": "admin", "websites": []})
    assert patched.status_code == 200
    assert (patched.json()["role"], patched.json()["websites"]) == ("admin", [])
    assert client.delete(f"/api/users/{created['id']}").status_code == 204
    assert_error(client.get(f"/api/users/{created['id']}"), 404, "user not found")
    assert_error(client.delete(f"/api/users/{created['id']}"), 404, "user not found")


def test_duplicate_usernames_are_409(client: httpx.Client) -> None:
    create_viewer(client, "dup-viewer", [])
    body = {"username": "dup-viewer", "password": "another-pass", "role": "admin"}
    assert_error(client.post("/api/users", json=body), 409, "user already exists")
    assert_error(client.post("/api/users", json={**body, "username": "admin"}), 409, "user already exists")


@pytest.mark.parametrize(
    "body",
    [
        {"username": "weak-one", "password": "1234", "role": "viewer"},  # Medama: at least 5 characters
        {"username": "weak-two", "password": "x" * 129, "role": "viewer"},  # and at most 128
        {"username": "ab", "password": "long-enough", "role": "viewer"},
        {"username": "u" * 49, "password": "long-enough", "role": "viewer"},
        {"username": "no-role", "password": "long-enough"},
        {"username": "bad-role", "password": "long-enough", "role": "owner"},
        {"username": "bad-site", "password": "long-enough", "role": "viewer", "websites": ["a b"]},
        {"username": "bad-type", "password": 12345, "role": "viewer"},
        {"username": ["x"], "password": "long-enough", "role": "viewer"},
        [],
        "text",
        None,
    ],
)
def test_bad_bodies_are_400(client: httpx.Client, body: object) -> None:
    assert_error(client.post("/api/users", json=body), 400)


def test_grant_on_an_unknown_website_is_404_and_creates_nothing(client: httpx.Client) -> None:
    body = {"username": "ghost-grant", "password": "long-enough", "role": "viewer", "websites": ["nope.example"]}
    assert_error(client.post("/api/users", json=body), 404, "website not found")
    assert "ghost-grant" not in [u["username"] for u in client.get("/api/users").json()]


def test_bad_ids_are_400_or_404(client: httpx.Client) -> None:
    assert_error(client.get("/api/users/not an id"), 400)
    assert_error(client.get("/api/users/user_01h455vb4pex5vsknk084sn0qq"), 404, "user not found")
    assert_error(client.patch("/api/users/user_01h455vb4pex5vsknk084sn0qq", json={"role": "viewer"}), 404)


def test_the_last_admin_can_be_neither_demoted_nor_deleted(client: httpx.Client, shared_server: Server) -> None:
    admins = [u for u in client.get("/api/users").json() if u["role"] == "admin"]
    assert len(admins) == 1
    only = admins[0]["id"]
    assert_error(client.patch(f"/api/users/{only}", json={"role": "viewer"}), 409)
    assert_error(client.delete(f"/api/users/{only}"), 409)
    assert client.get("/api/user").status_code == 200
    # With a second admin, the first may step down; then the second is the last one.
    second = client.post("/api/users", json={"username": "second-admin", "password": "long-enough", "role": "admin"})
    assert client.patch(f"/api/users/{only}", json={"role": "viewer"}).status_code == 200
    assert_error(client.get("/api/users"), 403)  # the role applies from the next request on
    with closing(logged_in_client(shared_server, "second-admin", "long-enough")) as other:
        assert_error(other.patch(f"/api/users/{second.json()['id']}", json={"role": "viewer"}), 409)
        assert other.patch(f"/api/users/{only}", json={"role": "admin"}).status_code == 200
        assert other.delete(f"/api/users/{second.json()['id']}").status_code == 204  # itself: the first inherits
    assert client.get("/api/users").status_code == 200


def test_a_viewer_reads_only_its_websites_and_changes_only_its_password(
    client: httpx.Client, shared_server: Server, unique_host: Callable[[str], str]
) -> None:
    mine, other = unique_host("viewer-mine"), unique_host("viewer-other")
    for host in (mine, other):
        client.post("/api/websites", json={"hostname": host})
    create_viewer(client, "reader-1", [mine])
    with closing(logged_in_client(shared_server, "reader-1", "viewer-pass")) as viewer:
        assert viewer.get("/api/websites").json() == [{"hostname": mine}]
        assert viewer.get(f"/api/websites/{mine}").status_code == 200
        assert viewer.get(f"/api/website/{mine}/summary").status_code == 200
        # Not granted answers exactly like missing.
        missing = viewer.get("/api/website/never-was.example/summary")
        hidden = viewer.get(f"/api/website/{other}/summary")
        expected = (404, {"error": {"code": 404, "message": "website not found"}})
        assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json()) == expected
        assert_error(viewer.get(f"/api/websites/{other}"), 404, "website not found")
        forbidden: list[tuple[str, str, object]] = [
            ("POST", "/api/websites", {"hostname": unique_host("viewer-new")}),
            ("PATCH", f"/api/websites/{mine}", {"hostname": unique_host("renamed")}),
            ("DELETE", f"/api/websites/{mine}", None),
            ("PATCH", "/api/tenant/settings", {"blockedIPs": []}),
            ("GET", "/api/tenant/settings", None),
            ("GET", "/api/users", None),
            ("POST", "/api/users", {"username": "sneaky", "password": "long-enough", "role": "admin"}),
            ("POST", f"/api/websites/{mine}/shares", {}),
            ("GET", f"/api/websites/{mine}/shares", None),
            ("PATCH", "/api/user", {"username": "renamed-viewer"}),
            ("DELETE", "/api/user", None),
        ]
        for method, path, body in forbidden:
            assert_error(viewer.request(method, path, json=body), 403)
        assert viewer.patch("/api/user", json={"password": "new-viewer-pass"}).status_code == 200
    assert mine in [w["hostname"] for w in client.get("/api/websites").json()]
    with closing(logged_in_client(shared_server, "reader-1", "new-viewer-pass")) as viewer:
        assert viewer.get("/api/user").json()["username"] == "reader-1"


def test_a_password_set_by_an_admin_logs_the_user_out(client: httpx.Client, shared_server: Server) -> None:
    created = create_viewer(client, "reset-me", [])
    with closing(logged_in_client(shared_server, "reset-me", "viewer-pass")) as viewer:
        assert viewer.get("/api/user").status_code == 200
        assert client.patch(f"/api/users/{created['id']}", json={"password": "brand-new"}).status_code == 200
        assert_error(viewer.get("/api/user"), 401)
    with closing(logged_in_client(shared_server, "reset-me", "brand-new")) as viewer:
        assert viewer.get("/api/user").status_code == 200
    # Deleting a user ends its sessions too.
    with closing(logged_in_client(shared_server, "reset-me", "brand-new")) as viewer:
        assert client.delete(f"/api/users/{created['id']}").status_code == 204
        assert_error(viewer.get("/api/user"), 401)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(["username", "password", "role", "websites", "x"]), inner, max_size=5)
        ),
        max_leaves=12,
    )
)
def test_hostile_json_never_5xx(client: httpx.Client, body: object) -> None:
    for response in (
        client.post("/api/users", json=body),
        client.patch("/api/users/user_01h455vb4pex5vsknk084sn0qq", json=body),
        client.post("/api/websites/never-was.example/shares", json=body),
        client.post("/api/share/not-a-slug", json=body),
    ):
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert_error(response, response.status_code)
