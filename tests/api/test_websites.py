"""Websites: list, summary, create, get, rename, delete (docs/compatibility.md#websites)."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb
import pytest

from tests.api.helpers import SeedUser, assert_error, seed_data_dir
from tests.support.rows import make_view
from tests.support.server import logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import httpx


# A viewer that owns (and so is granted) one website; admins see every website (docs/accounts.md).
OTHER = SeedUser(
    "user_01h455vb4pex5vsknk084sn0zz", "someone-else", "other-password", websites=("theirs.example",), role="viewer"
)
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data where a viewer already owns `theirs.example`."""
    data = tmp_path_factory.mktemp("websites") / "data"
    seed_data_dir(data, users=[OTHER])
    return data


def hostnames(client: httpx.Client) -> list[str]:
    return [site["hostname"] for site in client.get("/api/websites").json()]


def test_create_list_get(client: httpx.Client, unique_host: Callable[[str], str]) -> None:
    first, second = unique_host("first"), unique_host("second")
    created = client.post("/api/websites", json={"hostname": first})
    assert created.status_code == 201
    assert created.json() == {"hostname": first}
    assert "x-api-commit" not in created.headers
    assert client.post("/api/websites", json={"hostname": second}).status_code == 201
    listed = hostnames(client)
    assert listed.index(first) < listed.index(second)  # insertion order
    assert "theirs.example" in listed  # an admin sees every website
    got = client.get(f"/api/websites/{first}")
    assert got.status_code == 200
    assert got.json() == {"hostname": first}


def test_list_with_summary(client: httpx.Client, unique_host: Callable[[str], str]) -> None:
    host = unique_host("summary")
    client.post("/api/websites", json={"hostname": host})
    for value in ("true", "1", "t", "TRUE", "True"):
        sites = client.get("/api/websites", params={"summary": value}).json()
        assert {"hostname": host, "summary": {"visitors": 0}} in sites
        assert all(set(site) == {"hostname", "summary"} for site in sites)
    for value in ("false", "0", "f", "FALSE"):
        sites = client.get("/api/websites", params={"summary": value}).json()
        assert {"hostname": host} in sites
        assert all(set(site) == {"hostname"} for site in sites)


@pytest.mark.parametrize("value", ["", "yes", "2", "null", "tRuE"])
def test_list_with_invalid_summary_is_400(client: httpx.Client, value: str) -> None:
    assert_error(client.get("/api/websites", params={"summary": value}), 400)


def test_duplicate_is_409_even_across_users(client: httpx.Client, unique_host: Callable[[str], str]) -> None:
    host = unique_host("dup")
    assert client.post("/api/websites", json={"hostname": host}).status_code == 201
    assert_error(client.post("/api/websites", json={"hostname": host}), 409, "website already exists")
    assert_error(client.post("/api/websites", json={"hostname": "theirs.example"}), 409, "website already exists")
    assert hostnames(client).count(host) == 1


@pytest.mark.parametrize(
    "hostname", ["...", "-", "localhost", "EXAMPLE.COM", "a" * 253, "1.2.3.4", "xn--bcher-kva.example"]
)
def test_loose_hostname_rule_accepts(client: httpx.Client, hostname: str) -> None:
    response = client.post("/api/websites", json={"hostname": hostname})
    assert response.status_code == 201, response.text
    assert response.json() == {"hostname": hostname}  # stored as given, no case folding
    assert client.get(f"/api/websites/{hostname}").json() == {"hostname": hostname}
    assert client.delete(f"/api/websites/{hostname}").status_code == 204


@pytest.mark.parametrize(
    "hostname",
    [
        "",
        "a b",
        "a_b.example",
        "example.com:8080",
        "https://example.com",
        "example.com/",
        "bücher.example",
        "a" * 254,
        "exa\u200bmple.com",
        "tab\t.example",
        "new\nline.example",
    ],
)
def test_invalid_hostnames_are_400(client: httpx.Client, hostname: str) -> None:
    before = hostnames(client)
    assert_error(client.post("/api/websites", json={"hostname": hostname}), 400)
    assert hostnames(client) == before


@pytest.mark.parametrize(
    "body", [{}, {"hostname": None}, {"hostname": 42}, {"hostname": ["a.example"]}, [], "a.example"]
)
def test_invalid_create_bodies_are_400(client: httpx.Client, body: object) -> None:
    assert_error(client.post("/api/websites", json=body), 400)


def test_create_needs_json(client: httpx.Client) -> None:
    response = client.post(
        "/api/websites", content=b'{"hostname":"ct.example"}', headers={"Content-Type": "text/plain"}
    )
    assert_error(response, 415)


def test_get_unknown_is_404_and_an_admin_reads_every_website(
    client: httpx.Client, log_in_as: Callable[[str, str], httpx.Client]
) -> None:
    assert_error(client.get("/api/websites/nobody-has-this.example"), 404, "website not found")
    assert client.get("/api/websites/theirs.example").json() == {"hostname": "theirs.example"}
    viewer = log_in_as("someone-else", "other-password")
    assert viewer.get("/api/websites/theirs.example").json() == {"hostname": "theirs.example"}
    assert_error(viewer.get("/api/websites/nobody-has-this.example"), 404, "website not found")


@pytest.mark.parametrize("path", ["a_b.example", "a%20b.example", "%C3%BC.example", "a" * 254, "example.com:80"])
def test_invalid_path_hostnames_are_400(client: httpx.Client, path: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, object] = {"json": {}} if method == "PATCH" else {}
        assert_error(client.request(method, f"/api/websites/{path}", **kwargs), 400)  # type: ignore[arg-type]


