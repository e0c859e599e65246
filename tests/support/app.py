"""The application in process: the same ASGI stack `medama start` serves (fast path, edge, Litestar), no socket.

For the API tier: whatever needs no real process (signals, restarts, raw bytes on a socket, the server's
log) runs here, much faster than on a subprocess, with the clock passed in.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any

import httpx
from litestar.enums import ScopeType
from litestar.testing import TestClient
from litestar.testing.transport import TestClientTransport

from medama_py.app import create_asgi
from medama_py.clock import system_clock
from medama_py.config import Config
from tests.support.server import DEFAULT_PASSWORD, DEFAULT_USERNAME

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime
    from pathlib import Path

    from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ["another_client", "app_client", "log_in"]

# What a local client looks like to the server: Litestar's test client would say "testclient".
_PEER = ("127.0.0.1", 50000)
# What the e2e tier's httpx clients send, instead of Litestar's "testclient".
_USER_AGENT = f"python-httpx/{httpx.__version__}"


def _from_loopback(app: ASGIApp) -> ASGIApp:
    async def with_peer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            scope["client"] = _PEER
        await app(scope, receive, send)

    return with_peer


@contextlib.contextmanager
def app_client(
    data_dir: Path, *, clock: Callable[[], datetime] = system_clock, **config: Any
) -> Iterator[TestClient[Any]]:
    """A client of the app on `data_dir`'s databases; the lifespan runs while the block does."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Config(appdb=str(data_dir / "me_meta.db"), analyticsdb=str(data_dir / "me_analytics.db"), **config)
    with warnings.catch_warnings():
        # Litestar's notices about handler signatures are for the code's authors, not a test failure here;
        # the subprocess tier never sees them either.
        warnings.simplefilter("ignore", DeprecationWarning)
        app = _from_loopback(create_asgi(settings, clock))
    # raise_server_exceptions=False: a failing handler answers 500 with the envelope, as the real server does.
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False, timeout=10) as client:
        client.headers["user-agent"] = _USER_AGENT
        yield client


class _SameApp(httpx.BaseTransport):
    """Requests to an app some TestClient is already running (Litestar's transport is not a full httpx one)."""

    def __init__(self, app: TestClient[Any]) -> None:
        self._transport = TestClientTransport(client=app, raise_server_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)


def another_client(app: TestClient[Any]) -> httpx.Client:
    """One more client of the same running app, with cookies of its own (close it after use)."""
    return httpx.Client(transport=_SameApp(app), base_url=app.base_url, headers={"user-agent": _USER_AGENT}, timeout=10)


def log_in(client: httpx.Client, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD) -> None:
    """Log `client` in; it keeps the `_me_sess` cookie."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    if response.status_code != 200:
        raise AssertionError(f"login failed: {response.status_code} {response.text}")
