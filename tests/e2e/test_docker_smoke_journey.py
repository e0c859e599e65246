"""The HTTP half of `make docker-smoke` (packaging/docker_smoke.py), run against the real server.

The docker half needs an engine; the journey it drives inside the container (login, register a
site, a page view, the summary counting it after a restart on the same files) is checked here on
a local server, so a broken smoke script is found on machines without docker too.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.hits import make_hit
from tests.support.server import running_server

if TYPE_CHECKING:
    from types import ModuleType

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[2] / "packaging" / "docker_smoke.py"


def load_smoke() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docker_smoke", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_smoke_journey_passes_on_a_real_server_and_survives_a_restart(tmp_path: Path) -> None:
    smoke = load_smoke()
    with running_server(tmp_path / "data") as server:
        client = smoke.Client(server.base_url)
        smoke.wait_until_serving(client)
        smoke.record_a_visit(client)
        smoke.check_the_visit_is_counted(client)
    with running_server(tmp_path / "data") as again:
        smoke.check_the_visit_is_counted(smoke.Client(again.base_url))


def test_the_smoke_journey_fails_loudly_on_a_wrong_count_or_step(tmp_path: Path) -> None:
    smoke = load_smoke()
    with running_server(tmp_path / "data") as server:
        client = smoke.Client(server.base_url)
        smoke.record_a_visit(client)
        with pytest.raises(smoke.SmokeFailure, match="expected 201"):
            smoke.record_a_visit(client)  # the site is registered already: the failing step says so
        second = make_hit(b="smoke2", u=f"https://{smoke.HOST}/", r=..., q=True, t=...)
        client.expect(204, "POST", "/api/event/hit", raw=second)
        with pytest.raises(smoke.SmokeFailure, match="should count 1 visitor"):
            smoke.check_the_visit_is_counted(client)


def test_without_an_engine_it_skips_and_says_so() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "medama_py"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/nonexistent"},  # no docker command at all
    )
    assert result.returncode == 0
    assert "docker-smoke: SKIPPED, nothing was tested: the docker command is not installed" in result.stderr
