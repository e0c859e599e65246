"""Start the real `medama start` as a subprocess on a free loopback port, for end-to-end tests.

MEDAMA_BIN (e.g. dist/medama) runs the tests against the one-file binary instead of this checkout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "BROWSER_UA",
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "Server",
    "free_port",
    "logged_in_client",
    "register_website",
    "running_server",
    "start_server",
]

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "CHANGE_ME_ON_FIRST_LOGIN"
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def medama_command() -> list[str]:
    """The command that runs medama: MEDAMA_BIN if set, else this checkout's package."""
    binary = os.environ.get("MEDAMA_BIN")
    if binary:
        return [str(Path(binary).resolve())]
    return [sys.executable, "-m", "medama_py"]


@dataclass
class Server:
    """A running `medama start` process and where to reach it."""

    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    extra_args: tuple[str, ...] = field(default=())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def appdb(self) -> Path:
        return self.data_dir / "me_meta.db"

    @property
    def analyticsdb(self) -> Path:
        return self.data_dir / "me_analytics.db"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Send `sig` and wait; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"server did not stop within {timeout}s\n{self.log()}") from None

    def kill(self) -> None:
        """kill -9: the crash case."""
        self.process.kill()
        self.process.wait()


class PortTaken(AssertionError):
    """The chosen port was taken between free_port() and the server's bind."""


def start_server(
    data_dir: Path,
    *args: str,
    port: int | None = None,
    env: dict[str, str] | None = None,
    port_from_env: bool = False,
    ready: Callable[[Server], bool] | None = None,
    timeout: float = 30,
) -> Server:
    """Start medama on `data_dir` and wait until it answers; raise with its log if it does not.

    The port goes in as `-port N`, or with `port_from_env` as `-env` and PORT=N (Medama's two ways).
    A port picked here can be taken by another process before the server binds it (free_port hands
    out ephemeral ports, which every outgoing connection on a busy machine also uses): then a new
    one is picked, at most three times.
    `ready` replaces the default check (GET /openapi.yaml answers 200 over plain HTTP).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            return _start_once(data_dir, args, port or free_port(), env, port_from_env, ready, timeout)
        except PortTaken:
            if port is not None:
                raise  # the caller chose this port: nothing to pick instead
    return _start_once(data_dir, args, port or free_port(), env, port_from_env, ready, timeout)


def _start_once(
    data_dir: Path,
    args: tuple[str, ...],
    port: int,
    env: dict[str, str] | None,
    port_from_env: bool,
    ready: Callable[[Server], bool] | None,
    timeout: float,
) -> Server:
    log_path = data_dir / f"server-{port}-{time.monotonic_ns()}.log"
    env = {**(env or {}), "PORT": str(port)} if port_from_env else env
    command = [
        *medama_command(),
        "start",
        *(["-env"] if port_from_env else ["-port", str(port)]),
        "-appdb",
        str(data_dir / "me_meta.db"),
        "-analyticsdb",
        str(data_dir / "me_analytics.db"),
        *args,
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    server = Server(port, data_dir, process, log_path, tuple(args))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            failure = PortTaken if f"could not start the server on port {port}" in server.log() else AssertionError
            raise failure(f"medama exited with {process.returncode}\n{server.log()}")
        with contextlib.suppress(httpx.HTTPError, OSError):
            if (ready or _answers)(server):
                return server
        time.sleep(0.05)
    server.kill()
    raise AssertionError(f"medama did not answer within {timeout} s\n{server.log()}")


def _answers(server: Server) -> bool:
    return httpx.get(f"{server.base_url}/openapi.yaml", timeout=1).status_code == 200


@contextlib.contextmanager
def running_server(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Context manager: a started server, stopped with SIGTERM afterwards."""
    server = start_server(data_dir, *args, env=env)
    try:
        yield server
    finally:
        server.stop()


def logged_in_client(
    server: Server, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD
) -> httpx.Client:
    """An httpx client holding a fresh `_me_sess` cookie."""
    client = httpx.Client(base_url=server.base_url, timeout=10)
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    if response.status_code != 200:
        client.close()
        raise AssertionError(f"login failed: {response.status_code} {response.text}")
    return client


def register_website(client: httpx.Client, hostname: str) -> None:
    """POST /api/websites, asserting 201."""
    response = client.post("/api/websites", json={"hostname": hostname})
    if response.status_code != 201:
        raise AssertionError(f"could not register {hostname}: {response.status_code} {response.text}")
