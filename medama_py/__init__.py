"""medama_py: a self-hosted, cookie-free web analytics server compatible with Medama."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
