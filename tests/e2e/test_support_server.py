"""tests/support/server.py: a port taken between free_port() and the bind is replaced, not a failure."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

from tests.support import server as support

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e


def test_a_picked_port_taken_before_the_bind_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("0.0.0.0", 0))  # noqa: S104  (the server binds all interfaces, so must the squatter)
        taken.listen()
        busy = taken.getsockname()[1]
        picks = iter([busy])
        real_free_port = support.free_port
        monkeypatch.setattr(support, "free_port", lambda: next(picks, None) or real_free_port())
        server = support.start_server(tmp_path / "data")
        try:
            assert server.port != busy
        finally:
            assert server.stop() == 0
        with pytest.raises(support.PortTaken):  # a port the caller chose is not swapped behind its back
            support.start_server(tmp_path / "data", port=busy)