def test_rename(client: httpx.Client, unique_host: Callable[[str], str]) -> None:
    old, new = unique_host("old"), unique_host("new")
    client.post("/api/websites", json={"hostname": old})
    response = client.patch(f"/api/websites/{old}", json={"hostname": new})
    assert response.status_code == 200
    assert response.json() == {"hostname": new}
    assert "x-api-commit" not in response.headers
    assert_error(client.get(f"/api/websites/{old}"), 404, "website not found")
    assert client.get(f"/api/websites/{new}").json() == {"hostname": new}
    assert new in hostnames(client)
    assert old not in hostnames(client)


def test_rename_without_a_new_name_keeps_it(client: httpx.Client, unique_host: Callable[[str], str]) -> None:
    host = unique_host("same")
    client.post("/api/websites", json={"hostname": host})
    for body in ({}, {"hostname": host}, {"other": "ignored"}):
        response = client.patch(f"/api/websites/{host}", json=body)
        assert response.status_code == 200
        assert response.json() == {"hostname": host}


def test_rename_errors(client: httpx.Client, unique_host: Callable[[str], str]) -> None:
    mine, taken = unique_host("mine"), unique_host("taken")
    client.post("/api/websites", json={"hostname": mine})
    client.post("/api/websites", json={"hostname": taken})
    assert_error(client.patch(f"/api/websites/{mine}", json={"hostname": taken}), 409, "website already exists")
    assert_error(client.patch(f"/api/websites/{mine}", json={"hostname": "theirs.example"}), 409)
    assert_error(
        client.patch("/api/websites/missing.example", json={"hostname": "x.example"}), 404, "website not found"
    )
    assert_error(client.patch(f"/api/websites/{mine}", json={"hostname": "bad host"}), 400)
    assert_error(client.patch(f"/api/websites/{mine}", json={"hostname": 7}), 400)
    assert_error(client.patch(f"/api/websites/{mine}", content=b"{", headers={"Content-Type": "application/json"}), 400)
    assert mine in hostnames(client)
    assert taken in hostnames(client)


def test_delete(
    client: httpx.Client, log_in_as: Callable[[str, str], httpx.Client], unique_host: Callable[[str], str]
) -> None:
    host = unique_host("delete")
    client.post("/api/websites", json={"hostname": host})
    response = client.delete(f"/api/websites/{host}")
    assert response.status_code == 204
    assert response.content == b""
    assert host not in hostnames(client)
    assert_error(client.delete(f"/api/websites/{host}"), 404, "website not found")
    assert_error(client.delete("/api/websites/never-existed.example"), 404, "website not found")
    # A viewer may not delete or rename even the website it owns; it stays.
    other = log_in_as("someone-else", "other-password")
    assert_error(other.delete("/api/websites/theirs.example"), 403)
    assert_error(other.patch("/api/websites/theirs.example", json={"hostname": "stolen.example"}), 403)
    assert hostnames(other) == ["theirs.example"]


@pytest.mark.e2e  # reads the DuckDB file after the server stopped
def test_analytics_rows_follow_rename_and_delete(tmp_path: Path) -> None:
    data = tmp_path / "data"
    views = [
        make_view(hostname="moving.example", date_created=NOW - timedelta(hours=1), bid="m1"),
        make_view(hostname="moving.example", date_created=NOW - timedelta(hours=2), is_unique_user=False, bid="m2"),
        make_view(hostname="moving.example", date_created=NOW - timedelta(days=2), bid="m3"),
        make_view(hostname="doomed.example", date_created=NOW - timedelta(hours=1), bid="d1"),
        make_view(hostname="kept.example", date_created=NOW - timedelta(hours=1), bid="k1"),
    ]
    events = [("moving.example", "plan", "pro"), ("doomed.example", "plan", "free"), ("kept.example", "a", "b")]
    admin = SeedUser(
        "user_01h455vb4pex5vsknk084sn0ad",
        "admin",
        "CHANGE_ME_ON_FIRST_LOGIN",
        websites=("moving.example", "doomed.example", "kept.example"),
    )
    seed_data_dir(data, users=[admin], views=views, events=events, with_admin=False)
    with running_server(data) as server, closing(logged_in_client(server)) as client:
        summary = client.get("/api/websites", params={"summary": "true"}).json()
        assert summary == [
            {"hostname": "moving.example", "summary": {"visitors": 1}},
            {"hostname": "doomed.example", "summary": {"visitors": 1}},
            {"hostname": "kept.example", "summary": {"visitors": 1}},
        ]
        assert client.patch("/api/websites/moving.example", json={"hostname": "moved.example"}).status_code == 200
        assert client.delete("/api/websites/doomed.example").status_code == 204
        summary = client.get("/api/websites", params={"summary": "true"}).json()
        assert {"hostname": "moved.example", "summary": {"visitors": 1}} in summary
    with duckdb.connect(str(data / "me_analytics.db"), read_only=True) as conn:
        view_rows = conn.execute("SELECT hostname, bid FROM views ORDER BY bid").fetchall()
        event_rows = conn.execute("SELECT group_name, name FROM events ORDER BY group_name").fetchall()
    assert view_rows == [
        ("kept.example", "k1"),
        ("moved.example", "m1"),
        ("moved.example", "m2"),
        ("moved.example", "m3"),
    ]
    assert event_rows == [("kept.example", "a"), ("moved.example", "plan")]
