"""Contract tests that need a live server share one per module."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.server import Server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("contract") / "data") as running:
        yield running


@pytest.fixture
def anonymous(live_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.base_url, timeout=10) as client:
        yield client
