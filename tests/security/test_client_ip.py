"""Clients cannot choose their address: forwarding headers count only from -trustedproxies (real sockets).

Distinct clients are distinct loopback source addresses (all of 127.0.0.0/8 answers on Linux).
"""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

import duckdb
import httpx
import pytest

from tests.api.helpers import assert_error
from tests.support.hits import make_hit
from tests.support.server import BROWSER_UA, logged_in_client, register_website, running_server

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.server import Server

pytestmark = pytest.mark.e2e  # servers started with proxy and blocking flags

HIT_HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en-GB", "Content-Type": "text/plain"}
BAD_LOGIN = {"username": "admin", "password": "not-the-password"}


def _load(bid: str) -> bytes:
    return make_hit(b=bid, u="https://ip.example/", r=..., q=True)


def client_at(server: Server, source: str, headers: dict[str, str] | None = None) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=server.base_url, transport=transport, headers=headers or {}, timeout=30)


def spoofing_headers(address: str) -> dict[str, str]:
    return {
        "X-Forwarded-For": address,
        "X-Real-IP": address,
        "CF-Connecting-IP": address,
        "X-Client-IP": address,
        "Fastly-Client-IP": address,
        "Forwarded": f"for={address}",
    }


def stored_bids(server: Server) -> list[str]:
    assert server.stop() == 0
    with duckdb.connect(str(server.analyticsdb), read_only=True) as conn:
        return sorted(row[0] for row in conn.execute("SELECT bid FROM views").fetchall())


def test_a_blocked_client_cannot_hide_behind_forwarding_headers(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server, closing(logged_in_client(server)) as admin:
        register_website(admin, "ip.example")
        assert admin.patch("/api/tenant/settings", json={"blockedIPs": ["127.0.0.3"]}).status_code == 200
        with client_at(server, "127.0.0.3", {**HIT_HEADERS, **spoofing_headers("8.8.8.8")}) as blocked:
            assert blocked.post("/api/event/hit", content=_load("spoofed")).status_code == 204
        # ...and nobody can get another client blocked by naming it.
        with client_at(server, "127.0.0.4", {**HIT_HEADERS, **spoofing_headers("127.0.0.3")}) as framing:
            assert framing.post("/api/event/hit", content=_load("framing")).status_code == 204
        assert stored_bids(server) == ["framing"]


def test_the_login_throttle_cannot_be_escaped_by_rotating_headers(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server:
        with client_at(server, "127.0.0.5") as attacker:
            for i in range(10):
                response = attacker.post("/api/auth/login", json=BAD_LOGIN, headers=spoofing_headers(f"198.51.100.{i}"))
                assert_error(response, 401)
            last = attacker.post("/api/auth/login", json=BAD_LOGIN, headers=spoofing_headers("198.51.100.99"))
            assert_error(last, 429)
        with client_at(server, "127.0.0.6") as bystander:
            assert_error(bystander.post("/api/auth/login", json=BAD_LOGIN), 401)


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", "-trustedproxies", "127.0.0.1/32,10.0.0.0/8") as server:
        with client_at(server, "127.0.0.1") as proxy:
            for i in range(10):
                # The left entry is whatever the client sent; the proxies appended the rest.
                chain = {"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.7, 10.1.2.3"}
                assert_error(proxy.post("/api/auth/login", json=BAD_LOGIN, headers=chain), 401)
            chain = {"X-Forwarded-For": "198.51.100.200, 203.0.113.7, 10.1.2.3"}
            assert_error(proxy.post("/api/auth/login", json=BAD_LOGIN, headers=chain), 429)
            # RFC 7239 Forwarded names the same client.
            forwarded = {"Forwarded": 'for="[2001:db8::1]", for=203.0.113.7;proto=https, for=10.1.2.3'}
            assert_error(proxy.post("/api/auth/login", json=BAD_LOGIN, headers=forwarded), 429)
            # Another visitor behind the same proxy is a client of its own.
            other = {"X-Forwarded-For": "203.0.113.7, 203.0.113.8"}
            assert_error(proxy.post("/api/auth/login", json=BAD_LOGIN, headers=other), 401)
        # A peer outside the trusted list is its own client, whatever it writes.
        with client_at(server, "127.0.0.7", {"X-Forwarded-For": "203.0.113.7"}) as direct:
            assert_error(direct.post("/api/auth/login", json=BAD_LOGIN), 401)


def test_trusted_proxies_from_the_environment_with_env(tmp_path: Path) -> None:
    env = {"TRUSTED_PROXIES": "127.0.0.1"}
    with running_server(tmp_path / "data", "-env", env=env) as server, client_at(server, "127.0.0.1") as proxy:

        def login_as(client: str) -> httpx.Response:
            return proxy.post("/api/auth/login", json=BAD_LOGIN, headers={"X-Forwarded-For": client})

        for _ in range(10):
            assert_error(login_as("203.0.113.9"), 401)
        assert_error(login_as("203.0.113.9"), 429)
        assert_error(login_as("203.0.113.10"), 401)
