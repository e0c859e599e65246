"""Access to the vendored data tables in medama_py/data (see its README for origins and licences)."""

from __future__ import annotations

from importlib import resources

__all__ = ["read_data_text"]


def read_data_text(name: str) -> str:
    """Return the UTF-8 text of one vendored data file."""
    return resources.files("medama_py").joinpath("data", name).read_text(encoding="utf-8")
