"""Shared fixtures: a real server on a free loopback port with temp database files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.server import Server, logged_in_client, running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

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
