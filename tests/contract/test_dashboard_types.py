"""dashboard/src/api-types.ts is what openapi-typescript generates from the committed openapi.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # runs npm

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("CI"):
            pytest.fail("npm is required to check the dashboard's API types")
        pytest.skip("npm not installed")
    return npm


def test_dashboard_api_types_match_openapi_yaml() -> None:
    npm = _npm()
    if not (DASHBOARD / "node_modules" / "openapi-typescript").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=DASHBOARD, check=True, timeout=300)
    result = subprocess.run(
        [npm, "run", "--silent", "check-api-types"], cwd=DASHBOARD, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"dashboard/src/api-types.ts is stale: run `make openapi`\n{result.stderr}"
