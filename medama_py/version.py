"""Version and build commit; the commit is stamped into _build_commit.txt by the binary build."""

from __future__ import annotations

from importlib import resources

from medama_py import __version__

__all__ = ["COMMIT", "VERSION", "version_line"]

VERSION = __version__


def _read_commit() -> str:
    try:
        text = resources.files("medama_py").joinpath("_build_commit.txt").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, OSError):
        return "development"
    return text or "development"


COMMIT = _read_commit()


def version_line() -> str:
    """Return what `medama version` prints."""
    return f"Medama Analytics {VERSION}, commit={COMMIT}"
