"""The image's HEALTHCHECK script follows the port the server really bound, however it was set.

packaging/docker-healthcheck.sh runs here against the real server (no docker engine needed): the
server writes its bound port to MEDAMA_PORT_FILE, and the script must ask that port even when the
PORT variable it also sees says something else, and must fail once the server has stopped.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.server import free_port, start_server

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[2] / "packaging" / "docker-healthcheck.sh"


def healthcheck(port_file: Path, port_variable: int) -> int:
    env = {**os.environ, "MEDAMA_PORT_FILE": str(port_file), "PORT": str(port_variable)}
    return subprocess.run([str(SCRIPT)], env=env, capture_output=True, timeout=10, check=False).returncode


@pytest.mark.parametrize("port_from_env", [False, True], ids=["-port flag", "PORT with -env"])
def test_healthcheck_asks_the_bound_port(tmp_path: Path, port_from_env: bool) -> None:
    port_file = tmp_path / "data" / "medama.port"
    elsewhere = free_port()  # nothing listens there: asking it would report unhealthy
    server = start_server(tmp_path / "data", env={"MEDAMA_PORT_FILE": str(port_file)}, port_from_env=port_from_env)
    try:
        assert port_file.read_text() == f"{server.port}\n"
        assert healthcheck(port_file, port_variable=elsewhere) == 0
    finally:
        assert server.stop() == 0
    assert not port_file.exists()  # a clean stop removes it
    assert healthcheck(port_file, port_variable=server.port) != 0  # and nothing answers any more


def test_healthcheck_without_a_port_file_asks_the_port_variable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file"
    server = start_server(tmp_path / "data")
    try:
        assert healthcheck(missing, port_variable=server.port) == 0
        assert healthcheck(missing, port_variable=free_port()) != 0
    finally:
        server.stop()


def test_unwritable_port_file_only_warns(tmp_path: Path) -> None:
    port_file = tmp_path / "missing-dir" / "medama.port"
    server = start_server(tmp_path / "data", env={"MEDAMA_PORT_FILE": str(port_file)})
    try:
        assert not port_file.exists()
        assert "could not write the port file" in server.log()
    finally:
        assert server.stop() == 0
