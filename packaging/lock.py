# ruff: noqa: T201  (a build script reports to its terminal)
"""Compile and check the hash-locked requirements (`make lock`, `make upgrade`, `make lock-check`).

Three lock files, compiled by pip-tools from pyproject.toml, every pin with its sha256 hashes:

- requirements/dev.txt: everything (runtime, the dev and binary extras, the build backend, pip and
  pip-tools themselves). `make dev`, `make test`, `make binary` and CI install it.
- requirements/run.txt: the runtime dependencies and the build backend (`make install`, `make run`).
- requirements/binary.txt: run.txt plus PyInstaller (the Docker image's build stage).

dev.txt is compiled first; the other two are compiled against it as a constraint, so a package has
the same version in all three. Each file carries the sha256 of the dependency tables of
pyproject.toml it was compiled from; `check` recomputes it, so a pyproject edit without `make lock`
fails fast and offline. `installed` compares a virtualenv's `pip freeze` with a lock file: the lock,
not whatever PyPI had that day, decided every installed version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK_DIR = ROOT / "requirements"
DEV, RUN, BINARY = (LOCK_DIR / f"{name}.txt" for name in ("dev", "run", "binary"))
DIGEST_PREFIX = "# pyproject-sha256: "
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
# Hashes come from PyPI alone: a machine's extra indexes or local wheel folders must not leak
# into the lock (their files may not exist, or hash differently, anywhere else).
ISOLATED_PIP = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_EXTRA_INDEX_URL": ""}
COMMON_FLAGS = [
    "--quiet",
    "--generate-hashes",
    "--allow-unsafe",  # pin pip and setuptools too: the editable install uses the locked backend
    "--all-build-deps",
    "--strip-extras",
    "--no-emit-index-url",
    "--no-emit-find-links",
    "--index-url=https://pypi.org/simple",
]


def pyproject_digest() -> str:
    """Return the sha256 of what decides the lock: Python range, dependencies, extras, build backend."""
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    project = data.get("project", {})
    relevant = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build-system": data.get("build-system", {}).get("requires", []),
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def pip_compile(output: Path, extra_flags: list[str]) -> None:
    """Run pip-compile for one lock file, with the machine's pip configuration switched off."""
    env = {**os.environ, **ISOLATED_PIP, "CUSTOM_COMPILE_COMMAND": "make lock"}
    command = [sys.executable, "-m", "piptools", "compile", *COMMON_FLAGS, *extra_flags]
    command += [f"--output-file={output.relative_to(ROOT)}", "pyproject.toml"]
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603  (our own interpreter, fixed arguments)


def stamp_digest(lock: Path, digest: str) -> None:
    """Write the pyproject digest line just after pip-compile's header (replacing an older one)."""
    lines = [line for line in lock.read_text(encoding="utf-8").splitlines() if not line.startswith(DIGEST_PREFIX)]
    header_end = next(index for index, line in enumerate(lines) if not line.startswith("#"))
    lines.insert(header_end, f"{DIGEST_PREFIX}{digest}  (checked by `make lock-check`)")
    lines.insert(header_end + 1, "#")
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")


def compile_all(upgrade: bool) -> None:
    """Compile dev.txt (keeping its pins unless upgrading), then run.txt and binary.txt within it."""
    LOCK_DIR.mkdir(exist_ok=True)
    pip_compile(DEV, ["--all-extras", *(["--upgrade"] if upgrade else [])])
    constraint = f"--constraint={DEV.relative_to(ROOT)}"
    for lock in (RUN, BINARY):
        lock.unlink(missing_ok=True)  # always re-derived from dev.txt's pins
    pip_compile(RUN, [constraint])
    pip_compile(BINARY, [constraint, "--extra=binary"])
    digest = pyproject_digest()
    for lock in (DEV, RUN, BINARY):
        stamp_digest(lock, digest)
        print(f"{lock.relative_to(ROOT)}: {len(pins(lock))} pinned packages")


def pins(lock: Path) -> dict[str, str]:
    """Return {normalised name: version} for every pin in a lock file."""
    return parse_pins(lock.read_text(encoding="utf-8"))


def parse_pins(text: str) -> dict[str, str]:
    """Return {normalised name: version} for every `name==version` line (a lock file, `pip freeze`)."""
    found = {}
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def normalise(name: str) -> str:
    """Return a package name in its canonical form (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_digests() -> list[str]:
    """Return a message for each lock file that was not compiled from the current pyproject.toml."""
    digest = pyproject_digest()
    problems = []
    for lock in (DEV, RUN, BINARY):
        if not lock.exists():
            problems.append(f"{lock.relative_to(ROOT)} is missing")
            continue
        stamped = [line for line in lock.read_text(encoding="utf-8").splitlines() if line.startswith(DIGEST_PREFIX)]
        if not stamped or stamped[0].split()[2] != digest:
            problems.append(f"{lock.relative_to(ROOT)} was compiled from a different pyproject.toml")
    return problems


def check_installed(python: str, lock: Path) -> list[str]:
    """Compare a virtualenv's `pip freeze --all` with a lock file, both ways."""
    frozen = subprocess.run(  # noqa: S603  (the virtualenv's interpreter, fixed arguments)
        [python, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = parse_pins(frozen)
    locked = pins(lock)
    problems = [
        f"{name}: locked {version}, installed {installed.get(name, 'nothing')}"
        for name, version in sorted(locked.items())
        if installed.get(name) != version
    ]
    extras = [
        f"{name}=={version} is installed but not in the lock"
        for name, version in sorted(installed.items())
        if name not in locked
    ]
    if os.environ.get("CI") == "true":
        return problems + extras  # CI's virtualenv is fresh: anything extra came from outside the lock
    for extra in extras:  # a developer's virtualenv may keep what an older lock or a hand install added
        print(f"lock: warning: {extra}", file=sys.stderr)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    compile_parser = commands.add_parser("compile", help="recompile the three lock files")
    compile_parser.add_argument("--upgrade", action="store_true", help="move every pin to the newest release")
    commands.add_parser("check", help="fail when pyproject.toml and the lock files disagree")
    installed_parser = commands.add_parser("installed", help="fail when a virtualenv differs from a lock file")
    installed_parser.add_argument("python", help="the virtualenv's python")
    installed_parser.add_argument("lock", type=Path, help="the lock file it was installed from")
    args = parser.parse_args()
    if args.command == "compile":
        compile_all(args.upgrade)
        return 0
    if args.command == "check":
        problems = check_digests()
        hint = "pyproject.toml's dependencies changed: run `make lock` and commit requirements/"
    else:
        problems = check_installed(args.python, args.lock)
        hint = f"the virtualenv differs from {args.lock}: run `make clean dev` for a fresh one"
    for problem in problems:
        print(f"lock: {problem}", file=sys.stderr)
    if problems:
        print(f"lock: {hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
