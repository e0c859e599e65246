"""`python -m medama_py` runs the CLI."""

from __future__ import annotations

from medama_py.cli import run

if __name__ == "__main__":
    run()
