# ruff: noqa: T201  (a build script reports to its terminal)
"""Build the one-file executable dist/medama with PyInstaller (`make binary`).

Stamps the git commit into medama_py/_build_commit.txt (read by medama_py.version, so it shows in
`medama version` and X-Api-Commit), runs packaging/medama.spec, removes the stamp again so the
working tree stays clean, then checks that the binary starts and reports the stamped commit.

The default output is PyInstaller's one-folder build packed into one self-extracting file
(packaging/launcher.sh + a gzip'd tar): it unpacks once per build into a cache directory and then
starts as one process in well under a second. `--onefile` builds PyInstaller's own one-file mode
instead, which unpacks ~200 MB into a new temp directory at every start and runs the server as a
child of a bootloader process (see bench/binary.py for the numbers). `--onedir` stops at the
one-folder build, written to dist/medama/ (the Docker image ships that as /app/bin).

MEDAMA_COMMIT overrides the commit (Docker builds have no .git directory).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from medama_py import __version__

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "medama.spec"
LAUNCHER = ROOT / "packaging" / "launcher.sh"
STAMP = ROOT / "medama_py" / "_build_commit.txt"
STATIC = ROOT / "medama_py" / "static"
TRACKER_SCRIPTS = ("default.js", "click-events.js", "page-events.js", "click-events.page-events.js")


def git_commit() -> str:
    """Return MEDAMA_COMMIT, else the short hash of HEAD, else "development"."""
    override = os.environ.get("MEDAMA_COMMIT", "").strip()
    if override:
        return override
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607  (git from PATH, fixed arguments)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "development"
    return result.stdout.strip() or "development"


def missing_assets() -> list[str]:
    """Assets the full product serves that are not built yet (the binary would fall back to placeholders)."""
    missing = [f"static/scripts/{name}" for name in TRACKER_SCRIPTS if not (STATIC / "scripts" / name).is_file()]
    if not (STATIC / "dashboard" / "index.html").is_file():
        missing.append("static/dashboard/index.html (run `make dashboard`)")
    return missing


def run_pyinstaller(dist: Path, work: Path, *, onefile: bool, clean: bool) -> None:
    """Run PyInstaller on the spec; raise CalledProcessError if it fails."""
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    command += ["--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    if clean:
        command.insert(3, "--clean")
    env = {**os.environ, "MEDAMA_PYI_ONEFILE": "1" if onefile else "0"}
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603  (our own interpreter and arguments)


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Same bytes for the same build: no owner, no timestamps.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


def tar_gz(folder: Path) -> bytes:
    """The folder's contents as a reproducible gzip'd tar (sorted, no owners or times)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False, filter=_reset)
    # gzip writes its own mtime into the header; zero it as well (bytes 4-7).
    data = bytearray(buffer.getvalue())
    data[4:8] = b"\0\0\0\0"
    return bytes(data)


def launcher_script(build_id: str, template: str) -> bytes:
    """The launcher with its build id and the 1-based offset of the payload that follows it."""
    offset = 0
    while True:
        script = template.replace("@BUILD@", build_id).replace("@PAYLOAD@", str(offset)).encode()
        if offset == len(script) + 1:
            return script
        offset = len(script) + 1


def pack(folder: Path, binary: Path, commit: str) -> None:
    """Write the self-extracting executable: launcher script, then the folder as tar.gz."""
    payload = tar_gz(folder)
    build_id = f"{__version__}-{commit}-{hashlib.sha256(payload).hexdigest()[:12]}"
    script = launcher_script(build_id, LAUNCHER.read_text(encoding="utf-8"))
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name(binary.name + ".partial")
    partial.write_bytes(script + payload)
    partial.chmod(0o755)
    partial.replace(binary)


def _clear_other_layout(target: Path, *, want_folder: bool) -> None:
    # dist/medama is a file (packed, --onefile) or a folder (--onedir); switching modes replaces it.
    if want_folder and target.is_file():
        target.unlink()
    elif not want_folder and target.is_dir():
        shutil.rmtree(target)


def check_binary(binary: Path, commit: str) -> None:
    """Run `binary version` and fail unless it prints the stamped commit."""
    result = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    line = result.stdout.strip()
    if result.returncode != 0 or not line.endswith(f"commit={commit}"):
        raise SystemExit(f"ERROR: {binary} version gave {result.returncode}: {line!r} {result.stderr.strip()!r}")
    print(line)


def main(argv: list[str] | None = None) -> int:
    """Build, verify and report; return the exit code."""
    parser = argparse.ArgumentParser(description="Build dist/medama with PyInstaller.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller work dir")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--onefile", action="store_true", help="PyInstaller's own one-file mode (slower start)")
    mode.add_argument("--onedir", action="store_true", help="leave the one-folder build in DIST/medama/, unpacked")
    parser.add_argument("--clean", action="store_true", help="discard PyInstaller's cache first")
    parser.add_argument("--strict", action="store_true", help="fail if the dashboard or tracker build is missing")
    args = parser.parse_args(argv)

    missing = missing_assets()
    if missing:
        print("WARNING: not built, the binary will serve placeholders: " + ", ".join(missing), file=sys.stderr)
        if args.strict:
            return 1
    commit = git_commit()
    started = time.monotonic()
    binary: Path = args.dist / "medama"
    # The packed file is made from a one-folder build kept next to PyInstaller's work files.
    packed = not (args.onefile or args.onedir)
    pyi_dist = args.work / "dist" if packed else args.dist
    _clear_other_layout(binary, want_folder=args.onedir)
    STAMP.write_text(commit + "\n", encoding="utf-8")
    try:
        run_pyinstaller(pyi_dist, args.work, onefile=args.onefile, clean=args.clean)
    except subprocess.CalledProcessError as exc:
        print(f"ERROR: PyInstaller failed with exit code {exc.returncode}", file=sys.stderr)
        return 1
    finally:
        STAMP.unlink(missing_ok=True)
    shipped = binary  # what a user ships: the one file, or with --onedir the whole folder
    if args.onedir:
        shipped = pyi_dist / "medama"
        binary = shipped / "medama"
    elif packed:
        folder = pyi_dist / "medama"
        pack(folder, binary, commit)
        print(f"one-folder build: {folder} ({folder_size(folder) / 1e6:.0f} MB unpacked)")
    check_binary(binary, commit)
    size = folder_size(shipped) if shipped.is_dir() else shipped.stat().st_size
    kind = "folder" if shipped.is_dir() else "file"
    print(f"built {shipped} ({kind}): {size / 1e6:.1f} MB in {time.monotonic() - started:.0f} s")
    return 0


def folder_size(folder: Path) -> int:
    """Bytes of every regular file under `folder` (symlinks counted once, at their target)."""
    return sum(path.lstat().st_size for path in folder.rglob("*") if not path.is_symlink() and path.is_file())


if __name__ == "__main__":
    sys.exit(main())
