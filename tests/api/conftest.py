"""API tests run against the real `medama start` subprocess (tests/support/server.py)."""

from __future__ import annotations

import itertools
from contextlib import closing
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.server import logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.support.server import Server

_names = itertools.count()
TRUSTED_LOOPBACK = ("-trustedproxies", "127.0.0.1")


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per test module, for tests that only add their own uniquely named data.

    The test client on 127.0.0.1 counts as a trusted proxy, so a test can stand for another client with
    its own login-throttle count by sending X-Forwarded-For.
    """
    with running_server(tmp_path_factory.mktemp("shared") / "data", *TRUSTED_LOOPBACK) as running:
        yield running


@pytest.fixture(scope="module")
def client(shared_server: Server) -> Iterator[httpx.Client]:
    """The default admin, logged in to the module's shared server (one session per module: don't log it out)."""
    with closing(logged_in_client(shared_server)) as logged_in:
        yield logged_in


@pytest.fixture
def anonymous(shared_server: Server) -> Iterator[httpx.Client]:
    """A client without a session cookie."""
    with httpx.Client(base_url=shared_server.base_url, timeout=10) as plain:
        yield plain


@pytest.fixture
def unique_host() -> Callable[[str], str]:
    """Hostnames nobody else in the run uses: `unique_host("shop")` → `shop-7.example`."""

    def make(stem: str = "site") -> str:
        return f"{stem}-{next(_names)}.example"

    return make
