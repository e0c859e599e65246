"""The API tier: the application in process (tests/support/app.py), or a real `medama start` for e2e modules.

A module that needs the real process (its log, raw socket bytes, restarts, flags such as -demo) declares
`pytestmark = pytest.mark.e2e`, and then `client` and `anonymous` talk to its `shared_server`.
Every other module runs against the same ASGI stack in process, with no socket.
"""

from __future__ import annotations

import itertools
from contextlib import closing
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.app import another_client, app_client, log_in
from tests.support.server import logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from litestar.testing import TestClient

    from tests.support.server import Server

_names = itertools.count()
TRUSTED_LOOPBACK = ("-trustedproxies", "127.0.0.1")


def _is_e2e(request: pytest.FixtureRequest) -> bool:
    marks = getattr(request.module, "pytestmark", [])
    return any(mark.name == "e2e" for mark in (marks if isinstance(marks, list) else [marks]))


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory of the module's server or app; a module overrides it to seed data first."""
    return tmp_path_factory.mktemp("shared") / "data"


@pytest.fixture(scope="module")
def shared_server(shared_data: Path) -> Iterator[Server]:
    """One server per e2e test module, for tests that only add their own uniquely named data.

    The test client on 127.0.0.1 counts as a trusted proxy, so a test can stand for another client with
    its own login-throttle count by sending X-Forwarded-For.
    """
    with running_server(shared_data, *TRUSTED_LOOPBACK) as running:
        yield running


@pytest.fixture(scope="module")
def shared_app(shared_data: Path) -> Iterator[TestClient[Any]]:
    """One in-process application per test module, and its first client."""
    with app_client(shared_data, trustedproxies=TRUSTED_LOOPBACK[1]) as running:
        yield running


@pytest.fixture(scope="module")
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """The default admin, logged in (one session per module: don't log it out)."""
    if _is_e2e(request):
        with closing(logged_in_client(request.getfixturevalue("shared_server"))) as logged_in:
            yield logged_in
        return
    app: TestClient[Any] = request.getfixturevalue("shared_app")
    log_in(app)
    yield app


@pytest.fixture
def anonymous(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A client without a session cookie."""
    if _is_e2e(request):
        server: Server = request.getfixturevalue("shared_server")
        with httpx.Client(base_url=server.base_url, timeout=10) as plain:
            yield plain
        return
    with another_client(request.getfixturevalue("shared_app")) as plain:
        yield plain


@pytest.fixture
def log_in_as(request: pytest.FixtureRequest) -> Iterator[Callable[[str, str], httpx.Client]]:
    """`log_in_as(username, password)`: a new client of the module's server or app with that user's session."""
    opened: list[httpx.Client] = []

    def make(username: str, password: str) -> httpx.Client:
        if _is_e2e(request):
            other = logged_in_client(request.getfixturevalue("shared_server"), username, password)
        else:
            other = another_client(request.getfixturevalue("shared_app"))
            log_in(other, username, password)
        opened.append(other)
        return other

    yield make
    for other in opened:
        other.close()


@pytest.fixture
def unique_host() -> Callable[[str], str]:
    """Hostnames nobody else in the run uses: `unique_host("shop")` → `shop-7.example`."""

    def make(stem: str = "site") -> str:
        return f"{stem}-{next(_names)}.example"

    return make
