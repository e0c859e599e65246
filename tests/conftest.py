"""Shared fixtures (a real server on a free loopback port with temp database files) and the test tiers.

Tiers, by marker: unmarked tests run in process (`make test-fast` runs only these); `e2e` tests start a
subprocess, usually the real server; `browser` tests drive headless Chromium. A test that starts a
subprocess without one of those markers fails, so the fast tier stays fast.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _pytest.mark.expression import Expression  # how pytest itself evaluates -m

import tests.support.examples  # noqa: F401 (registers the "fast" Hypothesis profile `make test-fast` loads)
from tests.support.server import Server, logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    import httpx


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh `medama start` on temp files, stopped with SIGTERM at the end."""
    with running_server(tmp_path / "data") as running:
        yield running


@pytest.fixture
def admin(server: Server) -> Iterator[httpx.Client]:
    """A client logged in as the default admin."""
    # logged_in_client has already sent a request, so the client is open: close it, don't re-enter it.
    client = logged_in_client(server)
    try:
        yield client
    finally:
        client.close()


_SUBPROCESS_MARKERS = ("e2e", "browser")
# Fixtures that start `medama start`: a test using one is e2e without saying so.
_SERVER_FIXTURES = frozenset({"server", "admin", "shared_server", "umami_server"})


# A module whose every test is e2e says so in one line; tests/browser/ marks all of its tests `browser`.
_WHOLE_MODULE_E2E = "\npytestmark = pytest.mark.e2e"
_BROWSER_FOLDER = Path(__file__).parent / "browser"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under a marker expression that deselects them (`make test-fast`), e2e-only modules and the browser folder are
    not even imported: collecting them (schemathesis builds its cases at import) cost ~3 s of every fast run."""
    markexpr = config.option.markexpr
    if not markexpr:
        return None
    expression = Expression.compile(markexpr)
    if collection_path == _BROWSER_FOLDER and not expression.evaluate(_OnlyMarker("browser")):
        return True
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        whole_module_e2e = _WHOLE_MODULE_E2E in collection_path.read_text(encoding="utf-8")
        if whole_module_e2e and not expression.evaluate(_OnlyMarker("e2e")):
            return True
    return None


class _OnlyMarker:
    """A test that carries this one marker, as `-m` sees it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self, name: str, /, **kwargs: str | int | bool | None) -> bool:
        return name == self.marker and not kwargs


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@contextlib.contextmanager
def _subprocesses_need_a_marker(item: pytest.Item) -> Iterator[None]:
    if any(item.get_closest_marker(name) for name in _SUBPROCESS_MARKERS):
        yield
        return
    original = subprocess.Popen.__init__

    def refuse(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{item.nodeid} starts a subprocess: mark it e2e (tests/conftest.py)")

    subprocess.Popen.__init__ = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        subprocess.Popen.__init__ = original  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with _subprocesses_need_a_marker(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with _subprocesses_need_a_marker(item):
        yield
