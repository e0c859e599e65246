"""Helpers for tests against a real server: seeded data directories, raw HTTP, error-envelope checks."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from argon2 import PasswordHasher

from medama_py.model import Role, User, Website
from medama_py.storage.accounts import set_grants, set_role
from medama_py.storage.analytics import AnalyticsStore
from medama_py.storage.meta import MetaStore
from tests.support.rows import insert_views
from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from tests.support.rows import View


__all__ = [
    "RawResponse",
    "SeedUser",
    "account_state",
    "assert_error",
    "raw_request",
    "seed_data_dir",
]

_HASHER = PasswordHasher(time_cost=1, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16)
SEED_TIME = 1_709_287_200


@dataclass(frozen=True)
class SeedUser:
    user_id: str
    username: str
    password: str
    websites: tuple[str, ...] = ()
    raw_hash: str | None = None  # a stored hash to write verbatim (e.g. a malformed one)
    role: Role = "admin"  # a viewer is also granted the websites it owns (docs/accounts.md)


@dataclass
class _Seed:
    users: list[SeedUser] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    views: list[View] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)


async def _seed_meta(path: Path, seed: _Seed, with_admin: bool) -> None:
    meta = MetaStore(str(path))
    await meta.open()
    try:
        users = list(seed.users)
        if with_admin and await meta.count_users() == 0:
            users.insert(0, SeedUser("user_01h455vb4pex5vsknk084sn0ad", DEFAULT_USERNAME, DEFAULT_PASSWORD))
        for user in users:
            stored = user.raw_hash if user.raw_hash is not None else _HASHER.hash(user.password)
            await meta.create_user(User(user.user_id, user.username, stored, "en", SEED_TIME, SEED_TIME))
            for hostname in user.websites:
                await meta.create_website(Website(hostname, user.user_id, SEED_TIME, SEED_TIME))
            if user.role != "admin":
                await set_role(meta, user.user_id, user.role, SEED_TIME)
                await set_grants(meta, user.user_id, user.websites, SEED_TIME)
        if seed.settings:
            await meta.put_settings(seed.settings, SEED_TIME)
    finally:
        await meta.close()


def seed_data_dir(
    data_dir: Path,
    *,
    users: list[SeedUser] | None = None,
    settings: dict[str, str] | None = None,
    views: list[View] | None = None,
    events: list[tuple[str, str, str]] | None = None,
    with_admin: bool = True,
) -> None:
    """Write meta and analytics files into `data_dir` before a server starts on it.

    The default admin (admin / CHANGE_ME_ON_FIRST_LOGIN) is created first unless `with_admin` is false.
    `views` come from tests/support/rows.py's `make_view`.
    `events` are (group_name, name, value) rows.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    seed = _Seed(list(users or []), dict(settings or {}), list(views or []), list(events or []))
    asyncio.run(_seed_meta(data_dir / "me_meta.db", seed, with_admin))
    analytics = AnalyticsStore(str(data_dir / "me_analytics.db"))
    analytics.open()
    try:
        insert_views(analytics.conn, seed.views)
        for group, name, value in seed.events:
            analytics.conn.execute(
                "INSERT INTO events VALUES ('event_01h455vb4pex5vsknk084sn02q', ?, ?, ?, ?, 'bid')",
                [group, name, value, datetime.now(UTC)],
            )
    finally:
        analytics.close()


def account_state(client: httpx.Client) -> dict[str, object]:
    """What a logged-in user can see of the data: user, websites, tenant settings (to compare before/after)."""
    return {
        "user": client.get("/api/user").json(),
        "websites": client.get("/api/websites").json(),
        "settings": client.get("/api/tenant/settings").json(),
    }


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> None:
    """The one error envelope: JSON `{"error": {"code": status, "message": ...}}`, no traceback."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == status
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    if message is not None:
        assert body["error"]["message"] == message, body


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(port: int, request: bytes, timeout: float = 10) -> RawResponse:
    """Send bytes exactly as given (no client-side path cleaning or header checks) and parse the answer.

    The request should carry `Connection: close`; the response is read until the server closes.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise AssertionError(f"no HTTP response: {data[:200]!r}")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return RawResponse(status, headers, body)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out


def get_request(path: bytes, *headers: bytes, method: bytes = b"GET", body: bytes = b"") -> bytes:
    """A raw HTTP/1.1 request with `Connection: close`."""
    lines = [method + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close", *headers]
    if body or method in (b"POST", b"PATCH", b"PUT"):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
