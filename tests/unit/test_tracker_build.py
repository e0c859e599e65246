"""The committed tracker builds: reproducible from source, within the size budget, and privacy-clean."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # runs the npm build and gzip

ROOT = Path(__file__).resolve().parents[2]
TRACKER = ROOT / "tracker"
DIST = TRACKER / "dist"
SERVED = ROOT / "medama_py" / "static" / "scripts"
VARIANTS = ("default", "click-events", "page-events", "click-events.page-events")
# gzip -9 bytes of Medama's own builds; ours must be smaller, and default at most 700 (issue 5).
MEDAMA_GZIP = {"default": 762, "click-events": 973, "page-events": 887, "click-events.page-events": 1013}
DEFAULT_BUDGET = 700


def _need(tool: str) -> str:
    """The path of `tool`; CI has node and npm, so only a local run may skip without them."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is required to rebuild the tracker")
        pytest.skip(f"{tool} not installed")
    return path


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """tracker/node_modules, installed from package-lock.json (`npm ci`, as `make tracker` does) if missing."""
    modules = TRACKER / "node_modules"
    if not (modules / "terser").is_dir():
        subprocess.run(
            [_need("npm"), "ci", "--no-audit", "--no-fund", "--silent"], cwd=TRACKER, check=True, timeout=300
        )
    return modules


@pytest.fixture(scope="module")
def fresh_build(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four variants built from tracker/src into a temp folder (the tree is left alone)."""
    out = tmp_path_factory.mktemp("tracker-dist")
    subprocess.run(
        [_need("node"), "scripts/build.mjs", "--out", str(out)],
        cwd=TRACKER,
        check=True,
        timeout=120,
        capture_output=True,
    )
    return out


def _gzip_size(data: bytes) -> int:
    """`gzip -9 -n` as the budget is quoted; Python's zlib (within a few bytes) without the tool."""
    tool = shutil.which("gzip")
    if tool:
        return len(subprocess.run([tool, "-9", "-n", "-c"], input=data, capture_output=True, check=True).stdout)
    return len(gzip.compress(data, compresslevel=9, mtime=0))


@pytest.mark.parametrize("variant", VARIANTS)
def test_fresh_build_reproduces_committed_files(fresh_build: Path, variant: str) -> None:
    built = (fresh_build / f"{variant}.js").read_bytes()
    assert (DIST / f"{variant}.js").read_bytes() == built, "tracker/dist is stale: run `make tracker`"
    assert (SERVED / f"{variant}.js").read_bytes() == built, "medama_py/static/scripts is stale: run `make tracker`"


def test_source_type_checks(node_modules: Path) -> None:
    result = subprocess.run(
        [_need("node"), str(node_modules / "typescript" / "bin" / "tsc"), "-p", "."],
        cwd=TRACKER,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", VARIANTS)
def test_output_is_es5(node_modules: Path, variant: str) -> None:
    """ES5 syntax parses in every browser, so an old one never meets a SyntaxError."""
    script = "require('acorn').parse(require('fs').readFileSync(process.argv[1], 'utf8'), {ecmaVersion: 5})"
    result = subprocess.run(
        [_need("node"), "-e", script, str(SERVED / f"{variant}.js")],
        cwd=TRACKER,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variant", VARIANTS)
def test_size_budget(variant: str) -> None:
    size = _gzip_size((SERVED / f"{variant}.js").read_bytes())
    assert size < MEDAMA_GZIP[variant]
    if variant == "default":
        assert size <= DEFAULT_BUDGET


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_cookies_storage_or_fingerprinting_apis(variant: str) -> None:
    code = (SERVED / f"{variant}.js").read_text()
    for api in ("cookie", "localStorage", "sessionStorage", "indexedDB", "canvas", "userAgent", "plugins", "screen"):
        assert api not in code, api


def test_each_variant_carries_only_its_features() -> None:
    code = {variant: (SERVED / f"{variant}.js").read_text() for variant in VARIANTS}
    clicks = {variant for variant in VARIANTS if '"custom"' in code[variant]}
    properties = {variant for variant in VARIANTS if "[data-m\\\\:load]" in code[variant]}
    assert clicks == {"click-events", "click-events.page-events"}
    assert properties == {"page-events", "click-events.page-events"}
    assert all("event/" in text and "sendBeacon" in text for text in code.values())


# /umami/script.js: the tracker for Umami-style snippets (docs/umami.md), budgeted against Umami 3.1's 2,226 B.
UMAMI = "umami"
UMAMI_BUDGET = 1500


def test_umami_tracker_is_reproducible_es5_and_within_budget(fresh_build: Path, node_modules: Path) -> None:
    built = (fresh_build / f"{UMAMI}.js").read_bytes()
    assert (DIST / f"{UMAMI}.js").read_bytes() == built, "tracker/dist is stale: run `make tracker`"
    assert (SERVED / f"{UMAMI}.js").read_bytes() == built, "medama_py/static/scripts is stale: run `make tracker`"
    assert _gzip_size(built) <= UMAMI_BUDGET
    script = "require('acorn').parse(require('fs').readFileSync(process.argv[1], 'utf8'), {ecmaVersion: 5})"
    parsed = subprocess.run(
        [_need("node"), "-e", script, str(SERVED / f"{UMAMI}.js")], cwd=TRACKER, capture_output=True
    )
    assert parsed.returncode == 0, parsed.stderr


def test_umami_tracker_uses_no_cookies_or_storage() -> None:
    code = (SERVED / f"{UMAMI}.js").read_text()
    # Screen size is part of Umami's payload (its `screen` report); nothing identifying beyond it is read.
    for api in ("cookie", "localStorage", "sessionStorage", "indexedDB", "canvas", "userAgent", "plugins"):
        assert api not in code, api
