"""Share links against the real server: publish one website read-only, revoke at once, guess nothing."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.helpers import assert_error
from tests.support.server import running_server

pytestmark = pytest.mark.e2e  # the real `medama start`: logins, sessions and the share throttle by client

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.support.server import Server


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """127.0.0.1 stands for a proxy here, so X-Forwarded-For names other clients of the share throttle."""
    with running_server(tmp_path_factory.mktemp("shares") / "data", "-trustedproxies", "127.0.0.1") as running:
        yield running


def make_link(client: httpx.Client, host: str, **body: object) -> dict[str, object]:
    response = client.post(f"/api/websites/{host}/shares", json=body)
    assert response.status_code == 201, response.text
    link: dict[str, object] = response.json()
    return link


def open_link(anonymous: httpx.Client, slug: object, **body: object) -> httpx.Response:
    return anonymous.post(f"/api/share/{slug}", json=body)


def test_a_link_reads_its_website_only_and_dies_when_revoked(
    client: httpx.Client, anonymous: httpx.Client, unique_host: Callable[[str], str]
) -> None:
    shared, private = unique_host("shared"), unique_host("private")
    for host in (shared, private):
        client.post("/api/websites", json={"hostname": host})
    link = make_link(client, shared)
    slug = str(link["slug"])
    assert len(slug) >= 22  # at least 128 random bits in URL-safe base64
    assert link["path"] == f"/share/{slug}"
    assert link["hasPassword"] is False
    assert "dateExpires" not in link
    page = anonymous.get(f"/share/{slug}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    opened = open_link(anonymous, slug)
    assert opened.status_code == 200
    token = {"X-Share-Token": opened.json()["token"]}
    assert opened.json()["hostname"] == shared
    listed = client.get(f"/api/websites/{shared}/shares").json()
    assert [item["id"] for item in listed] == [link["id"]]
    assert listed[0]["dateLastUsed"] >= listed[0]["dateCreated"]
    # The token reads this website's stats, and nothing else.
    assert anonymous.get(f"/api/website/{shared}/summary", headers=token).status_code == 200
    assert anonymous.get(f"/api/website/{shared}/pages", headers=token).status_code == 200
    assert_error(anonymous.get(f"/api/website/{private}/summary", headers=token), 404, "website not found")
    for method, path in [
        ("GET", "/api/websites"),
        ("GET", f"/api/websites/{shared}"),
        ("GET", "/api/user"),
        ("GET", f"/api/websites/{shared}/shares"),
        ("DELETE", f"/api/websites/{shared}"),
        ("GET", "/api/tenant/settings"),
    ]:
        assert_error(anonymous.request(method, path, headers=token), 401)
    # Revoking: page and token answer 404 from the next request on.
    assert client.delete(f"/api/websites/{shared}/shares/{link['id']}").status_code == 204
    assert anonymous.get(f"/share/{slug}").status_code == 404
    assert_error(anonymous.get(f"/api/website/{shared}/summary", headers=token), 404)
    assert_error(open_link(anonymous, slug), 404)
    assert client.get(f"/api/websites/{shared}/shares").json() == []
    assert_error(client.delete(f"/api/websites/{shared}/shares/{link['id']}"), 404)


def test_password_links_are_throttled_like_login(
    client: httpx.Client, shared_server: Server, unique_host: Callable[[str], str]
) -> None:
    host = unique_host("locked")
    client.post("/api/websites", json={"hostname": host})
    link = make_link(client, host, password="open sesame", expiresIn=3600)
    assert link["hasPassword"] is True
    assert isinstance(link["dateExpires"], int)
    # This visitor is a client of its own through X-Forwarded-For (the module's server trusts 127.0.0.1).
    with httpx.Client(base_url=shared_server.base_url, headers={"X-Forwarded-For": "203.0.113.77"}) as visitor:
        assert_error(open_link(visitor, link["slug"]), 401)
        assert_error(visitor.get(f"/api/website/{host}/summary", headers={"X-Share-Token": "made-up"}), 404)
        right = open_link(visitor, link["slug"], password="open sesame")
        assert right.status_code == 200
        assert right.json()["dateExpires"] <= link["dateExpires"]  # never beyond the link's expiry
        statuses = [open_link(visitor, link["slug"], password=f"guess {n}").status_code for n in range(12)]
        assert statuses[0] == 401
        assert statuses[-1] == 429
        assert_error(open_link(visitor, link["slug"], password="open sesame"), 429)


@pytest.mark.parametrize(
    "body",
    [{"password": "1234"}, {"password": 5}, {"expiresIn": 10}, {"expiresIn": "soon"}, {"expiresIn": 10**12}, []],
)
def test_bad_link_bodies_are_400(client: httpx.Client, unique_host: Callable[[str], str], body: object) -> None:
    host = unique_host("bad-body")
    client.post("/api/websites", json={"hostname": host})
    assert_error(client.post(f"/api/websites/{host}/shares", json=body), 400)


def test_links_of_unknown_websites_are_404(client: httpx.Client) -> None:
    assert_error(client.post("/api/websites/never-was.example/shares", json={}), 404, "website not found")
    assert_error(client.get("/api/websites/never-was.example/shares"), 404, "website not found")
    assert_error(client.delete("/api/websites/never-was.example/shares/share_01h455vb4pex5vsknk084sn02q"), 404)
    assert_error(client.delete("/api/websites/never-was.example/shares/not-an-id"), 400)


GUESSES = [
    "A" * 32,  # well-formed, unknown
    "x",
    "",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "a" * 5000,
    "%F0%9F%92%A9" * 10,
    "slug?with=query",
]


@pytest.mark.parametrize("slug", GUESSES)
def test_guessed_and_malformed_slugs_are_404(anonymous: httpx.Client, slug: str) -> None:
    assert anonymous.get(f"/share/{slug}").status_code == 404
    if slug:
        assert_error(open_link(anonymous, slug), 404)


def test_guesses_take_the_same_time_whatever_their_shape(
    client: httpx.Client, anonymous: httpx.Client, unique_host: Callable[[str], str]
) -> None:
    """Every slug costs one hash and one indexed lookup: no early exit for malformed ones (medians of 80)."""
    host = unique_host("timing")
    client.post("/api/websites", json={"hostname": host})
    real = str(make_link(client, host)["slug"])
    near_miss = real[:-1] + ("A" if real[-1] != "A" else "B")

    slugs = {"near": near_miss, "short": "x", "junk": "%00" * 20}
    times: dict[str, list[float]] = {name: [] for name in slugs}
    for _ in range(80):  # interleaved, so the shared machine's load falls on every kind alike
        for name, slug in slugs.items():
            start = time.perf_counter()
            anonymous.get(f"/share/{slug}")
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    fastest, slowest = min(medians.values()), max(medians.values())
    assert slowest < fastest * 2 + 1.0, medians
