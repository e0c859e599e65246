"""The Dockerfile builds on any builder and only from pinned inputs (checked without a docker engine).

hadolint (`make lint`) checks its style; this checks our own rules: nothing BuildKit-only (the legacy
builder rejects `COPY --chmod`, and a `# syntax` line makes every build fetch a frontend image), base
images pinned by digest beside a comment naming the tag, Python packages only from the hash lock, and
every file it copies from the context present and not excluded by .dockerignore.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
LINES = DOCKERFILE.splitlines()
BUILDKIT_ONLY = ("--chmod", "--mount", "--link", "--exclude", "--parents", "<<")


def instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_no_frontend_directive_and_nothing_buildkit_only() -> None:
    assert not any(re.match(r"#\s*(syntax|check)\s*=", line, re.IGNORECASE) for line in LINES)
    for instruction in instructions():
        assert not any(option in instruction for option in BUILDKIT_ONLY), instruction


def test_base_images_are_pinned_by_digest_under_a_tag_comment() -> None:
    froms = [index for index, line in enumerate(LINES) if line.startswith("FROM ")]
    assert len(froms) == 2
    for index in froms:
        image = LINES[index].split()[1]
        name, _, digest = image.partition("@sha256:")
        assert re.fullmatch(r"[0-9a-f]{64}", digest), LINES[index]
        assert LINES[index - 1] == f"# Tag: {name}", "the line above a FROM names its tag, for bumping"


def test_python_packages_come_only_from_the_lock() -> None:
    installs = [i for i in instructions() if "pip install" in i]
    assert installs
    for instruction in installs:
        for command in instruction.split("&&"):
            if "pip install" in command:
                locked = "--require-hashes -r requirements/" in command
                assert locked or "--no-deps --no-build-isolation" in command, command


def ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns)


def test_every_copied_path_exists_and_reaches_the_build_context() -> None:
    patterns = [p for p in (ROOT / ".dockerignore").read_text().splitlines() if p and not p.startswith("#")]
    copies = [i.split()[1:-1] for i in instructions() if i.startswith("COPY ") and "--from=" not in i]
    sources = [source for sources in copies for source in sources]
    assert "requirements/binary.txt" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source, patterns), f"{source} is excluded by .dockerignore"


def test_scripts_the_image_runs_keep_their_run_bit_in_git() -> None:
    for script in ("packaging/docker-entrypoint.sh", "packaging/docker-healthcheck.sh"):
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} must be executable (git keeps the bit)"
